"""Drafting, reviewing and issuing the reports upward, each one unit of work.

Every change goes service → event log → publish after commit. An issued
report is immutable: editing it is refused and a correction is a new version
that supersedes it. Issuing the first initial report stops the reporting
deadline countdown by setting the incident's ``reported_up_at`` clock (if an
operator had not already set it); a deadline missed before then stays the
alert it is today, because nothing here touches ``report_deadline``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..events import append as append_event
from ..extensions import db
from ..incidents.common import AUDIENCE, context_row, incident_row, iso
from ..incidents.models import Case, Incident
from .models import IncidentReport, ReportKind, ReportStatus

SUBJECT = "incident_report"
EDITABLE = ("summary", "measures", "next_steps")


def figures(s: Session, i: Incident) -> dict[str, Any]:
    """What the incident's own rows say: what, where, when found, cases."""
    cases = s.scalars(select(Case).where(Case.incident_id == i.id)).all()
    confirmed = sum(1 for c in cases if c.confirmed)
    return {
        "incident_id": i.id, "type": i.type, "disease": i.disease or "",
        "disease_name": i.disease_name, "address": i.address,
        "lon": i.lon, "lat": i.lat, "found_at": iso(i.found_at),
        "logged_at": iso(i.logged_at), "patients": i.patients,
        "cases_confirmed": confirmed, "cases_suspected": len(cases) - confirmed,
        "status": i.status, "report_deadline": iso(i.report_deadline),
        "deadline_rule": i.deadline_rule, "diagnosed_at": iso(i.diagnosed_at),
        "isolated_at": iso(i.isolated_at), "treated_at": iso(i.treated_at),
    }


def as_dict(r: IncidentReport) -> dict[str, Any]:
    return {
        "id": r.id, "incident_id": r.incident_id, "kind": r.kind, "number": r.number,
        "version": r.version, "status": r.status, "body": r.body,
        "supersedes_id": r.supersedes_id, "drafted_at": iso(r.drafted_at),
        "drafted_by": r.drafted_by, "reviewed_at": iso(r.reviewed_at),
        "reviewed_by": r.reviewed_by, "issued_at": iso(r.issued_at),
        "issued_by": r.issued_by, "issued_role": r.issued_role,
    }


def _record(s: Session, r: IncidentReport, type_: str, actor: Actor) -> None:
    append_event(s, context=r.context, type=type_, actor=actor, audience=AUDIENCE,
                 subject=(SUBJECT, r.id), payload=as_dict(r))


def _report_row(s: Session, report_id: int, context: str) -> IncidentReport:
    r = s.get(IncidentReport, report_id, with_for_update=True)
    if r is None or r.context != context:
        raise NotFound(_l("No such report."))
    return r


def draft(*, context: str = LIVE, incident_id: int, kind: ReportKind, actor: Actor,
          measures: str = "", summary: str = "") -> dict[str, Any]:
    """Draft a report from the incident as it stands now.

    A progress report takes the next number; initial and final reports exist
    once per incident (corrections are versions, see ``correct``).
    """
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        existing = select(func.max(IncidentReport.number)).where(
            IncidentReport.incident_id == i.id, IncidentReport.kind == kind.value)
        top = s.scalar(existing)
        if kind != ReportKind.PROGRESS and top is not None:
            raise Conflict(_l("This incident already has that report; correct it with a new "
                              "version."))
        r = IncidentReport(
            context=context, incident_id=i.id, kind=kind.value,
            number=(top or 0) + 1 if kind == ReportKind.PROGRESS else 1, version=1,
            status=ReportStatus.DRAFT.value,
            body={"figures": figures(s, i), "summary": summary, "measures": measures,
                  "next_steps": ""},
            drafted_at=now, drafted_by=actor.shown)
        s.add(r)
        s.flush()
        _record(s, r, "incident_report.drafted", actor)
        return as_dict(r)


def edit(*, context: str = LIVE, report_id: int, changes: dict[str, str],
         actor: Actor) -> dict[str, Any]:
    """Change a draft's text; a reviewed draft goes back to draft; issued is refused."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(_l("Unknown field: %(name)s", name=", ".join(unknown)))
    with db.unit_of_work() as s:
        r = _report_row(s, report_id, context)
        if r.status == ReportStatus.ISSUED:
            raise Conflict(_l("An issued report cannot be changed; issue a new version."))
        r.body = r.body | {k: str(v)[:20000] for k, v in changes.items()}
        r.status = ReportStatus.DRAFT.value
        r.reviewed_at, r.reviewed_by = None, ""
        _record(s, r, "incident_report.edited", actor)
        return as_dict(r)


def review(*, context: str = LIVE, report_id: int, actor: Actor) -> dict[str, Any]:
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        r = _report_row(s, report_id, context)
        if r.status != ReportStatus.DRAFT:
            raise Conflict(_l("Only a draft can be reviewed."))
        r.status, r.reviewed_at, r.reviewed_by = ReportStatus.REVIEWED.value, now, actor.shown
        _record(s, r, "incident_report.reviewed", actor)
        return as_dict(r)


def issue(*, context: str = LIVE, report_id: int, actor: Actor, role: str) -> dict[str, Any]:
    """Issue a reviewed report under a named person; the first initial one stops the clock."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        r = _report_row(s, report_id, context)
        if r.status != ReportStatus.REVIEWED:
            raise Conflict(_l("A report is reviewed before it is issued."))
        r.status, r.issued_at = ReportStatus.ISSUED.value, now
        r.issued_by, r.issued_role = actor.shown, role
        if r.supersedes_id is not None:
            old = s.get(IncidentReport, r.supersedes_id)
            if old is not None:
                r.body = r.body | {"supersedes_version": old.version}
        i = incident_row(s, r.incident_id, context, lock=True)
        if r.kind == ReportKind.INITIAL and i.reported_up_at is None:
            i.reported_up_at = now
            i.version += 1
        _record(s, r, "incident_report.issued", actor)
        return as_dict(r)


def correct(*, context: str = LIVE, report_id: int, actor: Actor) -> dict[str, Any]:
    """Start a new version of an issued report: a draft that will supersede it."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        r = _report_row(s, report_id, context)
        if r.status != ReportStatus.ISSUED:
            raise Conflict(_l("Only an issued report is corrected with a new version."))
        latest = s.scalar(select(func.max(IncidentReport.version)).where(
            IncidentReport.incident_id == r.incident_id, IncidentReport.kind == r.kind,
            IncidentReport.number == r.number))
        if latest != r.version:
            raise Conflict(_l("A newer version of this report exists."))
        new = IncidentReport(
            context=context, incident_id=r.incident_id, kind=r.kind, number=r.number,
            version=r.version + 1, status=ReportStatus.DRAFT.value, body=dict(r.body),
            supersedes_id=r.id, drafted_at=now, drafted_by=actor.shown)
        s.add(new)
        s.flush()
        _record(s, new, "incident_report.drafted", actor)
        return as_dict(new)


def reports_for(*, context: str = LIVE, incident_id: int) -> list[dict[str, Any]]:
    with db.unit_of_work() as s:
        incident_row(s, incident_id, context)
        rows = s.scalars(select(IncidentReport).where(
            IncidentReport.incident_id == incident_id).order_by(
            IncidentReport.kind, IncidentReport.number, IncidentReport.version)).all()
        return [as_dict(r) for r in rows]
