"""Activating a plan: the only place activations and their tasks change.

An activation is one transaction: the activation row (plan id, version, file
hash, snapshot), one row per task of the level with its due and acknowledgement
deadlines taken from the context's clock (so a drill at 60x gets drill
deadlines), the liaison-roster task each one is handed to, and the events. The
resource check is read first and recorded with the activation: a shortfall is
shown, never a reason to refuse a response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import events
from ..contexts import LIVE
from ..contexts import context_row as _context
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..incident_reports import service as reports
from ..incidents.models import Incident
from . import recipients, registry, resources, responsible, roster_link
from .models import ActivationStatus, ActivationTask, PlanActivation, SubjectKind
from .schema import LEVEL_ORDER, Level, Phase, Plan, Task, format_offset
from .schemas import ActivationIn, LevelChangeIn, StandDownIn

AUDIENCE = ["role:operator", "role:trainer"]


def _activation(s: Session, activation_id: int, context: str) -> PlanActivation:
    a = s.get(PlanActivation, activation_id)
    if a is None or a.context != context:
        raise NotFound(_l("No such activation."))
    return a


def _check_level(plan: Plan, level: Level) -> None:
    if level not in plan.levels:
        defined = ", ".join(lv.value for lv in plan.levels)
        raise ValidationFailed(_l("The plan %(plan)s does not define level %(level)s "
                                  "(it defines %(defined)s).", plan=plan.id, level=level.value,
                                  defined=defined))


def _routes(s: Session, context: str, plan: Plan, pairs: list[tuple[Phase, Task]],
            choices: dict[str, str], at: datetime) -> dict[str, recipients.Route]:
    """Every task's recipient, or a 409 listing the tasks that would reach nobody."""
    rows = recipients.check(s, context=context, plan=plan, pairs=pairs, at=at)
    return recipients.routes(s, context=context, rows=rows, choices=choices)


def _add_tasks(s: Session, a: PlanActivation, plan: Plan, pairs: list[tuple[Phase, Task]],
               level: Level, actor: Actor, routes: dict[str, recipients.Route]
               ) -> list[ActivationTask]:
    """Create plan tasks (deadlines from activation time) and hand each to its recipient.

    ``routes`` comes from ``_routes``: a task without one is refused, never created.
    """
    created = []
    order = {t.id: n for n, (_p, t) in enumerate(plan.tasks())}
    now = _context(s, a.context).clock().now()
    for phase, task in pairs:
        route = routes.get(task.id)
        if route is None or route.agency is None:
            raise recipients.RecipientsNeeded(_l("The task %(task)s has no recipient.",
                                                 task=task.id))
        role = plan.role(task.owner)
        row = ActivationTask(
            context=a.context, activation_id=a.id, plan_task_id=task.id, phase_id=phase.id,
            position=order[task.id], owner_role=role.id, agency=role.agency,
            title_zh=task.title.zh[:300], title_en=task.title.en[:300],
            added_at_level=level.value, due_at=a.activated_at + task.due,
            ack_due_at=a.activated_at + task.ack, created_at=now,
        )
        s.add(row)
        s.flush()
        row.roster_task_id = roster_link.create_task(
            s, context=a.context, agency=role.agency, role=role.id, task=task, plan=plan,
            incident_ref=a.subject_ref, source_ref=f"plan:{a.id}:{task.id}",
            due_at=row.due_at, ack_deadline=row.ack_due_at, actor=actor,
            holder=route.agency, chain=route.chain, choice=route.choice)
        if row.roster_task_id is None:  # the check above makes this unreachable
            raise recipients.RecipientsNeeded(_l("The task %(task)s has no recipient.",
                                                 task=task.id))
        created.append(row)
    return created


def activate_plan(*, plan_id: str, data: ActivationIn, actor: Actor,
                  context: str = LIVE) -> dict[str, Any]:
    """Activate ``plan_id`` at a level for an incident, zone or event; all or nothing."""
    loaded = registry.get_plan(plan_id, context=context)
    plan = loaded.plan
    assert plan is not None
    _check_level(plan, data.level)
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        key = f"{data.subject_kind.value}:{data.subject_ref}"
        if s.scalar(select(PlanActivation.id).where(
                PlanActivation.context == context, PlanActivation.plan_id == plan.id,
                PlanActivation.active_key == key)) is not None:
            raise Conflict(_l("The plan %(plan)s is already active for %(ref)s; raise or lower "
                              "its level instead.", plan=plan.id, ref=data.subject_ref))
        pairs = plan.tasks_for(data.level)
        routes = _routes(s, context, plan, pairs, data.recipients, now)
        shortfalls = resources.check(s, context, plan.resources_for(data.level))
        a = PlanActivation(
            context=context, plan_id=plan.id, plan_version=plan.version,
            file_hash=loaded.file_hash, snapshot=plan.model_dump(mode="json"),
            level=data.level.value, subject_kind=data.subject_kind.value,
            subject_ref=data.subject_ref, active_key=key, note=data.note,
            status=ActivationStatus.ACTIVE.value,
            level_history=[{"level": data.level.value, "at": now.isoformat(),
                            "by": actor.name, "reason": data.note}],
            shortfalls=shortfalls, activated_at=now, activated_by=actor.name,
        )
        s.add(a)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict(_l("The plan %(plan)s is already active for %(ref)s.",
                              plan=plan.id, ref=data.subject_ref)) from None
        tasks = _add_tasks(s, a, plan, pairs, data.level, actor, routes)
        notified = [plan.role(r).agency for r in plan.notify]
        body = _summary(a) | {"tasks": len(tasks), "short": shortfalls["short"],
                              "notified": notified,
                              "redirected": {k: r.choice for k, r in routes.items()
                                             if r.choice}}
        events.append(s, context=context, type="plan.activated", actor=actor,
                      audience=AUDIENCE, subject=("plan_activation", a.id), payload=body)
        roster_link.notify(s, context=context, agencies=notified, activation=a, plan=plan,
                           actor=actor)
        return body


def change_level(*, activation_id: int, data: LevelChangeIn, actor: Actor,
                 context: str = LIVE) -> dict[str, Any]:
    """Raise or lower the level: the new level's missing tasks are added, none removed.

    Tasks of a higher level stay after lowering (they are shown as beyond the
    current level) so nothing in progress silently disappears.
    """
    with db.unit_of_work() as s:
        a = _activation(s, activation_id, context)
        if a.status != ActivationStatus.ACTIVE.value:
            raise Conflict(_l("This activation has been stood down."))
        plan = Plan.model_validate(a.snapshot)
        _check_level(plan, data.level)
        if data.level.value == a.level:
            raise ValidationFailed(_l("The activation is already at level %(level)s.",
                                      level=a.level))
        now = _context(s, context).clock().now()
        have = set(s.scalars(select(ActivationTask.plan_task_id).where(
            ActivationTask.activation_id == a.id)))
        missing = [(p, t) for p, t in plan.tasks_for(data.level) if t.id not in have]
        routes = _routes(s, context, plan, missing, data.recipients, now)
        added = _add_tasks(s, a, plan, missing, data.level, actor, routes)
        previous = a.level
        a.level = data.level.value
        a.level_history = [*a.level_history, {"level": data.level.value, "at": now.isoformat(),
                                              "by": actor.name, "reason": data.reason}]
        a.shortfalls = resources.check(s, context, plan.resources_for(data.level))
        raised = LEVEL_ORDER[data.level] > LEVEL_ORDER[Level(previous)]
        body = _summary(a) | {"previous": previous, "added": [t.plan_task_id for t in added],
                              "direction": "raised" if raised else "lowered"}
        events.append(s, context=context, type="plan.level_changed", actor=actor,
                      audience=AUDIENCE, subject=("plan_activation", a.id), payload=body)
        return body


def stand_down(*, activation_id: int, data: StandDownIn, actor: Actor,
               context: str = LIVE) -> dict[str, Any]:
    """Close the activation with a summary of what was done, late or left open.

    Roster tasks still open are then cancelled through the roster's own service
    (one transaction each, after this one commits), so nobody keeps being paged
    for a response that is over; the summary records their state before that.
    """
    with db.unit_of_work() as s:
        a = _activation(s, activation_id, context)
        if a.status != ActivationStatus.ACTIVE.value:
            raise Conflict(_l("This activation has already been stood down."))
        now = _context(s, context).clock().now()
        rows = _task_rows(s, a, now)
        by_state: dict[str, int] = {}
        for r in rows:
            by_state[r["state"]] = by_state.get(r["state"], 0) + 1
        summary = {
            "reason": data.reason, "tasks": len(rows), "by_state": by_state,
            "overdue": sum(1 for r in rows if r["overdue"]),
            "late_acknowledgements": sum(1 for r in rows if r["ack_late"]),
            "agencies": _progress(rows), "duration_minutes": int(
                (now - a.activated_at).total_seconds() // 60),
            "levels": [h["level"] for h in a.level_history],
        }
        a.status = ActivationStatus.STOOD_DOWN.value
        a.active_key = None
        a.stood_down_at, a.stood_down_by, a.summary = now, actor.name, summary
        open_ids = [r["roster_task_id"] for r in rows
                    if r["roster_task_id"] and r["state"] in ("open", "acknowledged")]
        summary["cancelled_on_stand_down"] = len(open_ids)
        body = _summary(a) | {"summary": summary}
        events.append(s, context=context, type="plan.stood_down", actor=actor,
                      audience=AUDIENCE, subject=("plan_activation", a.id), payload=body)
        _final_report(s, a, actor, now)
    roster_link.cancel_tasks(open_ids, context=context, actor=actor)
    return body


def _final_report(s: Session, a: PlanActivation, actor: Actor, now: datetime) -> None:
    """Stand-down of a plan for an incident drafts its final report (结案报告) once."""
    if a.subject_kind != SubjectKind.INCIDENT.value or not a.subject_ref.isdigit():
        return
    i = s.get(Incident, int(a.subject_ref), with_for_update=True)
    if i is not None and i.context == a.context:
        reports.draft_final_on_close(s, i, actor=actor, now=now, trigger="stood_down")


def _summary(a: PlanActivation) -> dict[str, Any]:
    return {"id": a.id, "plan_id": a.plan_id, "plan_version": a.plan_version,
            "file_hash": a.file_hash, "title_zh": a.snapshot["title"]["zh"],
            "title_en": a.snapshot["title"]["en"], "level": a.level,
            "subject_kind": a.subject_kind, "subject_ref": a.subject_ref, "status": a.status,
            "activated_at": a.activated_at.isoformat(), "activated_by": a.activated_by,
            "stood_down_at": a.stood_down_at.isoformat() if a.stood_down_at else None}


def _task_rows(s: Session, a: PlanActivation, now: datetime) -> list[dict[str, Any]]:
    rows = list(s.scalars(select(ActivationTask).where(ActivationTask.activation_id == a.id)
                          .order_by(ActivationTask.position)))
    states = roster_link.task_states(s, [r.roster_task_id for r in rows if r.roster_task_id])
    plan = Plan.model_validate(a.snapshot)
    plan_levels = {t.id: [lv.value for lv in plan.task_levels(t)] for _p, t in plan.tasks()}
    titles = {r.id: r.title.model_dump() for r in plan.roles}
    steps = responsible.steps_by_task(s, context=a.context, plan=plan, at=now)
    out = []
    for r in rows:
        st = states.get(r.roster_task_id or -1, {})
        state = st.get("status", "unassigned" if r.roster_task_id is None else "open")
        acked_at = st.get("acknowledged_at")
        closed = state in ("done", "cancelled")
        out.append({
            "id": r.id, "task_id": r.plan_task_id, "phase_id": r.phase_id,
            "title_zh": r.title_zh, "title_en": r.title_en, "role": r.owner_role,
            "role_title": titles.get(r.owner_role, {"zh": r.owner_role, "en": r.owner_role}),
            "agency": r.agency, "added_at_level": r.added_at_level,
            "due_at": r.due_at.isoformat(), "ack_due_at": r.ack_due_at.isoformat(),
            "roster_task_id": r.roster_task_id, "state": state,
            "assignee": st.get("assignee"), "target": st.get("target"),
            "overdue": not closed and now > r.due_at,
            "ack_overdue": state in ("open", "unassigned") and now > r.ack_due_at,
            "ack_late": bool(acked_at and acked_at > r.ack_due_at) or (
                acked_at is None and now > r.ack_due_at),
            "in_level": a.level in plan_levels.get(r.plan_task_id, []),
            "steps": steps.get(r.plan_task_id, []),
        })
    return out


def _progress(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = per.setdefault(r["agency"], {"agency": r["agency"], "name": r["role_title"],
                                         "total": 0, "done": 0, "acknowledged": 0,
                                         "overdue": 0})
        p["total"] += 1
        p["done"] += r["state"] == "done"
        p["acknowledged"] += r["state"] in ("acknowledged", "done")
        p["overdue"] += r["overdue"] or r["ack_overdue"]
    return sorted(per.values(), key=lambda p: p["agency"])


def activation_view(*, activation_id: int, context: str = LIVE) -> dict[str, Any]:
    """The live checklist: tasks by phase with state and lateness, progress per agency."""
    with db.reading() as s:
        a = _activation(s, activation_id, context)
        now = _context(s, context).clock().now()
        rows = _task_rows(s, a, now)
        phases = []
        for p in a.snapshot["phases"]:
            tasks = [r for r in rows if r["phase_id"] == p["id"]]
            if tasks:
                phases.append({"id": p["id"], "title": p["title"], "tasks": tasks})
        roles = {r["id"]: r for r in a.snapshot["roles"]}
        return _summary(a) | {
            "now": now.isoformat(), "note": a.note, "phases": phases,
            "progress": _progress(rows), "roles": roles,
            "levels": list(a.snapshot["levels"]), "level_history": a.level_history,
            "shortfalls": a.shortfalls, "summary": a.summary,
            "stand_down_criteria": a.snapshot["stand_down"]["criteria"],
            "done": sum(1 for r in rows if r["state"] == "done"), "total": len(rows),
        }


def list_activations(*, context: str = LIVE, active_only: bool = False) -> list[dict[str, Any]]:
    with db.reading() as s:
        q = select(PlanActivation).where(PlanActivation.context == context)
        if active_only:
            q = q.where(PlanActivation.status == ActivationStatus.ACTIVE.value)
        return [_summary(a) for a in s.scalars(q.order_by(PlanActivation.id.desc()).limit(200))]


def plans_overview(*, context: str = LIVE) -> dict[str, Any]:
    """The plans page: valid plans with their levels, invalid files with their errors."""
    found = registry.plan_set(context=context)
    plans = []
    for pid, r in sorted(found.plans.items()):
        assert r.plan is not None
        plans.append({"id": pid, "version": r.plan.version, "file": r.path,
                      "file_hash": r.file_hash, "title": r.plan.title.model_dump(),
                      "summary": r.plan.summary.model_dump(),
                      "levels": [lv.value for lv in r.plan.levels],
                      "tasks": len(r.plan.tasks()), "roles": len(r.plan.roles)})
    invalid = [{"file": r.path, "errors": [e.as_dict() for e in r.errors]}
               for r in found.invalid]
    return {"plans": plans, "invalid": invalid,
            "active": list_activations(context=context, active_only=True)}


def recipients_preview(*, plan_id: str, level: Level, context: str = LIVE) -> dict[str, Any]:
    """Before activating: who each task of ``level`` would reach now, and the choices for
    those that would reach nobody (the same check activation makes)."""
    loaded = registry.get_plan(plan_id, context=context)
    plan = loaded.plan
    assert plan is not None
    _check_level(plan, level)
    with db.reading() as s:
        now = _context(s, context).clock().now()
        rows = recipients.check(s, context=context, plan=plan, pairs=plan.tasks_for(level),
                                at=now)
        gaps = recipients.gaps(rows)
        return {"plan_id": plan.id, "level": level.value, "at": now.isoformat(),
                "tasks": rows, "gaps": len(gaps),
                "officers": recipients.officers(s, context) if gaps else []}


def plan_detail(*, plan_id: str, context: str = LIVE) -> dict[str, Any]:
    loaded = registry.get_plan(plan_id, context=context)
    assert loaded.plan is not None
    plan = loaded.plan
    body = plan.model_dump(mode="json")
    body["file"], body["file_hash"] = loaded.path, loaded.file_hash
    with db.reading() as s:
        steps = responsible.steps_by_task(s, context=context, plan=plan,
                                          at=_context(s, context).clock().now())
    for phase, (_p, task) in zip([t for p in body["phases"] for t in p["tasks"]],
                                 plan.tasks(), strict=True):
        phase["levels"] = [lv.value for lv in plan.task_levels(task)]
        phase["due"], phase["ack"] = format_offset(task.due), format_offset(task.ack)
        phase["owner_title"] = plan.role(task.owner).title.model_dump()
        phase["steps"] = steps[task.id]
    return body
