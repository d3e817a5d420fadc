"""The reports upward over JSON: list, draft, edit, review, issue, correct, CAP export.

    GET   /api/incidents/<id>/reports       every version, and the next progress report due
    POST  /api/incidents/<id>/reports       {"kind": "progress", ...} drafts one (201)
    GET   /api/reports/<id>                 one version with its siblings
    POST  /api/reports/<id>/edit            {"summary"|"measures"|"next_steps": ...}
    POST  /api/reports/<id>/review | /issue {"position": ...} | /correct
    GET   /api/reports/<id>/cap             application/cap+xml (CAP 1.2, schema-valid)

Thin: each route parses input, calls one service function and returns its result.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask_babel import get_locale

from ..auth.roles import Permission
from ..incident_reports import exports, schedule
from ..incident_reports import service as reports
from ..incident_reports.schemas import ReportDraftIn, ReportEditIn, ReportIssueIn
from .access import api, principal
from .context import current_context
from .jsonbody import body, optional_object, validated

bp = Blueprint("report_api", __name__, url_prefix="/api")
CAP_MIMETYPE = "application/cap+xml"


def issuer_role(position: str) -> str:
    """What is printed under the issuer's name: the position given, else the role."""
    me = principal()
    return position.strip() or ",".join(sorted(r.value for r in me.roles))[:64]


@bp.route("/incidents/<int:incident_id>/reports")
@api(Permission.VIEW_INCIDENTS)
def list_reports(incident_id: int) -> Any:
    ctx = current_context()
    return jsonify({"reports": reports.reports_for(context=ctx, incident_id=incident_id),
                    "progress_schedule": schedule.next_due(context=ctx,
                                                           incident_id=incident_id)})


@bp.route("/incidents/<int:incident_id>/reports", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def draft_report(incident_id: int) -> Any:
    data: ReportDraftIn = body(ReportDraftIn)
    made = reports.draft(context=current_context(), incident_id=incident_id, kind=data.kind,
                         actor=principal().actor, measures=data.measures,
                         summary=data.summary)
    return jsonify(made), 201


@bp.route("/reports/<int:report_id>")
@api(Permission.VIEW_INCIDENTS)
def get_report(report_id: int) -> Any:
    return jsonify(reports.get_report(context=current_context(), report_id=report_id))


@bp.route("/reports/<int:report_id>/edit", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def edit_report(report_id: int) -> Any:
    data: ReportEditIn = body(ReportEditIn)
    return jsonify(reports.edit(context=current_context(), report_id=report_id,
                                changes=data.changes(), actor=principal().actor))


@bp.route("/reports/<int:report_id>/review", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def review_report(report_id: int) -> Any:
    return jsonify(reports.review(context=current_context(), report_id=report_id,
                                  actor=principal().actor))


@bp.route("/reports/<int:report_id>/issue", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def issue_report(report_id: int) -> Any:
    data: ReportIssueIn = validated(ReportIssueIn, optional_object())
    return jsonify(reports.issue(context=current_context(), report_id=report_id,
                                 actor=principal().actor, role=issuer_role(data.position)))


@bp.route("/reports/<int:report_id>/correct", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def correct_report(report_id: int) -> Any:
    return jsonify(reports.correct(context=current_context(), report_id=report_id,
                                   actor=principal().actor)), 201


@bp.route("/reports/<int:report_id>/cap")
@api(Permission.VIEW_INCIDENTS)
def report_cap(report_id: int) -> Response:
    ctx = current_context()
    r = reports.get_report(context=ctx, report_id=report_id)
    lang = "zh-CN" if str(get_locale() or "zh_CN").startswith("zh") else "en"
    xml = exports.cap_xml(r, context=ctx, lang=lang)
    return Response(xml, mimetype=CAP_MIMETYPE, headers={
        "Content-Disposition": f'inline; filename="report-{report_id}.cap.xml"'})
