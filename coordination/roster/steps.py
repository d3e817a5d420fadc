"""Firing a task's escalation steps: who is addressed, the next deadline, the
notifications and events.

The sweeper (escalation.py) calls these inside its own claimed transaction,
so they take the caller's session and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ..events import Actor
from . import eventbatch, notify
from .common import OPS_AUDIENCE, officers_by_id
from .duty import on_duty_in
from .models import (
    Agency,
    Assignee,
    AssigneeStatus,
    Officer,
    StepTarget,
    Task,
    TaskStep,
)
from .task_reads import task_dicts


def _step_officers(s: Session, task: Task, agency: Agency, target: str,
                   at: datetime, officer_id: int | None = None) -> list[int]:
    if target == StepTarget.COMMAND_ROOM:
        return []
    if target == StepTarget.OFFICER:
        named = s.get(Officer, officer_id) if officer_id else None
        return [named.id] if named is not None and named.active else []
    if target == StepTarget.HEAD:
        head = s.get(Officer, agency.head_officer_id) if agency.head_officer_id else None
        return [head.id] if head is not None and head.active else []
    people = on_duty_in(s, agency, layer=target, at=at, role=task.role)
    return [p["id"] for p in people if p["active"]]


def task_audience(s: Session, task: Task) -> list[str]:
    """Operators, trainers and every officer the task was ever addressed to."""
    officer_ids = set(s.scalars(select(Assignee.officer_id).where(Assignee.task_id == task.id)))
    users = {o.user_id for o in officers_by_id(s, officer_ids).values() if o.user_id}
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
    duty: dict[tuple[int, str | None, str, int | None], list[int]] = {}
    fired: list[TaskStep] = []  # not added: rows go in below with one executemany each
    step_rows: list[dict[str, Any]] = []
    assignee_rows: list[dict[str, Any]] = []
    for task, wanted in items:
        agency = s.get(Agency, task.agency_id)
        assert agency is not None
        index = min(wanted, len(task.chain) - 1)
        step = task.chain[index]
        key = (agency.id, task.role, step["target"], step.get("officer_id"))
        if key not in duty:
            duty[key] = _step_officers(s, task, agency, step["target"], now,
                                       step.get("officer_id"))
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
    s.execute(insert(cast(Table, TaskStep.__table__)), step_rows)
    if assignee_rows:
        s.execute(insert(cast(Table, Assignee.__table__)), assignee_rows)
    tasks = [task for task, _ in items]
    bodies = task_dicts(s, tasks)
    people = officers_by_id(s, {o for ids in duty.values() for o in ids})
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
