"""Tasks from creation to close: acknowledged, noted, declined, jumped, done, cancelled.

Each public function is one unit of work with its events. Time comes from
the context's clock (drills run accelerated).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import photos
from .common import agency_by_code, context_row, officer_of, parse
from .models import (
    CLOSED,
    AckKey,
    AckMode,
    Agency,
    Assignee,
    AssigneeStatus,
    EscalationStep,
    StepTarget,
    Task,
    TaskNote,
    TaskStatus,
)
from .schemas import NewTask
from .steps import fire_step, task_audience
from .task_reads import task_dict, task_row

DEFAULT_CHAIN = [
    {"target": StepTarget.PRIMARY.value, "wait_minutes": 10},
    {"target": StepTarget.BACKUP.value, "wait_minutes": 10},
    {"target": StepTarget.HEAD.value, "wait_minutes": 10},
    {"target": StepTarget.COMMAND_ROOM.value, "wait_minutes": 0},
]


def _chain(s: Session, agency: Agency) -> list[dict[str, Any]]:
    steps = list(s.scalars(select(EscalationStep).where(EscalationStep.agency_id == agency.id)
                           .order_by(EscalationStep.position)))
    if not steps:
        return [dict(x) for x in DEFAULT_CHAIN]
    return [{"target": x.target, "wait_minutes": x.wait_minutes} for x in steps]


def create_task(
    *, context: str, agency_code: str, role: str | None, title: str, details: str = "",
    due_at: datetime | str | None, ack_deadline: datetime | str | None, source: str,
    source_ref: str | None, incident_ref: str | None, actor: Actor,
    ack_mode: str = AckMode.SINGLE, quorum: int = 1, ack_expiry_minutes: int | None = None,
    title_en: str | None = None, details_en: str | None = None,
) -> dict[str, Any]:
    """Create a task addressed to an agency role, resolved to whoever is on duty now.
    Times may come as the client sent them: the schema (``NewTask``) validates them."""
    with db.unit_of_work() as s:
        return create_task_in(
            s, context=context, agency_code=agency_code, role=role, title=title,
            details=details, title_en=title_en, details_en=details_en, due_at=due_at,
            ack_deadline=ack_deadline, source=source,
            source_ref=source_ref, incident_ref=incident_ref, actor=actor,
            ack_mode=ack_mode, quorum=quorum, ack_expiry_minutes=ack_expiry_minutes,
        )


def create_task_in(
    s: Session, *, context: str, agency_code: str, role: str | None, title: str,
    details: str = "", due_at: datetime | str | None, ack_deadline: datetime | str | None,
    source: str,
    source_ref: str | None, incident_ref: str | None, actor: Actor,
    ack_mode: str = AckMode.SINGLE, quorum: int = 1, ack_expiry_minutes: int | None = None,
    chain: list[dict[str, Any]] | None = None,
    title_en: str | None = None, details_en: str | None = None,
) -> dict[str, Any]:
    """:func:`create_task` inside the caller's transaction (a plan activation's).

    ``chain`` replaces the agency's escalation chain for this one task: a plan
    activation sends a task whose role has nobody on duty to the agency head, the
    command room or a named officer, as the operator chose. ``title``/``details`` in
    Chinese with ``title_en``/``details_en`` make a task written in both languages:
    each reader is shown their own.
    """
    data: NewTask = parse(NewTask, {
        "agency_code": agency_code, "role": role, "title": title, "details": details,
        "title_en": title_en, "details_en": details_en,
        "due_at": due_at, "ack_deadline": ack_deadline, "source": source,
        "source_ref": source_ref, "incident_ref": incident_ref, "ack_mode": ack_mode,
        "quorum": quorum, "ack_expiry_minutes": ack_expiry_minutes,
    })
    ctx = context_row(s, context)
    now = ctx.clock().now()
    agency = agency_by_code(s, context, data.agency_code)
    task = Task(
        context=context, agency_id=agency.id, role=data.role, title=data.title,
        details=data.details, title_en=data.title_en, details_en=data.details_en,
        source=data.source.value, source_ref=data.source_ref,
        incident_ref=data.incident_ref, due_at=data.due_at,
        ack_deadline=data.ack_deadline, status=TaskStatus.OPEN,
        ack_mode=data.ack_mode.value,
        quorum=data.quorum if data.ack_mode == AckMode.QUORUM else 1,
        ack_expiry_minutes=data.ack_expiry_minutes,
        chain=[dict(x) for x in chain] if chain else _chain(s, agency),
        step_index=0, step_seq=0, created_at=now, created_by=actor.name,
    )
    s.add(task)
    s.flush()
    fire_step(s, task, 0, reason="created", now=now, actor=actor)
    return task_dict(s, task)


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
        task = task_row(s, context, task_id, lock=True)
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
        task = task_row(s, context, task_id, lock=True)
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
        task = task_row(s, context, task_id, lock=True)
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
        task = task_row(s, context, task_id, lock=True)
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
        task = task_row(s, context, task_id, lock=True)
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
        task = task_row(s, context, task_id, lock=True)
        if task.status in CLOSED:
            raise Conflict(_l("This task is closed."))
        now = context_row(s, context).clock().now()
        task.status, task.closed_at, task.next_escalation_at = TaskStatus.CANCELLED, now, None
        return _emit(s, task, "task.cancelled", actor)
