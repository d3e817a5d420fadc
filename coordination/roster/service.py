"""Rosters and tasks: the only place their rows change.

Each public function is one unit of work with its events; reads go through
``db.reading``. Time comes from the context's clock (drills run accelerated).
Escalation steps are fired by :func:`fire_step`, which the sweeper
(``escalation.py``) also calls inside its own claimed transaction.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import events
from ..auth.models import User
from ..contexts import Context
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import eventbatch, notify, photos, schedule
from .models import (
    CLOSED,
    AckKey,
    AckMode,
    Agency,
    Assignee,
    AssigneeStatus,
    EscalationStep,
    Layer,
    Officer,
    Override,
    Rotation,
    StepTarget,
    Task,
    TaskNote,
    TaskStatus,
    TaskStep,
)
from .schemas import NewTask

OPS_AUDIENCE = ["role:operator", "role:trainer"]
DEFAULT_CHAIN = [
    {"target": StepTarget.PRIMARY.value, "wait_minutes": 10},
    {"target": StepTarget.BACKUP.value, "wait_minutes": 10},
    {"target": StepTarget.HEAD.value, "wait_minutes": 10},
    {"target": StepTarget.COMMAND_ROOM.value, "wait_minutes": 0},
]


def parse(model: type[Any], data: Any) -> Any:
    """Validate input into ``model``; every problem in one 400 message."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ValidationFailed("; ".join(problems), details=problems) from None


def context_row(s: Session, name: str) -> Context:
    ctx = s.get(Context, name)
    if ctx is None:
        raise NotFound(_l("No such context."))
    return ctx


def agency_by_code(s: Session, context: str, code: str) -> Agency:
    a = s.scalar(select(Agency).where(Agency.context == context, Agency.code == code))
    if a is None:
        raise NotFound(_l("No such agency: %(code)s.", code=code))
    return a


def new_ical_token() -> str:
    return secrets.token_urlsafe(24)


# --------------------------------------------------------------------- on duty

def rotation_spec(r: Rotation) -> schedule.RotationSpec:
    return schedule.RotationSpec(
        id=r.id, agency_id=r.agency_id, layer=r.layer, role=r.role, kind=r.kind,
        handover=r.handover, shift_hours=r.shift_hours, timezone=r.timezone,
        start_date=r.start_date, end_date=r.end_date, officer_ids=tuple(r.officer_ids),
    )


def override_spec(o: Override) -> schedule.OverrideSpec:
    return schedule.OverrideSpec(
        id=o.id, kind=o.kind, officer_id=o.officer_id, cover_officer_id=o.cover_officer_id,
        starts_at=o.starts_at, ends_at=o.ends_at,
    )


def load_specs(
    s: Session, agency_id: int, *, layer: str | None = None, role: str | None = None,
) -> tuple[list[schedule.RotationSpec], list[schedule.OverrideSpec]]:
    q = select(Rotation).where(Rotation.agency_id == agency_id)
    if layer is not None:
        q = q.where(Rotation.layer == layer)
    if role is not None:
        q = q.where(Rotation.role == role)
    rots = [rotation_spec(r) for r in s.scalars(q.order_by(Rotation.id))]
    ovs = [override_spec(o) for o in s.scalars(
        select(Override).where(Override.agency_id == agency_id))]
    return rots, ovs


def officer_dict(o: Officer) -> dict[str, Any]:
    return {
        "id": o.id, "name": o.name, "phone": o.phone, "email": o.email,
        "agency_role": o.agency_role, "languages": list(o.languages or []),
        "may_be_primary": o.may_be_primary, "user_id": o.user_id, "active": o.active,
    }


def _officers(s: Session, ids: set[int]) -> dict[int, Officer]:
    if not ids:
        return {}
    return {o.id: o for o in s.scalars(select(Officer).where(Officer.id.in_(ids)))}


def on_duty_in(
    s: Session, agency: Agency, *, layer: str, at: datetime, role: str | None = None,
) -> list[dict[str, Any]]:
    rots, ovs = load_specs(s, agency.id, layer=layer, role=role)
    segs = schedule.at_time(rots, ovs, at)
    people = _officers(s, {g.officer_id for g in segs if g.officer_id is not None})
    out, seen = [], set()
    for g in segs:
        if g.officer_id in seen or g.officer_id not in people:
            continue
        seen.add(g.officer_id)
        out.append(officer_dict(people[g.officer_id]) | {
            "layer": g.layer, "role": g.role, "rotation_id": g.rotation_id,
            "shift_start": g.start.isoformat(), "shift_end": g.end.isoformat(),
            "override_id": g.override_id,
        })
    return out


def on_duty(
    *, context: str, agency_code: str, layer: str = "primary", at: datetime,
    role: str | None = None,
) -> list[dict[str, Any]]:
    """Officers of ``agency_code`` on duty on ``layer`` at ``at`` (after overrides)."""
    if at.tzinfo is None:
        raise ValidationFailed(_l("Times need a zone offset."))
    if layer not in {x.value for x in Layer}:
        raise ValidationFailed(_l("Unknown layer %(layer)s.", layer=layer))
    with db.reading() as s:
        agency = agency_by_code(s, context, agency_code)
        return on_duty_in(s, agency, layer=layer, at=at, role=role)


# ----------------------------------------------------------------------- tasks

def _chain(s: Session, agency: Agency) -> list[dict[str, Any]]:
    steps = list(s.scalars(select(EscalationStep).where(EscalationStep.agency_id == agency.id)
                           .order_by(EscalationStep.position)))
    if not steps:
        return [dict(x) for x in DEFAULT_CHAIN]
    return [{"target": x.target, "wait_minutes": x.wait_minutes} for x in steps]


def _step_officers(s: Session, task: Task, agency: Agency, target: str,
                   at: datetime) -> list[int]:
    if target == StepTarget.COMMAND_ROOM:
        return []
    if target == StepTarget.HEAD:
        head = s.get(Officer, agency.head_officer_id) if agency.head_officer_id else None
        return [head.id] if head is not None and head.active else []
    people = on_duty_in(s, agency, layer=target, at=at, role=task.role)
    return [p["id"] for p in people if p["active"]]


def task_audience(s: Session, task: Task) -> list[str]:
    """Operators, trainers and every officer the task was ever addressed to."""
    officer_ids = set(s.scalars(select(Assignee.officer_id).where(Assignee.task_id == task.id)))
    users = {o.user_id for o in _officers(s, officer_ids).values() if o.user_id}
    return sorted(set(OPS_AUDIENCE) | {f"user:{u}" for u in users})


def fire_step(
    s: Session, task: Task, index: int, *, reason: str, now: datetime, actor: Actor,
) -> TaskStep:
    """Address step ``index`` of the task's chain, notify it and set the next deadline."""
    return fire_steps(s, [(task, index)], reason=reason, now=now, actor=actor)[0]


def fire_steps(
    s: Session, items: list[tuple[Task, int]], *, reason: str, now: datetime, actor: Actor,
) -> list[TaskStep]:
    """:func:`fire_step` for many tasks in one go (the sweeper's batch).

    Who is on duty is worked out once per (agency, role, target), rows are flushed
    together and the tasks' dicts built from four queries, so a batch of hundreds
    costs a few statements per task: the event and nothing else.
    """
    duty: dict[tuple[int, str | None, str], list[int]] = {}
    fired: list[TaskStep] = []  # not added: rows go in below with one executemany each
    step_rows: list[dict[str, Any]] = []
    assignee_rows: list[dict[str, Any]] = []
    for task, wanted in items:
        agency = s.get(Agency, task.agency_id)
        assert agency is not None
        index = min(wanted, len(task.chain) - 1)
        step = task.chain[index]
        key = (agency.id, task.role, step["target"])
        if key not in duty:
            duty[key] = _step_officers(s, task, agency, step["target"], now)
        officer_ids = duty[key]
        task.step_index = index
        task.step_seq += 1
        row = TaskStep(context=task.context, task_id=task.id, seq=task.step_seq,
                       step_index=index, target=step["target"], reason=reason, at=now,
                       officer_ids=officer_ids)
        fired.append(row)
        step_rows.append({"context": task.context, "task_id": task.id, "seq": task.step_seq,
                          "step_index": index, "target": step["target"], "reason": reason,
                          "at": now, "officer_ids": officer_ids})
        assignee_rows += [{"context": task.context, "task_id": task.id, "officer_id": oid,
                           "step_seq": task.step_seq, "status": AssigneeStatus.PENDING.value,
                           "reason": ""} for oid in officer_ids]
        if index + 1 >= len(task.chain):
            task.next_escalation_at = None  # the last step: nothing further to wait for
        elif not officer_ids:
            task.next_escalation_at = now  # nobody to wait for (a gap): on at once
        elif index == 0 and reason == "created" and task.ack_deadline is not None:
            task.next_escalation_at = task.ack_deadline
        else:
            task.next_escalation_at = now + timedelta(minutes=step["wait_minutes"])
    s.flush()
    s.execute(insert(TaskStep.__table__), step_rows)
    if assignee_rows:
        s.execute(insert(Assignee.__table__), assignee_rows)
    tasks = [task for task, _ in items]
    bodies = task_dicts(s, tasks)
    people = _officers(s, {o for ids in duty.values() for o in ids})
    configs = notify.channel_configs(s, tasks[0].context) if tasks else {}
    with s.no_autoflush:  # the events and deliveries go out in one batched flush
        _announce(s, tasks, fired, bodies, people, configs, reason=reason, now=now,
                  actor=actor)
    return fired


def _announce(s: Session, tasks: list[Task], fired: list[TaskStep],
              bodies: dict[int, dict[str, Any]], people: dict[int, Officer],
              configs: dict[str, Any], *, reason: str, now: datetime, actor: Actor) -> None:
    by_context: dict[str, list[eventbatch.Item]] = {}
    for task, row in zip(tasks, fired, strict=True):
        body = bodies[task.id] | {"step": {"index": row.step_index, "target": row.target,
                                           "reason": reason, "officer_ids": row.officer_ids}}
        by_context.setdefault(task.context, []).append((
            "task.created" if reason == "created" else "task.escalated", body,
            _audience_of(body), ("task", task.id)))
        agency = s.get(Agency, task.agency_id)
        assert agency is not None
        notify.enqueue_step(s, task=task, agency=agency,
                            officers={o: people[o] for o in row.officer_ids if o in people},
                            step=task.chain[row.step_index], reason=reason, now=now,
                            configs=configs)
    for context, items in by_context.items():
        eventbatch.append_many(s, context=context, actor=actor, items=items)


def _audience_of(body: dict[str, Any]) -> list[str]:
    users = {a["user_id"] for a in body["assignees"] if a["user_id"]}
    return sorted(set(OPS_AUDIENCE) | {f"user:{u}" for u in users})


def create_task(
    *, context: str, agency_code: str, role: str | None, title: str, details: str = "",
    due_at: datetime | None, ack_deadline: datetime | None, source: str,
    source_ref: str | None, incident_ref: str | None, actor: Actor,
    ack_mode: str = AckMode.SINGLE, quorum: int = 1, ack_expiry_minutes: int | None = None,
) -> dict[str, Any]:
    """Create a task addressed to an agency role, resolved to whoever is on duty now."""
    with db.unit_of_work() as s:
        return create_task_in(
            s, context=context, agency_code=agency_code, role=role, title=title,
            details=details, due_at=due_at, ack_deadline=ack_deadline, source=source,
            source_ref=source_ref, incident_ref=incident_ref, actor=actor,
            ack_mode=ack_mode, quorum=quorum, ack_expiry_minutes=ack_expiry_minutes,
        )


def create_task_in(
    s: Session, *, context: str, agency_code: str, role: str | None, title: str,
    details: str = "", due_at: datetime | None, ack_deadline: datetime | None, source: str,
    source_ref: str | None, incident_ref: str | None, actor: Actor,
    ack_mode: str = AckMode.SINGLE, quorum: int = 1, ack_expiry_minutes: int | None = None,
) -> dict[str, Any]:
    """:func:`create_task` inside the caller's transaction (a plan activation's)."""
    data: NewTask = parse(NewTask, {
        "agency_code": agency_code, "role": role, "title": title, "details": details,
        "due_at": due_at, "ack_deadline": ack_deadline, "source": source,
        "source_ref": source_ref, "incident_ref": incident_ref, "ack_mode": ack_mode,
        "quorum": quorum, "ack_expiry_minutes": ack_expiry_minutes,
    })
    ctx = context_row(s, context)
    now = ctx.clock().now()
    agency = agency_by_code(s, context, data.agency_code)
    task = Task(
        context=context, agency_id=agency.id, role=data.role, title=data.title,
        details=data.details, source=data.source.value, source_ref=data.source_ref,
        incident_ref=data.incident_ref, due_at=data.due_at,
        ack_deadline=data.ack_deadline, status=TaskStatus.OPEN,
        ack_mode=data.ack_mode.value,
        quorum=data.quorum if data.ack_mode == AckMode.QUORUM else 1,
        ack_expiry_minutes=data.ack_expiry_minutes, chain=_chain(s, agency),
        step_index=0, step_seq=0, created_at=now, created_by=actor.name,
    )
    s.add(task)
    s.flush()
    fire_step(s, task, 0, reason="created", now=now, actor=actor)
    return task_dict(s, task)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def task_dict(s: Session, task: Task, *, notes: bool = False) -> dict[str, Any]:
    """A task as pages, the API and its events show it, with the whole chain."""
    body = task_dicts(s, [task])[task.id]
    if notes:
        body["notes"] = [
            {"id": n.id, "author": n.author, "text": n.text, "photo": n.photo,
             "at": _iso(n.at)}
            for n in s.scalars(select(TaskNote).where(TaskNote.task_id == task.id)
                               .order_by(TaskNote.id))
        ]
    return body


def task_dicts(s: Session, tasks: list[Task]) -> dict[int, dict[str, Any]]:
    """Dicts of many tasks from four queries (agencies, steps, assignees, officers)."""
    if not tasks:
        return {}
    ids = [t.id for t in tasks]
    agencies = {a.id: a for a in s.scalars(select(Agency).where(
        Agency.id.in_({t.agency_id for t in tasks})))}
    steps: dict[int, list[TaskStep]] = {}
    for st in s.scalars(select(TaskStep).where(TaskStep.task_id.in_(ids))
                        .order_by(TaskStep.seq)):
        steps.setdefault(st.task_id, []).append(st)
    rows: dict[int, list[Assignee]] = {}
    for a in s.scalars(select(Assignee).where(Assignee.task_id.in_(ids))
                       .order_by(Assignee.step_seq, Assignee.id)):
        rows.setdefault(a.task_id, []).append(a)
    people = _officers(s, {a.officer_id for group in rows.values() for a in group}
                       | {o for group in steps.values() for st in group for o in st.officer_ids})
    return {t.id: _one_dict(t, agencies[t.agency_id], steps.get(t.id, []), rows.get(t.id, []),
                            people) for t in tasks}


def _one_dict(task: Task, agency: Agency, steps: list[TaskStep], rows: list[Assignee],
              people: dict[int, Officer]) -> dict[str, Any]:
    fired_by_index = {st.step_index: st for st in steps}
    chain = []
    for i, step in enumerate(task.chain):
        st = fired_by_index.get(i)
        chain.append({
            "index": i, "target": step["target"], "wait_minutes": step["wait_minutes"],
            "fired_at": _iso(st.at) if st else None,
            "reason": st.reason if st else None,
            "officers": [people[o].name for o in (st.officer_ids if st else []) if o in people],
            "current": i == task.step_index,
        })
    opt = lambda v: _iso(v) if v else None  # noqa: E731
    return {
        "id": task.id, "context": task.context, "agency_code": agency.code,
        "agency_name_zh": agency.name_zh, "agency_name_en": agency.name_en,
        "role": task.role, "title": task.title, "details": task.details,
        "source": task.source, "source_ref": task.source_ref,
        "incident_ref": task.incident_ref, "due_at": opt(task.due_at),
        "ack_deadline": opt(task.ack_deadline),
        "status": task.status, "ack_mode": task.ack_mode, "quorum": task.quorum,
        "ack_expiry_minutes": task.ack_expiry_minutes,
        "step_index": task.step_index, "step_seq": task.step_seq,
        "next_escalation_at": opt(task.next_escalation_at),
        "created_at": _iso(task.created_at), "acknowledged_at": opt(task.acknowledged_at),
        "closed_at": opt(task.closed_at), "created_by": task.created_by, "chain": chain,
        "assignees": [
            {"officer_id": a.officer_id, "name": people[a.officer_id].name,
             "user_id": people[a.officer_id].user_id, "step_seq": a.step_seq,
             "current": a.step_seq == task.step_seq, "status": a.status,
             "acknowledged_at": opt(a.acknowledged_at), "reason": a.reason}
            for a in rows if a.officer_id in people
        ],
    }


def _task(s: Session, context: str, task_id: int, *, lock: bool = False) -> Task:
    q = select(Task).where(Task.id == task_id, Task.context == context)
    if lock and s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    task = s.scalar(q)
    if task is None:
        raise NotFound(_l("No such task."))
    return task


def officer_of(s: Session, context: str, actor: Actor) -> Officer | None:
    if actor.kind != "user" or actor.id is None:
        return None
    return s.scalar(select(Officer).where(Officer.context == context,
                                          Officer.user_id == actor.id))


def _my_current(s: Session, task: Task, actor: Actor) -> Assignee:
    """The caller's assignment on the task's current step, or 403."""
    me = officer_of(s, task.context, actor)
    row = None
    if me is not None:
        row = s.scalar(select(Assignee).where(
            Assignee.task_id == task.id, Assignee.officer_id == me.id,
            Assignee.step_seq == task.step_seq))
    if row is None:
        raise PermissionDenied(_l("This task is not addressed to you."))
    return row


def _emit(s: Session, task: Task, type_: str, actor: Actor, **extra: Any) -> dict[str, Any]:
    body = task_dict(s, task) | extra
    events.append(s, context=task.context, type=type_, actor=actor,
                  audience=task_audience(s, task), subject=("task", task.id), payload=body)
    return body


def _acked_enough(s: Session, task: Task) -> bool:
    rows = list(s.scalars(select(Assignee).where(Assignee.task_id == task.id,
                                                 Assignee.step_seq == task.step_seq)))
    acked = sum(1 for a in rows if a.status == AssigneeStatus.ACKNOWLEDGED)
    if task.ack_mode == AckMode.ROLL_CALL:
        return acked > 0 and all(a.status != AssigneeStatus.PENDING for a in rows) and acked == sum(
            1 for a in rows if a.status != AssigneeStatus.DECLINED)
    need = task.quorum if task.ack_mode == AckMode.QUORUM else 1
    return acked >= need


def acknowledge_task(
    *, context: str, task_id: int, key: str, actor: Actor,
) -> dict[str, Any]:
    """Acknowledge the caller's assignment; a repeated ``key`` is the same acknowledgement."""
    from .schemas import AckIn

    key = parse(AckIn, {"key": key}).key
    with db.unit_of_work() as s:
        task = _task(s, context, task_id, lock=True)
        seen = s.scalar(select(AckKey).where(AckKey.task_id == task.id, AckKey.key == key))
        if seen is not None:
            return task_dict(s, task) | {"repeated": True}
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        row = _my_current(s, task, actor)
        now = context_row(s, context).clock().now()
        s.add(AckKey(context=context, task_id=task.id, key=key, officer_id=row.officer_id,
                     at=now))
        if row.status == AssigneeStatus.ACKNOWLEDGED:
            return task_dict(s, task) | {"repeated": True}
        row.status, row.acknowledged_at = AssigneeStatus.ACKNOWLEDGED, now
        s.flush()
        complete = task.status == TaskStatus.OPEN and _acked_enough(s, task)
        if complete:
            task.status, task.acknowledged_at = TaskStatus.ACKNOWLEDGED, now
            task.last_progress_at = now
            task.next_escalation_at = (now + timedelta(minutes=task.ack_expiry_minutes)
                                       if task.ack_expiry_minutes else None)
        agency = s.get(Agency, task.agency_id)
        return _emit(s, task, "task.acknowledged", actor, ack={
            "officer_id": row.officer_id, "complete": complete,
            "agency": agency.code if agency else None,
            "seconds": (now - task.created_at).total_seconds(),
        }, repeated=False)


def add_note(
    *, context: str, task_id: int, text: str, actor: Actor, photo_data: bytes | None = None,
    photo_dir: Path | None = None, operator: bool = False,
) -> dict[str, Any]:
    """A progress note (and photo); it also renews an acknowledgement that expires.

    The photo is checked first and written only once everything else passed; if the
    commit fails the file is removed, so no orphan is left behind.
    """
    ext = photos.photo_kind(photo_data) if photo_data else None
    if not text.strip() and ext is None:
        raise ValidationFailed(_l("Write a note or attach a photo."))
    if len(text) > 2000:
        raise ValidationFailed(_l("The note is too long."))
    stored: list[Path] = []
    try:
        return _add_note(context, task_id, text, actor, photo_data, photo_dir, ext, operator,
                         stored)
    except BaseException:
        for p in stored:
            p.unlink(missing_ok=True)
        raise


def _add_note(context: str, task_id: int, text: str, actor: Actor, photo_data: bytes | None,
              photo_dir: Path | None, ext: str | None, operator: bool,
              stored: list[Path]) -> dict[str, Any]:
    with db.unit_of_work() as s:
        task = _task(s, context, task_id, lock=True)
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        if not operator:
            _my_current(s, task, actor)
        now = context_row(s, context).clock().now()
        photo = None
        if ext is not None and photo_data is not None:
            if photo_dir is None:
                raise ValidationFailed(_l("Photos cannot be stored here."))
            photo = photos.store(photo_data, ext, photo_dir)
            stored.append(photo_dir / photo)
        note = TaskNote(context=context, task_id=task.id, author=actor.name,
                        text=text.strip(), photo=photo, at=now)
        s.add(note)
        task.last_progress_at = now
        if task.status == TaskStatus.ACKNOWLEDGED and task.ack_expiry_minutes:
            task.next_escalation_at = now + timedelta(minutes=task.ack_expiry_minutes)
        s.flush()
        return _emit(s, task, "task.progress", actor,
                     note={"id": note.id, "text": note.text, "photo": photo,
                           "author": actor.name, "at": now.isoformat()})


def complete_task(*, context: str, task_id: int, actor: Actor,
                  operator: bool = False) -> dict[str, Any]:
    with db.unit_of_work() as s:
        task = _task(s, context, task_id, lock=True)
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        if not operator:
            _my_current(s, task, actor)
        now = context_row(s, context).clock().now()
        task.status, task.closed_at, task.next_escalation_at = TaskStatus.DONE, now, None
        if task.acknowledged_at is None:
            task.acknowledged_at = now
        return _emit(s, task, "task.done", actor)


def decline_task(*, context: str, task_id: int, reason: str, actor: Actor) -> dict[str, Any]:
    """Decline with a reason: the task moves on to the next step of the chain at once."""
    from .schemas import DeclineIn

    reason = parse(DeclineIn, {"reason": reason}).reason
    with db.unit_of_work() as s:
        task = _task(s, context, task_id, lock=True)
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        row = _my_current(s, task, actor)
        if row.status != AssigneeStatus.PENDING:
            raise Conflict(_l("You have already answered this task."))
        now = context_row(s, context).clock().now()
        row.status, row.reason = AssigneeStatus.DECLINED, reason
        s.flush()
        rows = list(s.scalars(select(Assignee).where(Assignee.task_id == task.id,
                                                     Assignee.step_seq == task.step_seq)))
        still = sum(1 for a in rows if a.status != AssigneeStatus.DECLINED)
        need = task.quorum if task.ack_mode == AckMode.QUORUM else 1
        body = _emit(s, task, "task.declined", actor,
                     decline={"officer_id": row.officer_id, "reason": reason})
        if task.status == TaskStatus.OPEN and still < need:
            fire_step(s, task, task.step_index + 1, reason="declined", now=now, actor=actor)
            body = task_dict(s, task)
        return body


def jump_task(*, context: str, task_id: int, step: int, actor: Actor) -> dict[str, Any]:
    """An operator sends the task straight to step ``step`` of its chain."""
    with db.unit_of_work() as s:
        task = _task(s, context, task_id, lock=True)
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        if not 0 <= step < len(task.chain):
            raise ValidationFailed(_l("The chain has no step %(n)s.", n=step))
        now = context_row(s, context).clock().now()
        task.status, task.acknowledged_at = TaskStatus.OPEN, None
        fire_step(s, task, step, reason="jump", now=now, actor=actor)
        return task_dict(s, task)


def cancel_task(*, context: str, task_id: int, actor: Actor) -> dict[str, Any]:
    with db.unit_of_work() as s:
        task = _task(s, context, task_id, lock=True)
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        now = context_row(s, context).clock().now()
        task.status, task.closed_at, task.next_escalation_at = TaskStatus.CANCELLED, now, None
        return _emit(s, task, "task.cancelled", actor)


def get_task(*, context: str, task_id: int) -> dict[str, Any]:
    with db.reading() as s:
        return task_dict(s, _task(s, context, task_id), notes=True)


def list_tasks(*, context: str, open_only: bool = False, agency_code: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    with db.reading() as s:
        q = select(Task).where(Task.context == context)
        if open_only:
            q = q.where(Task.status.in_([TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED]))
        if agency_code:
            q = q.where(Task.agency_id == agency_by_code(s, context, agency_code).id)
        return [task_dict(s, t) for t in s.scalars(q.order_by(Task.id.desc()).limit(limit))]


def my_tasks(*, context: str, actor: Actor, include_closed: bool = False) -> dict[str, Any]:
    """The tasks ever addressed to the caller's officer, newest first."""
    with db.reading() as s:
        me = officer_of(s, context, actor)
        if me is None:
            return {"officer": None, "tasks": []}
        ids = set(s.scalars(select(Assignee.task_id).where(Assignee.officer_id == me.id)))
        tasks = [] if not ids else list(s.scalars(
            select(Task).where(Task.id.in_(ids)).order_by(Task.id.desc()).limit(100)))
        out = []
        for t in tasks:
            if not include_closed and t.status in CLOSED:
                continue
            body = task_dict(s, t, notes=True)
            body["mine"] = any(a["officer_id"] == me.id and a["current"]
                               for a in body["assignees"])
            out.append(body)
        return {"officer": officer_dict(me), "tasks": out}


def link_user(s: Session, username: str | None) -> int | None:
    if not username:
        return None
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise ValidationFailed(_l("No account named %(name)s.", name=username))
    return user.id
