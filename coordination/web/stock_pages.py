"""The stock pages logistics staff work in (``/stock``): thin, like the JSON API.

Each route parses the form, calls one stock service and renders. A refused
form is shown again with the message next to it and every value as typed, with
the service's 4xx status; nothing was changed (each service is one unit of
work). Successful posts redirect (post/redirect/get), so a reload never books a
movement twice.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from pydantic import BaseModel, ValidationError

from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..feed import feed_bootstrap
from ..i18n import current_code
from ..stock import service as stock
from ..stock.exports import CARD_COLUMNS, GAP_COLUMNS, cell, gap_report_file, stock_card_file
from ..stock.models import (
    CATEGORY_LABELS,
    DESTINATION_LABELS,
    ENTRY_LABELS,
    REASON_LABELS,
    REQUEST_LABELS,
    AdjustmentReason,
    Category,
    DestinationKind,
    ResponseLevel,
    TransferStatus,
)
from ..stock.schemas import (
    AdjustmentIn,
    ApprovalIn,
    ConfirmIn,
    CountIn,
    DepotIn,
    IssueIn,
    ItemIn,
    ReceiptIn,
    RejectIn,
    RequestIn,
    ReservationIn,
    ShipIn,
    TargetIn,
    TransferIn,
)
from ..vocab import messages
from .access import page, principal
from .context import current_context
from .stock_api import MAX_UPLOAD, gap_filter
from .stock_api import download as _download
from .stock_api import format_arg as _format
from .stock_api import gap_options as _gap_options
from .stock_api import viewer as _viewer

bp = Blueprint("stock_pages", __name__, url_prefix="/stock")
PAGE_ROWS = 500  # gap report rows on one screen; downloads carry them all

FIELDS = {
    "code": _lp("identifier", "Code"),
    "name_zh": _l("Name (Chinese)"), "name_en": _l("Name (English)"),
    "lon": _l("Longitude"), "lat": _l("Latitude"), "owner": _lp("depot", "Owner"),
    "contact_name": _l("Contact"), "contact_phone": _l("Phone"), "area": _l("Area code"),
    "category": _l("Category"), "unit": _l("Unit of issue"), "pack_size": _l("Pack size"),
    "shelf_life_days": _l("Shelf life (days)"), "depot": _l("Depot"), "item": _l("Item"),
    "lot": _l("Lot"), "expiry": _l("Expiry"), "quantity": _l("Quantity"),
    "counted": _l("Counted"), "reason": _l("Reason"), "note": _l("Note"),
    "destination_kind": _l("Issued to"), "destination_ref": _l("Destination"),
    "from_depot": _l("From depot"), "to_depot": _l("To depot"), "level": _l("Response level"),
    "mode": _l("Target set as"), "days": _l("Days of cover"),
    "incident_ref": _l("Incident"), "lines": _l("Items"), "reservation_id": _l("Reservation"),
}


@bp.app_template_filter("stock_cell")
def stock_cell(key: str, value: Any) -> Any:
    """A report value as the exports write it, so the screen and the file agree cell by cell."""
    return cell(key, value)


def _labels() -> dict[str, dict[str, str]]:
    """Every enum's words, translated once for the templates."""
    return {
        "categories": {str(k): str(v) for k, v in CATEGORY_LABELS.items()},
        "destinations": {str(k): str(v) for k, v in DESTINATION_LABELS.items()},
        "entries": {str(k): str(v) for k, v in ENTRY_LABELS.items()},
        "reasons": {str(k): str(v) for k, v in REASON_LABELS.items()},
        "requests": {str(k): str(v) for k, v in REQUEST_LABELS.items()},
        "levels": {lv.value: lv.value for lv in ResponseLevel if lv.value},
        "warnings": {"expired": _("Expired lot"), "expiring": _("Lot expiring"),
                     "running_out": _("Running out")},
        "transfers": {TransferStatus.IN_TRANSIT.value: _("In transit"),
                      TransferStatus.RECEIVED.value: _("Received")},
    }


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, labels=_labels(), **context), status


# --- form parsing -------------------------------------------------------------------------


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _optional(name: str) -> str | None:
    return _text(name) or None


def _int(name: str, *, required: bool = True) -> int | None:
    """A whole number from the form, or a message naming the field."""
    raw = _text(name).replace(",", "")
    if raw == "":
        if required:
            raise ValidationFailed(_("%(field)s is required.", field=FIELDS.get(name, name)))
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(_("%(field)s: enter a whole number.",
                                 field=FIELDS.get(name, name))) from None


def _float(name: str) -> float:
    try:
        return float(_text(name))
    except ValueError:
        raise ValidationFailed(_("%(field)s: enter a number.",
                                 field=FIELDS.get(name, name))) from None


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """The form's values as the service's input model, or one translated message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"] if not isinstance(p, int)]
        field = FIELDS.get(loc[-1] if loc else "", loc[-1] if loc else "")
        message = messages.BY_TYPE.get(first["type"])
        if message is None:
            if first["type"] == "value_error" and "days" in first["msg"]:
                raise ValidationFailed(_("A days-of-cover target needs the days, a quantity "
                                         "target the quantity.")) from None
            if first["type"] == "value_error" and "once" in first["msg"]:
                raise ValidationFailed(_("Each item may appear once.")) from None
            message = _l("%(field)s is not valid.")
        raise ValidationFailed(str(message) % {"field": field}) from None


# --- dashboard ----------------------------------------------------------------------------


@bp.route("")
@page(Permission.VIEW_STOCK)
def dashboard() -> Any:
    """The logistics dashboard; static/js/stock.js keeps it current over the socket."""
    return _render("stock/dashboard.html", o=stock.logistics_overview(context=current_context()),
                   feed=feed_bootstrap(principal(), context=current_context()))


# --- depots and items ---------------------------------------------------------------------


@bp.route("/depots")
@page(Permission.VIEW_STOCK)
def depots() -> Any:
    return _render("stock/depots.html", depots=stock.list_depots(context=current_context()),
                   values={})


@bp.route("/depots", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def save_depot() -> Any:
    try:
        data = _validated(DepotIn, {
            "code": _text("code"), "name_zh": _text("name_zh"), "name_en": _text("name_en"),
            "lon": _float("lon"), "lat": _float("lat"), "owner": _text("owner"),
            "contact_name": _text("contact_name"), "contact_phone": _text("contact_phone"),
            "area": _optional("area")})
        saved = stock.save_depot(context=current_context(), data=data, actor=principal().actor)
    except CoordinationError as exc:
        return _render("stock/depots.html", exc.status,
                       depots=stock.list_depots(context=current_context()),
                       values=request.form, error=str(exc.message))
    flash(_("Depot %(code)s saved.", code=saved["code"]), "info")
    return redirect(url_for("stock_pages.depot", code=saved["code"]))


@bp.route("/depots/<code>")
@page(Permission.VIEW_STOCK)
def depot(code: str) -> Any:
    return _render("stock/depot.html", d=stock.depot_detail(context=current_context(), code=code))


@bp.route("/items")
@page(Permission.VIEW_STOCK_CATALOGUE)
def items() -> Any:
    return _render("stock/items.html", items=stock.list_items(context=current_context()), values={},
                   categories=list(Category))


@bp.route("/items", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def save_item() -> Any:
    try:
        data = _validated(ItemIn, {
            "code": _text("code"), "name_zh": _text("name_zh"), "name_en": _text("name_en"),
            "category": _text("category"), "unit": _text("unit"),
            "pack_size": _int("pack_size"), "shelf_life_days": _int("shelf_life_days",
                                                                    required=False),
            "critical": request.form.get("critical") == "1"})
        saved = stock.save_item(context=current_context(), data=data, actor=principal().actor)
    except CoordinationError as exc:
        return _render("stock/items.html", exc.status,
                       items=stock.list_items(context=current_context()),
                       values=request.form, error=str(exc.message), categories=list(Category))
    flash(_("Item %(code)s saved.", code=saved["code"]), "info")
    return redirect(url_for("stock_pages.items"))


# --- movements ----------------------------------------------------------------------------


def _movement(kind: str) -> Any:
    """Parse one movement form and call its service; returns the service's result."""
    actor = principal().actor
    if kind == "receive":
        return stock.receive_stock(context=current_context(),
                                   actor=actor, data=_validated(ReceiptIn, {
            "depot": _text("depot"), "item": _text("item"), "lot": _text("lot"),
            "expiry": _optional("expiry"), "quantity": _int("quantity"), "note": _text("note")}))
    if kind == "issue":
        return stock.issue_stock(context=current_context(), actor=actor, data=_validated(IssueIn, {
            "depot": _text("depot"), "item": _text("item"), "lot": _optional("lot"),
            "quantity": _int("quantity"), "destination_kind": _text("destination_kind"),
            "destination_ref": _text("destination_ref"),
            "reservation_id": _int("reservation_id", required=False), "note": _text("note")}))
    if kind == "transfer":
        return stock.send_transfer(context=current_context(),
                                   actor=actor, data=_validated(TransferIn, {
            "from_depot": _text("from_depot"), "to_depot": _text("to_depot"),
            "item": _text("item"), "lot": _optional("lot"), "quantity": _int("quantity"),
            "note": _text("note")}))
    if kind == "adjust":
        return stock.adjust_stock(context=current_context(),
                                  actor=actor, data=_validated(AdjustmentIn, {
            "depot": _text("depot"), "item": _text("item"), "lot": _text("lot"),
            "quantity": _int("quantity"), "reason": _text("reason"), "note": _text("note")}))
    return stock.count_stock(context=current_context(), actor=actor, data=_validated(CountIn, {
        "depot": _text("depot"), "item": _text("item"), "lot": _text("lot"),
        "counted": _int("counted"), "note": _text("note")}))


SAVED = {
    "receive": _l("Receipt booked."), "issue": _l("Issue booked."),
    "transfer": _l("Transfer sent; the stock is in transit."),
    "adjust": _l("Adjustment booked."), "count": _l("Count booked; the book now matches it."),
}


def _move_page(kind: str) -> Any:
    values: Any = request.args
    if request.method == "POST":
        try:
            _movement(kind)
        except CoordinationError as exc:
            return _render("stock/move.html", exc.status, kind=kind, values=request.form,
                           error=str(exc.message),
                           choices=stock.form_choices(context=current_context()),
                           reasons=list(AdjustmentReason), destinations=list(DestinationKind))
        flash(str(SAVED[kind]), "info")
        return redirect(url_for(f"stock_pages.{kind}", depot=_text("depot")
                                or _text("from_depot"), item=_text("item")))
    return _render("stock/move.html", kind=kind, values=values,
                   choices=stock.form_choices(context=current_context()),
                   reasons=list(AdjustmentReason), destinations=list(DestinationKind))


@bp.route("/receive", methods=["GET", "POST"])
@page(Permission.MANAGE_STOCK)
def receive() -> Any:
    return _move_page("receive")


@bp.route("/issue", methods=["GET", "POST"])
@page(Permission.MANAGE_STOCK)
def issue() -> Any:
    return _move_page("issue")


@bp.route("/transfer", methods=["GET", "POST"])
@page(Permission.MANAGE_STOCK)
def transfer() -> Any:
    return _move_page("transfer")


@bp.route("/adjust", methods=["GET", "POST"])
@page(Permission.MANAGE_STOCK)
def adjust() -> Any:
    return _move_page("adjust")


@bp.route("/count", methods=["GET", "POST"])
@page(Permission.MANAGE_STOCK)
def count() -> Any:
    return _move_page("count")


@bp.route("/transfers")
@page(Permission.VIEW_STOCK)
def transfers() -> Any:
    return _render("stock/transfers.html",
                   transfers=stock.list_transfers(context=current_context()))


@bp.route("/transfers/<int:transfer_id>/receive", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def receive_transfer(transfer_id: int) -> Any:
    try:
        stock.receive_transfer(context=current_context(),
                               transfer_id=transfer_id, actor=principal().actor)
    except CoordinationError as exc:
        return _render("stock/transfers.html", exc.status,
                       transfers=stock.list_transfers(context=current_context()),
                       error=str(exc.message))
    flash(_("Transfer %(id)d received.", id=transfer_id), "info")
    return redirect(url_for("stock_pages.transfers"))


# --- targets and reservations --------------------------------------------------------------


def _targets_page(status: int = 200, **extra: Any) -> Any:
    return _render("stock/targets.html", status,
                   targets=stock.list_targets(context=current_context()),
                   reservations=stock.list_reservations(context=current_context()),
                   choices=stock.form_choices(context=current_context()),
                   **({"values": {}, "rvalues": {}} | extra))


@bp.route("/targets")
@page(Permission.VIEW_STOCK)
def targets() -> Any:
    return _targets_page()


@bp.route("/targets", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def set_target() -> Any:
    try:
        mode = _text("mode") or "quantity"
        data = _validated(TargetIn, {
            "depot": _text("depot"), "item": _text("item"), "level": _text("level"),
            "mode": mode, "quantity": _int("quantity") if mode == "quantity" else None,
            "days": _int("days") if mode == "days" else None})
        stock.set_target(context=current_context(), data=data, actor=principal().actor)
    except CoordinationError as exc:
        return _targets_page(exc.status, values=request.form, error=str(exc.message))
    flash(_("Reserve target saved."), "info")
    return redirect(url_for("stock_pages.targets"))


@bp.route("/reservations", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def reserve() -> Any:
    try:
        stock.reserve_stock(context=current_context(),
                            actor=principal().actor, data=_validated(ReservationIn, {
            "depot": _text("depot"), "item": _text("item"), "quantity": _int("quantity"),
            "incident_ref": _text("incident_ref"), "note": _text("note")}))
    except CoordinationError as exc:
        return _targets_page(exc.status, rvalues=request.form, rerror=str(exc.message))
    flash(_("Stock reserved."), "info")
    return redirect(url_for("stock_pages.targets"))


@bp.route("/reservations/<int:reservation_id>/release", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def release(reservation_id: int) -> Any:
    try:
        stock.release_reservation(context=current_context(),
                                  reservation_id=reservation_id, actor=principal().actor)
    except CoordinationError as exc:
        return _targets_page(exc.status, rerror=str(exc.message))
    flash(_("Reservation released."), "info")
    return redirect(url_for("stock_pages.targets"))


# --- reports ------------------------------------------------------------------------------


@bp.route("/gaps")
@page(Permission.VIEW_STOCK)
def gaps() -> Any:
    """The gap report; ``format=xlsx|csv`` downloads every row the filter keeps.

    The screen shows the first ``PAGE_ROWS`` of them: a province's depots times its
    catalogue runs to tens of thousands of rows, more than a browser table serves.
    """
    fmt = _format()
    keep = gap_filter()
    whole = stock.gap_report(context=current_context(), options=_gap_options())
    report = stock.filtered(whole, keep)
    if fmt != "json":
        return _download(gap_report_file(report, fmt), fmt, "stock-gaps")
    return _render("stock/gaps.html", r=report, columns=GAP_COLUMNS,
                   rows=report["rows"][:PAGE_ROWS], args=request.args.to_dict(), keep=keep,
                   choices=stock.filter_choices(whole))


@bp.route("/card")
@page(Permission.VIEW_STOCK)
def card() -> Any:
    """The stock card (bin card) of one item at one depot; ``format=xlsx|csv`` downloads it."""
    fmt = _format()
    depot_code, item_code = _arg("depot"), _arg("item")
    if not depot_code or not item_code:
        return _render("stock/card.html", c=None,
                       choices=stock.form_choices(context=current_context()),
                       columns=CARD_COLUMNS, values=request.args)
    c = stock.stock_card(context=current_context(), depot=depot_code, item=item_code)
    if fmt != "json":
        return _download(stock_card_file(c, fmt), fmt,
                         f"stock-card-{c['depot']}-{c['item']}")
    return _render("stock/card.html", c=c, choices=stock.form_choices(context=current_context()),
                   columns=CARD_COLUMNS,
                   values=request.args)


def _arg(name: str) -> str:
    return (request.args.get(name) or "").strip()


# --- requests -----------------------------------------------------------------------------


@bp.route("/requests")
@page(Permission.VIEW_STOCK_CATALOGUE)
def requests() -> Any:
    return _render("stock/requests.html", requests=stock.list_requests(context=current_context(),
                                                                       viewer=_viewer()))


def _request_lines() -> list[dict[str, Any]]:
    """Item/quantity pairs from the form's rows; blank rows are skipped."""
    lines = []
    for item, qty in zip(request.form.getlist("line_item"), request.form.getlist("line_qty"),
                         strict=False):
        item, qty = item.strip(), qty.strip().replace(",", "")
        if not item and not qty:
            continue
        try:
            number = int(qty)
        except ValueError:
            raise ValidationFailed(_("%(field)s: enter a whole number.",
                                     field=f"{FIELDS['quantity']} ({item or '?'})")) from None
        lines.append({"item": item, "quantity": number})
    return lines


@bp.route("/requests/new", methods=["GET", "POST"])
@page(Permission.REQUEST_STOCK)
def new_request() -> Any:
    if request.method == "POST":
        try:
            created = stock.create_request(context=current_context(),
                                           actor=principal().actor, data=_validated(RequestIn, {
                "destination_kind": _text("destination_kind"),
                "destination_ref": _text("destination_ref"), "depot": _optional("depot"),
                "lines": _request_lines(), "note": _text("note")}))
        except CoordinationError as exc:
            return _render("stock/request_new.html", exc.status, values=request.form,
                           error=str(exc.message),
                           choices=stock.form_choices(context=current_context()),
                           destinations=list(DestinationKind))
        flash(_("Request %(id)d sent.", id=created["id"]), "info")
        return redirect(url_for("stock_pages.one_request", request_id=created["id"]))
    return _render("stock/request_new.html", values={},
                   choices=stock.form_choices(context=current_context()),
                   destinations=list(DestinationKind))


def _request_page(request_id: int, status: int = 200, error: str | None = None) -> Any:
    return _render("stock/request.html", status, r=stock.get_request(context=current_context(),
                                                                     request_id=request_id,
                                                                     viewer=_viewer()),
                   choices=stock.form_choices(context=current_context()), error=error,
                   values=request.form)


@bp.route("/requests/<int:request_id>")
@page(Permission.VIEW_STOCK_CATALOGUE)
def one_request(request_id: int) -> Any:
    return _request_page(request_id)


def _quantities(prefix: str) -> list[dict[str, Any]] | None:
    """Per-item quantities (``<prefix>-<item>`` fields); None when the form sends all."""
    if request.form.get("all") == "1":
        return None
    lines = []
    for key in request.form:
        if key.startswith(prefix + "-"):
            lines.append({"item": key[len(prefix) + 1:], "quantity": _int(key)})
    return lines


def _request_step(request_id: int, step: Any, saved: str) -> Any:
    try:
        step()
    except CoordinationError as exc:
        return _request_page(request_id, exc.status, str(exc.message))
    flash(saved, "info")
    return redirect(url_for("stock_pages.one_request", request_id=request_id))


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def approve(request_id: int) -> Any:
    return _request_step(request_id, lambda: stock.approve_request(context=current_context(),
        request_id=request_id, actor=principal().actor, data=_validated(ApprovalIn, {
            "depot": _text("depot"), "lines": _quantities("approve"), "note": _text("note")})),
        _("Request approved."))


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def reject(request_id: int) -> Any:
    return _request_step(request_id, lambda: stock.reject_request(context=current_context(),
        request_id=request_id, actor=principal().actor,
        data=_validated(RejectIn, {"note": _text("note")})), _("Request rejected."))


@bp.route("/requests/<int:request_id>/ship", methods=["POST"])
@page(Permission.MANAGE_STOCK)
def ship(request_id: int) -> Any:
    return _request_step(request_id, lambda: stock.ship_request(context=current_context(),
        request_id=request_id, actor=principal().actor,
        data=_validated(ShipIn, {"note": _text("note")})), _("Picked and shipped."))


@bp.route("/requests/<int:request_id>/confirm", methods=["POST"])
@page(Permission.REQUEST_STOCK)
def confirm(request_id: int) -> Any:
    me = principal()
    return _request_step(request_id, lambda: stock.confirm_request(context=current_context(),
        request_id=request_id, actor=me.actor, may_confirm_any=allowed(me, Permission.MANAGE_STOCK),
        data=_validated(ConfirmIn, {"lines": _quantities("received"), "note": _text("note")})),
        _("Receipt confirmed."))


# --- import -------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@page(Permission.MANAGE_STOCK)
def import_file() -> Any:
    """Upload counts or receipts: the file is queued as an import job and the browser
    goes to the job's page, which shows its progress live and then the result."""
    depots = stock.list_depots(context=current_context())
    if request.method == "GET":
        return _render("stock/import.html", depots=depots, values={},
                       jobs=_job_rows(stock.recent_imports(context=current_context())))
    running: str | None = None
    try:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed(_("Choose a .csv or .xlsx file."))
        try:
            kind = stock.ImportKind(_text("kind") or "receipt")
        except ValueError:
            raise ValidationFailed(_("The kind must be count or receipt.")) from None
        content = upload.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise ValidationFailed(_("The upload is too large."))
        job = stock.submit_import(context=current_context(),
                                  content=content, filename=upload.filename, kind=kind,
                                  default_depot=_optional("depot"), actor=principal().actor,
                                  locale=current_code())
    except CoordinationError as exc:
        if isinstance(exc.details, dict):
            running = exc.details.get("job")
        return _render("stock/import.html", exc.status, depots=depots, values=request.form,
                       error=str(exc.message), running=running,
                       jobs=_job_rows(stock.recent_imports(context=current_context())))
    return redirect(url_for("stock_pages.import_job", job=job["job"]), 303)


@bp.route("/import/jobs/<job>")
@page(Permission.MANAGE_STOCK)
def import_job(job: str) -> Any:
    """One import job: a live bar while it runs; then what it imported, or every bad row."""
    return _render("stock/import_job.html", job=_job_rows([stock.import_job(
        job_id=job, context=current_context())])[0])


def _job_rows(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs with the words the page shows for their status and kind (never the codes)."""
    status = {"queued": _("Waiting to start"), "running": _("Running"), "done": _("Imported"),
              "rejected": _("Refused: problems in the file"),
              "duplicate": _("Already imported"), "failed": _("Failed")}
    kinds = {"receipt": _("Receipts"), "count": _("Physical counts")}
    return [{**j, "status_label": status.get(j["status"], j["status"]),
             "kind_label": kinds.get(j["params"].get("kind", ""), ""),
             "percent": round(100 * j["rows_done"] / j["rows_total"]) if j["rows_total"] else 0}
            for j in jobs]
