"""Pages of the reports upward: one report (draft editing, review, issue, versions) and
its PDF and DOCX, plus the forms on the incident page that draft one.

Plain HTML forms with CSRF, each calling one service function; every figure and
text is escaped by Jinja (the DOCX and PDF are built from the same stored body).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response as Redirect

from ..auth.principal import allowed
from ..auth.roles import ROLE_LABELS, Permission, Role
from ..errors import CoordinationError, ValidationFailed
from ..incident_reports import exports, labels, schedule
from ..incident_reports import service as reports
from ..incident_reports.models import ReportKind
from ..incident_reports.schemas import ReportEditIn
from .access import page, principal
from .context import current_context
from .report_api import issuer_role
from .reports import html_to_pdf, report_css

bp = Blueprint("report_pages", __name__)


def when(value: str | None) -> str:
    from datetime import datetime

    return format_datetime(datetime.fromisoformat(value), "short") if value else "—"


def _lang() -> str:
    return str(get_locale() or "zh_CN")


def role_text(code: str) -> str:
    """An issuer's role as people read it (a free-text position is shown as written)."""
    words = []
    for part in code.split(","):
        try:
            words.append(str(ROLE_LABELS[Role(part)]))
        except ValueError:
            return code
    return "、".join(words)


def view(report_id: int, *, for_pdf: bool = False) -> str:
    r = reports.get_report(context=current_context(), report_id=report_id)
    me = principal()
    return render_template(
        "incidents/report_print.html" if for_pdf else "incidents/report.html", r=r,
        current_user_name=me.actor.shown, title=labels.title(r), rows=labels.rows(r, when=when),
        changes=labels.change_rows(r, when=when), plans=labels.plan_rows(r, lang=_lang()),
        texts=labels.TEXTS, status=labels.status_label(r["status"]),
        trigger=labels.TRIGGERS.get(r["body"].get("trigger", "")), when=when,
        role_text=role_text, kind_label=labels.kind_label, status_label=labels.status_label,
        can_manage=allowed(me, Permission.MANAGE_INCIDENTS) and not for_pdf,
        for_pdf=for_pdf, css=report_css() if for_pdf else "")


def report_section(incident_id: int) -> dict[str, Any]:
    """The incident page's "Reports upward" card: every version, the schedule, the kinds."""
    ctx = current_context()
    rows = reports.reports_for(context=ctx, incident_id=incident_id)
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        latest[(r["kind"], r["number"])] = r
    have = {r["kind"] for r in rows}
    order = {"initial": 0, "progress": 1, "final": 2}
    shown = sorted(latest.values(), key=lambda r: (order.get(r["kind"], 9), r["number"]))
    sched = schedule.next_due(context=ctx, incident_id=incident_id)
    if sched is not None:
        sched["plan_name"] = sched["title_zh"] if _lang().startswith("zh") else sched["title_en"]
    return {"reports": [r | {"title": labels.title(r), "status_text":
                             labels.status_label(r["status"])} for r in shown],
            "schedule": sched,
            "can_draft": [(k.value, labels.kind_label(k.value)) for k in ReportKind
                          if k == ReportKind.PROGRESS or k.value not in have]}


@bp.route("/reports/<int:report_id>")
@page(Permission.VIEW_INCIDENTS)
def report(report_id: int) -> str:
    return view(report_id)


def _back(report_id: int) -> Redirect:
    return redirect(url_for("report_pages.report", report_id=report_id))


def _run(report_id: int, call: Any, done: str) -> Redirect:
    try:
        made = call()
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        return _back(report_id)
    flash(done, "info")
    return _back(int(made["id"]))


@bp.route("/incidents/<int:incident_id>/reports", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def draft(incident_id: int) -> Redirect:
    raw = request.form.get("kind", "")
    try:
        kind = ReportKind(raw)
        made = reports.draft(context=current_context(), incident_id=incident_id, kind=kind,
                             actor=principal().actor)
    except ValueError:
        flash(_("Choose the kind of report."), "error")
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Report drafted."), "info")
        return _back(int(made["id"]))
    return redirect(url_for("incident_pages.incident", incident_id=incident_id))


@bp.route("/reports/<int:report_id>/edit", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def edit(report_id: int) -> Redirect:
    def call() -> dict[str, Any]:
        try:
            data = ReportEditIn.model_validate(
                {k: request.form[k] for k in labels.TEXTS if k in request.form})
        except ValidationError:
            raise ValidationFailed(_("A text is too long (20,000 characters at most).")) from None
        return reports.edit(context=current_context(), report_id=report_id,
                            changes=data.changes(), actor=principal().actor)

    return _run(report_id, call, _("Draft saved."))


@bp.route("/reports/<int:report_id>/review", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def review(report_id: int) -> Redirect:
    return _run(report_id, lambda: reports.review(
        context=current_context(), report_id=report_id, actor=principal().actor),
        _("Report reviewed."))


@bp.route("/reports/<int:report_id>/issue", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def issue(report_id: int) -> Redirect:
    position = request.form.get("position", "")[:64]
    return _run(report_id, lambda: reports.issue(
        context=current_context(), report_id=report_id, actor=principal().actor,
        role=issuer_role(position)), _("Report issued."))


@bp.route("/reports/<int:report_id>/correct", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def correct(report_id: int) -> Redirect:
    return _run(report_id, lambda: reports.correct(
        context=current_context(), report_id=report_id, actor=principal().actor),
        _("A new version was started; it supersedes the issued one when issued."))


@bp.route("/reports/<int:report_id>.pdf")
@page(Permission.VIEW_INCIDENTS)
def report_pdf(report_id: int) -> Response:
    pdf = html_to_pdf(view(report_id, for_pdf=True), base_url=request.host_url)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="report-{report_id}.pdf"'})


@bp.route("/reports/<int:report_id>.docx")
@page(Permission.VIEW_INCIDENTS)
def report_docx(report_id: int) -> Response:
    r = reports.get_report(context=current_context(), report_id=report_id)
    data = exports.docx(r, when=when, lang=_lang())
    return Response(data, mimetype=("application/vnd.openxmlformats-officedocument."
                                    "wordprocessingml.document"), headers={
        "Content-Disposition": f'attachment; filename="report-{report_id}.docx"'})
