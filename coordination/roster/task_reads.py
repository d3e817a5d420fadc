"""Tasks as pages, the API and their events show them, and the lists that read them.

Many tasks' dicts come from four queries, so the sweeper's batch and the
board cost the same few statements however many tasks they show.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..events import Actor
from ..extensions import db
from ..vocab import localized
from .common import agency_by_code, iso_utc, officer_dict, officer_of, officers_by_id
from .models import (
    CLOSED,
    Agency,
    Assignee,
    Officer,
    Task,
    TaskNote,
    TaskStatus,
    TaskStep,
)


def task_dict(s: Session, task: Task, *, notes: bool = False) -> dict[str, Any]:
    """A task as pages, the API and its events show it, with the whole chain."""
    body = task_dicts(s, [task])[task.id]
    if notes:
        body["notes"] = [
            {"id": n.id, "author": n.author, "text": n.text, "photo": n.photo,
             "at": iso_utc(n.at)}
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
    people = officers_by_id(s, {a.officer_id for group in rows.values() for a in group}
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
            "fired_at": iso_utc(st.at) if st else None,
            "reason": st.reason if st else None,
            "officers": [people[o].name for o in (st.officer_ids if st else []) if o in people],
            "current": i == task.step_index,
        })
    opt = lambda v: iso_utc(v) if v else None  # noqa: E731
    return {
        "id": task.id, "context": task.context, "agency_code": agency.code,
        "agency_name_zh": agency.name_zh, "agency_name_en": agency.name_en,
        "role": task.role, "title": localized(task.title, task.title_en),
        "details": localized(task.details, task.details_en),
        # both languages of a two-language task, for a page that re-renders a live event
        # written in someone else's language (None: the task has one language)
        "title_i18n": {"zh": task.title, "en": task.title_en} if task.title_en else None,
        "details_i18n": ({"zh": task.details, "en": task.details_en}
                         if task.details_en is not None else None),
        "source": task.source, "source_ref": task.source_ref,
        "incident_ref": task.incident_ref, "due_at": opt(task.due_at),
        "ack_deadline": opt(task.ack_deadline),
        "status": task.status, "ack_mode": task.ack_mode, "quorum": task.quorum,
        "ack_expiry_minutes": task.ack_expiry_minutes,
        "step_index": task.step_index, "step_seq": task.step_seq,
        "next_escalation_at": opt(task.next_escalation_at),
        "created_at": iso_utc(task.created_at), "acknowledged_at": opt(task.acknowledged_at),
        "closed_at": opt(task.closed_at), "created_by": task.created_by, "chain": chain,
        "assignees": [
            {"officer_id": a.officer_id, "name": people[a.officer_id].name,
             "name_en": people[a.officer_id].name_en,
             "user_id": people[a.officer_id].user_id, "step_seq": a.step_seq,
             "current": a.step_seq == task.step_seq, "status": a.status,
             "acknowledged_at": opt(a.acknowledged_at), "reason": a.reason}
            for a in rows if a.officer_id in people
        ],
    }


def task_row(s: Session, context: str, task_id: int, *, lock: bool = False) -> Task:
    q = select(Task).where(Task.id == task_id, Task.context == context)
    if lock and s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    task = s.scalar(q)
    if task is None:
        raise NotFound(_l("No such task."))
    return task


def get_task(*, context: str, task_id: int) -> dict[str, Any]:
    with db.reading() as s:
        return task_dict(s, task_row(s, context, task_id), notes=True)


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
