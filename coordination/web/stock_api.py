"""The stock JSON API (``/api/stock``): thin — parse, call one service, return its result.

Exports (``format=csv|xlsx``) are served from the same routes as the JSON so
a spreadsheet is always the same data the screen shows.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext as _

from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import ValidationFailed
from ..i18n import current_code
from ..stock import service as stock
from ..stock.exports import gap_report_file, stock_card_file
from ..stock.models import Category, RequestStatus, ResponseLevel, TransferStatus
from ..stock.schemas import (
    AdjustmentIn,
    ApprovalIn,
    ConfirmIn,
    CountIn,
    DepotIn,
    IssueIn,
    ItemIn,
    ReceiptIn,
    ReceiveTransferIn,
    RejectIn,
    RequestIn,
    ReservationIn,
    ShipIn,
    TargetIn,
    TransferIn,
)
from .access import api, principal
from .api import int_arg as _int_arg
from .compress import gzip_json
from .context import current_context
from .jsonbody import body as _body
from .params import enum_arg, flag_arg

bp = Blueprint("stock_api", __name__, url_prefix="/api/stock")

MAX_UPLOAD = 10 * 1024 * 1024
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def format_arg() -> str:
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv", "xlsx"):
        raise ValidationFailed(_("The format must be json, csv or xlsx."))
    return fmt


def _required(name: str) -> str:
    value = (request.args.get(name) or "").strip()
    if not value:
        raise ValidationFailed(_("The parameter %(name)s is required.", name=name))
    return value


def download(content: bytes, fmt: str, stem: str) -> Response:
    resp = Response(content, mimetype=MIMETYPES[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return resp


@bp.route("/depots")
@api(Permission.VIEW_STOCK_CATALOGUE)
def depots() -> Any:
    return jsonify({"depots": stock.list_depots(context=current_context())})


@bp.route("/depots", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def save_depot() -> Any:
    return jsonify(stock.save_depot(context=current_context(),
                                    data=_body(DepotIn), actor=principal().actor)), 201


@bp.route("/items")
@api(Permission.VIEW_STOCK_CATALOGUE)
def items() -> Any:
    return jsonify({"items": stock.list_items(context=current_context())})


@bp.route("/items", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def save_item() -> Any:
    return jsonify(stock.save_item(context=current_context(),
                                   data=_body(ItemIn), actor=principal().actor)), 201


@bp.route("/balances")
@api(Permission.VIEW_STOCK)
def balances() -> Any:
    return jsonify({"balances": stock.balances(context=current_context(),
                                               depot=request.args.get("depot") or None,
                                               item=request.args.get("item") or None)})


@bp.route("/ledger")
@api(Permission.VIEW_STOCK)
def stock_card() -> Any:
    """The stock card of one item at one depot (``format=csv|xlsx`` to download)."""
    fmt = format_arg()
    card = stock.stock_card(context=current_context(),
                            depot=_required("depot"), item=_required("item"))
    if fmt != "json":
        return download(stock_card_file(card, fmt), fmt, f"stock-card-{card['depot']}-"
                                                          f"{card['item']}")
    return jsonify(card)


def gap_options() -> stock.GapOptions:
    return stock.GapOptions(
        level=enum_arg("level", ResponseLevel, ResponseLevel.ANY),
        window_days=_int_arg("window", 30, lo=1, hi=365),
        warn_days=_int_arg("warn_days", 30, lo=1, hi=365),
    )


def _code_arg(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if len(value) > 40:
        raise ValidationFailed(_("The parameter %(name)s has an unknown value.", name=name))
    return value or None


def gap_filter() -> stock.GapFilter:
    """Rows to show: ``depot``, ``item``, ``category``, ``short=1``, ``critical=1``."""
    category = enum_arg("category", Category)
    return stock.GapFilter(depot=_code_arg("depot"), item=_code_arg("item"),
                           category=category.value if category else None,
                           short_only=flag_arg("short"), critical_only=flag_arg("critical"))


GAP_PAGE = 500


@bp.route("/gaps")
@api(Permission.VIEW_STOCK)
def gaps() -> Any:
    """The gap report (填平补齐), as JSON (``page``/``per_page``, 500 rows a page) or as a
    CSV/XLSX download, of the rows asked for."""
    fmt = format_arg()
    report = stock.filtered(stock.gap_report(context=current_context(), options=gap_options()),
                            gap_filter())
    if fmt != "json":  # a download is the whole filtered report, asked for as such
        return download(gap_report_file(report, fmt), fmt, "stock-gaps")
    report = stock.paged(report, _int_arg("page", 1, lo=1, hi=1_000_000),
                         _int_arg("per_page", GAP_PAGE, lo=1, hi=5000))
    # Repetitive JSON: a tenth of it gzipped.
    return gzip_json(jsonify(report), level=1)


@bp.route("/dashboard")
@api(Permission.VIEW_STOCK)
def dashboard() -> Any:
    return jsonify(stock.dashboard(context=current_context(), options=gap_options()))


@bp.route("/receipts", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def receive() -> Any:
    return jsonify(stock.receive_stock(context=current_context(),
                                       data=_body(ReceiptIn), actor=principal().actor)), 201


@bp.route("/issues", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def issue() -> Any:
    return jsonify(stock.issue_stock(context=current_context(),
                                     data=_body(IssueIn), actor=principal().actor)), 201


@bp.route("/adjustments", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def adjust() -> Any:
    return jsonify(stock.adjust_stock(context=current_context(),
                                      data=_body(AdjustmentIn), actor=principal().actor)), 201


@bp.route("/counts", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def count() -> Any:
    return jsonify(stock.count_stock(context=current_context(),
                                     data=_body(CountIn), actor=principal().actor)), 201


@bp.route("/transfers")
@api(Permission.VIEW_STOCK)
def transfers() -> Any:
    status = enum_arg("status", TransferStatus)
    return jsonify({"transfers": stock.list_transfers(context=current_context(), status=status)})


@bp.route("/transfers", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def send_transfer() -> Any:
    return jsonify(stock.send_transfer(context=current_context(),
                                       data=_body(TransferIn), actor=principal().actor)), 201


@bp.route("/transfers/<int:transfer_id>/receive", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def receive_transfer(transfer_id: int) -> Any:
    return jsonify(stock.receive_transfer(context=current_context(),
                                          transfer_id=transfer_id, data=_body(ReceiveTransferIn),
                                          actor=principal().actor))


@bp.route("/targets")
@api(Permission.VIEW_STOCK)
def targets() -> Any:
    return jsonify({"targets": stock.list_targets(context=current_context())})


@bp.route("/targets", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def set_target() -> Any:
    return jsonify(stock.set_target(context=current_context(),
                                    data=_body(TargetIn), actor=principal().actor)), 201


@bp.route("/reservations")
@api(Permission.VIEW_STOCK)
def reservations() -> Any:
    return jsonify({"reservations": stock.list_reservations(context=current_context())})


@bp.route("/reservations", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def reserve() -> Any:
    return jsonify(stock.reserve_stock(context=current_context(),
                                       data=_body(ReservationIn), actor=principal().actor)), 201


@bp.route("/reservations/<int:reservation_id>/release", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def release(reservation_id: int) -> Any:
    return jsonify(stock.release_reservation(context=current_context(),
                                             reservation_id=reservation_id,
                                             actor=principal().actor))


def viewer() -> Any:
    """Requesters without the stock view see only their own requests (pages too)."""
    me = principal()
    return None if allowed(me, Permission.VIEW_STOCK) else me.actor


@bp.route("/requests")
@api(Permission.VIEW_STOCK_CATALOGUE)
def requests_() -> Any:
    status = enum_arg("status", RequestStatus)
    return jsonify({"requests": stock.list_requests(context=current_context(),
                                                    viewer=viewer(), status=status)})


@bp.route("/requests/<int:request_id>")
@api(Permission.VIEW_STOCK_CATALOGUE)
def one_request(request_id: int) -> Any:
    return jsonify(stock.get_request(context=current_context(),
                                     request_id=request_id, viewer=viewer()))


@bp.route("/requests", methods=["POST"])
@api(Permission.REQUEST_STOCK)
def create_request() -> Any:
    return jsonify(stock.create_request(context=current_context(),
                                        data=_body(RequestIn), actor=principal().actor)), 201


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def approve(request_id: int) -> Any:
    return jsonify(stock.approve_request(context=current_context(),
                                         request_id=request_id, data=_body(ApprovalIn),
                                         actor=principal().actor))


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def reject(request_id: int) -> Any:
    return jsonify(stock.reject_request(context=current_context(),
                                        request_id=request_id, data=_body(RejectIn),
                                        actor=principal().actor))


@bp.route("/requests/<int:request_id>/ship", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def ship(request_id: int) -> Any:
    return jsonify(stock.ship_request(context=current_context(),
                                      request_id=request_id, data=_body(ShipIn),
                                      actor=principal().actor))


@bp.route("/requests/<int:request_id>/confirm", methods=["POST"])
@api(Permission.REQUEST_STOCK)
def confirm(request_id: int) -> Any:
    me = principal()
    return jsonify(stock.confirm_request(context=current_context(),
        request_id=request_id, data=_body(ConfirmIn), actor=me.actor,
        may_confirm_any=allowed(me, Permission.MANAGE_STOCK)))


@bp.route("/import", methods=["POST"])
@api(Permission.MANAGE_STOCK)
def import_file() -> Any:
    """Multipart upload: ``file`` (.csv/.xlsx), ``kind`` (count|receipt), optional ``depot``.

    Queues the import as a job and answers 202 with it (``Location`` is where to poll);
    the same file again is a 409 "already imported" (or "already being imported")."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Attach a .csv or .xlsx file as \"file\"."))
    try:
        kind = stock.ImportKind(request.form.get("kind") or "receipt")
    except ValueError:
        raise ValidationFailed(_("The kind must be count or receipt.")) from None
    content = upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed(_("The upload is too large."))
    job = stock.submit_import(context=current_context(),
                              content=content, filename=upload.filename, kind=kind,
                              default_depot=(request.form.get("depot") or "").strip() or None,
                              actor=principal().actor, locale=current_code())
    resp = jsonify(job)
    resp.status_code = 202
    resp.headers["Location"] = url_for("stock_api.import_job", job=job["job"])
    return resp


@bp.route("/import-jobs/<job>")
@api(Permission.MANAGE_STOCK)
def import_job(job: str) -> Any:
    """Where an import job is: status, rows done of the total, problems so far, then
    its result (or every bad row). The import page polls it for its bar."""
    return jsonify(stock.import_job(job_id=job, context=current_context()))


@bp.route("/overview")
@api(Permission.VIEW_STOCK)
def overview() -> Any:
    """What the logistics dashboard shows; stock.js fetches it when stock events arrive."""
    return jsonify(stock.logistics_overview(context=current_context(), options=gap_options()))


@bp.route("/map")
@api(Permission.VIEW_STOCK)
def depot_map() -> Any:
    """Depots as GeoJSON with their stock status, for the live map's depot markers."""
    return jsonify(stock.depot_map(context=current_context(), options=gap_options()))
