"""Drafting, reviewing and issuing the reports upward, each one unit of work.

Every change goes service → event log → publish after commit. An issued
report is immutable: editing it is refused and a correction is a new version
that supersedes it. Issuing the first initial report stops the reporting
deadline countdown by setting the incident's ``reported_up_at`` clock (if an
operator had not already set it); a deadline missed before then stays the
alert it is today, because nothing here touches ``report_deadline``.
"""

from __future__ import annotations

from datetime import datetime
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
from ..incidents.models import Assignment, Case, Contact, ContactStatus, Incident
from ..plans.models import ActivationStatus, PlanActivation
from .models import IncidentReport, ReportKind, ReportStatus

SUBJECT = "incident_report"
EDITABLE = ("summary", "measures", "next_steps")
# The figures a progress report compares with the previous report ("what changed").
COMPARED = ("status", "patients", "cases_confirmed", "cases_suspected", "contacts",
            "contacts_isolated", "contacts_released", "units_dispatched", "diagnosed_at",
            "isolated_at", "treated_at", "reported_up_at", "plan_level")


def _plans(s: Session, i: Incident) -> list[dict[str, Any]]:
    rows = s.scalars(select(PlanActivation).where(
        PlanActivation.context == i.context, PlanActivation.subject_kind == "incident",
        PlanActivation.subject_ref == str(i.id)).order_by(PlanActivation.id)).all()
    return [{"id": a.id, "plan_id": a.plan_id, "title_zh": a.snapshot["title"]["zh"],
             "title_en": a.snapshot["title"]["en"], "level": a.level, "status": a.status,
             "activated_at": iso(a.activated_at), "stood_down_at": iso(a.stood_down_at)}
            for a in rows]


def figures(s: Session, i: Incident) -> dict[str, Any]:
    """What the incident's own rows say: what, where, when found, cases, measures taken.

    The measures the system knows of (units sent, contacts traced and isolated, plans
    activated, the clocks) are figures too, so a report never restates them from memory.
    """
    cases = s.scalars(select(Case).where(Case.incident_id == i.id)).all()
    confirmed = sum(1 for c in cases if c.confirmed)
    contacts = s.scalars(select(Contact.status).where(Contact.incident_id == i.id)).all()
    units = s.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.incident_id == i.id)) or 0
    plans = _plans(s, i)
    active = [p for p in plans if p["status"] == ActivationStatus.ACTIVE.value]
    return {
        "incident_id": i.id, "type": i.type, "disease": i.disease or "",
        "disease_name": i.disease_name, "address": i.address,
        "lon": i.lon, "lat": i.lat, "found_at": iso(i.found_at),
        "logged_at": iso(i.logged_at), "patients": i.patients,
        "cases_confirmed": confirmed, "cases_suspected": len(cases) - confirmed,
        "status": i.status, "report_deadline": iso(i.report_deadline),
        "deadline_rule": i.deadline_rule, "diagnosed_at": iso(i.diagnosed_at),
        "isolated_at": iso(i.isolated_at), "treated_at": iso(i.treated_at),
        "reported_up_at": iso(i.reported_up_at),
        "contacts": len(contacts),
        "contacts_isolated": sum(1 for c in contacts if c == ContactStatus.ISOLATED.value),
        "contacts_released": sum(1 for c in contacts if c == ContactStatus.RELEASED.value),
        "units_dispatched": int(units), "plans": plans,
        "plan_level": active[-1]["level"] if active else None,
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The compared figures that differ between two reports, in a fixed order."""
    return [{"field": k, "before": before.get(k), "after": after.get(k)}
            for k in COMPARED if before.get(k) != after.get(k)]


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


def _previous(s: Session, incident_id: int) -> IncidentReport | None:
    """The latest version of the latest report before a new one: what it is compared with."""
    return s.scalars(select(IncidentReport).where(
        IncidentReport.incident_id == incident_id,
        IncidentReport.kind != ReportKind.FINAL.value).order_by(
        IncidentReport.drafted_at.desc(), IncidentReport.id.desc()).limit(1)).first()


def draft_in(s: Session, i: Incident, *, kind: ReportKind, actor: Actor, now: datetime,
             measures: str = "", summary: str = "", trigger: str = "on_demand"
             ) -> IncidentReport:
    """Draft a report in the caller's transaction (logging, the schedule, a close).

    A progress report takes the next number and lists what changed since the
    previous report; initial and final reports exist once per incident
    (corrections are versions, see ``correct``).
    """
    top = s.scalar(select(func.max(IncidentReport.number)).where(
        IncidentReport.incident_id == i.id, IncidentReport.kind == kind.value))
    if kind != ReportKind.PROGRESS and top is not None:
        raise Conflict(_l("This incident already has that report; correct it with a new "
                          "version."))
    now_figures = figures(s, i)
    body: dict[str, Any] = {"figures": now_figures, "summary": summary, "measures": measures,
                            "next_steps": "", "trigger": trigger}
    if kind != ReportKind.INITIAL:
        prev = _previous(s, i.id)
        if prev is not None:
            body["since"] = {"report_id": prev.id, "kind": prev.kind, "number": prev.number,
                             "version": prev.version, "drafted_at": iso(prev.drafted_at)}
            body["changes"] = changes(prev.body.get("figures", {}), now_figures)
        else:
            body["since"] = None
            body["changes"] = []
    r = IncidentReport(
        context=i.context, incident_id=i.id, kind=kind.value,
        number=(top or 0) + 1 if kind == ReportKind.PROGRESS else 1, version=1,
        status=ReportStatus.DRAFT.value, body=body, drafted_at=now, drafted_by=actor.shown)
    s.add(r)
    s.flush()
    _record(s, r, "incident_report.drafted", actor)
    return r


def draft_initial_on_logging(s: Session, i: Incident, *, actor: Actor, now: datetime) -> None:
    """The initial report drafted the moment an incident that must be reported is logged."""
    if i.report_deadline is not None:
        draft_in(s, i, kind=ReportKind.INITIAL, actor=actor, now=now, trigger="logged")


def draft_final_on_close(s: Session, i: Incident, *, actor: Actor, now: datetime,
                         trigger: str) -> None:
    """The final report drafted at stand-down or close, once, if an initial one exists."""
    kinds = set(s.scalars(select(IncidentReport.kind).where(
        IncidentReport.incident_id == i.id)))
    if ReportKind.INITIAL.value in kinds and ReportKind.FINAL.value not in kinds:
        draft_in(s, i, kind=ReportKind.FINAL, actor=actor, now=now, trigger=trigger)


def draft(*, context: str = LIVE, incident_id: int, kind: ReportKind, actor: Actor,
          measures: str = "", summary: str = "") -> dict[str, Any]:
    """Draft a report from the incident as it stands now (on demand)."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        return as_dict(draft_in(s, i, kind=kind, actor=actor, now=now, measures=measures,
                                summary=summary))


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


def get_report(*, context: str = LIVE, report_id: int) -> dict[str, Any]:
    """One version with its siblings (every version of the same report) and its incident."""
    with db.reading() as s:
        r = s.get(IncidentReport, report_id)
        if r is None or r.context != context:
            raise NotFound(_l("No such report."))
        i = incident_row(s, r.incident_id, context)
        versions = s.scalars(select(IncidentReport).where(
            IncidentReport.incident_id == r.incident_id, IncidentReport.kind == r.kind,
            IncidentReport.number == r.number).order_by(IncidentReport.version)).all()
        latest = versions[-1].id if versions else r.id
        # What a CAP update references: the reports issued upward before this one.
        before = s.scalars(select(IncidentReport).where(
            IncidentReport.incident_id == r.incident_id, IncidentReport.id != r.id,
            IncidentReport.status == ReportStatus.ISSUED.value,
            IncidentReport.issued_at <= (r.issued_at or r.drafted_at)).order_by(
            IncidentReport.issued_at, IncidentReport.id)).all()
        return as_dict(r) | {
            "previous": [as_dict(v) for v in before],
            "versions": [as_dict(v) for v in versions], "latest": r.id == latest,
            "incident": {"id": i.id, "type": i.type, "disease": i.disease or "",
                         "disease_name": i.disease_name, "address": i.address,
                         "status": i.status, "lon": i.lon, "lat": i.lat},
        }


def reports_for(*, context: str = LIVE, incident_id: int) -> list[dict[str, Any]]:
    with db.unit_of_work() as s:
        incident_row(s, incident_id, context)
        rows = s.scalars(select(IncidentReport).where(
            IncidentReport.incident_id == incident_id).order_by(
            IncidentReport.kind, IncidentReport.number, IncidentReport.version)).all()
        return [as_dict(r) for r in rows]
