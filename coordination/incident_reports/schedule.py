"""The progress-report schedule (进程报告): as often as the active plan's level says.

A plan sets ``reporting.progress_every`` per level. While it is active for an
incident whose initial report has been issued, a progress report is due one
interval after the last report upward (the initial report's issue, or the
latest progress report's drafting): the schedule drafts it, and the operator
reviews and issues it. Time comes from the context's clock, so a drill at 60×
gets its progress reports at drill pace.

Each due report is drafted under a lock on the incident row with the check
repeated inside, so with several serving processes each is drafted once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..contexts import LIVE, context_row
from ..events import Actor
from ..extensions import db, socketio
from ..incidents.models import TERMINAL, Incident
from ..plans.models import ActivationStatus, PlanActivation
from ..plans.schema import Level, Plan
from ..runtime import AppLike
from .models import IncidentReport, ReportKind, ReportStatus
from .service import draft_in

log = logging.getLogger(__name__)
ACTOR = Actor.system("report-schedule")


def _interval(a: PlanActivation) -> timedelta | None:
    return Plan.model_validate(a.snapshot).progress_every(Level(a.level))


def _last_report_at(s: Session, incident_id: int) -> datetime | None:
    """When the incident last reported upward: initial issue or latest progress draft."""
    issued = s.scalar(select(func.min(IncidentReport.issued_at)).where(
        IncidentReport.incident_id == incident_id,
        IncidentReport.kind == ReportKind.INITIAL.value,
        IncidentReport.status == ReportStatus.ISSUED.value))
    if issued is None:
        return None  # no initial report upward yet: the deadline rules, not the schedule
    progress = s.scalar(select(func.max(IncidentReport.drafted_at)).where(
        IncidentReport.incident_id == incident_id,
        IncidentReport.kind == ReportKind.PROGRESS.value))
    return max(issued, progress) if progress is not None else issued


def _schedule_of(s: Session, context: str, incident_id: int
                 ) -> tuple[timedelta, PlanActivation] | None:
    """The shortest interval among the plans active for the incident, with its activation."""
    found = None
    for a in s.scalars(select(PlanActivation).where(
            PlanActivation.context == context, PlanActivation.subject_kind == "incident",
            PlanActivation.subject_ref == str(incident_id),
            PlanActivation.status == ActivationStatus.ACTIVE.value)):
        every = _interval(a)
        if every is not None and (found is None or every < found[0]):
            found = (every, a)
    return found


def next_due(*, context: str = LIVE, incident_id: int) -> dict[str, Any] | None:
    """When the next progress report is due, and which plan and level set the pace."""
    with db.reading() as s:
        sched = _schedule_of(s, context, incident_id)
        if sched is None:
            return None
        every, a = sched
        last = _last_report_at(s, incident_id)
        return {"every_minutes": int(every.total_seconds() // 60), "plan_id": a.plan_id,
                "title_zh": a.snapshot["title"]["zh"], "title_en": a.snapshot["title"]["en"],
                "level": a.level, "last_at": last.isoformat() if last else None,
                "due_at": (last + every).isoformat() if last else None}


def run_due(context: str = LIVE) -> list[int]:
    """Draft every progress report now due in ``context``; returns the new reports' ids."""
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        candidates = sorted({int(ref) for ref in s.scalars(select(PlanActivation.subject_ref)
                             .where(PlanActivation.context == context,
                                    PlanActivation.subject_kind == "incident",
                                    PlanActivation.status == ActivationStatus.ACTIVE.value))
                             if ref.isdigit()})
    drafted = []
    closed = {t.value for t in TERMINAL}
    for incident_id in candidates:
        with db.unit_of_work() as s:
            i = s.get(Incident, incident_id, with_for_update=True)
            if i is None or i.context != context or i.status in closed:
                continue
            sched = _schedule_of(s, context, incident_id)
            last = _last_report_at(s, incident_id)
            if sched is None or last is None or now < last + sched[0]:
                continue
            r = draft_in(s, i, kind=ReportKind.PROGRESS, actor=ACTOR, now=now,
                         trigger="schedule")
            drafted.append(r.id)
    return drafted


def contexts_with_schedules() -> list[str]:
    """Contexts (live and running drills) with an active plan for an incident."""
    with db.reading() as s:
        return sorted(set(s.scalars(select(PlanActivation.context).where(
            PlanActivation.status == ActivationStatus.ACTIVE.value,
            PlanActivation.subject_kind == "incident").distinct())))


def runner(app: AppLike, interval: float = 15.0) -> None:
    """Background loop of a serving process: drafts due progress reports in every context."""
    while True:
        try:
            with app.app_context():
                for context in contexts_with_schedules():
                    run_due(context)
        except Exception:  # a database hiccup must not kill the loop
            log.exception("progress-report schedule failed; retrying")
        socketio.sleep(interval)
