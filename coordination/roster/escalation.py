"""The escalation sweeper: persisted deadlines fired exactly once by any process.

Every serving process runs :func:`sweeper`. A pass reads each context's clock
(drills run accelerated), then claims due tasks in batches inside one write
transaction: on PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two
processes take disjoint rows and never wait on each other), on SQLite under the
database write lock that ``BEGIN IMMEDIATE`` takes. Each claimed row is then
moved on with a conditional UPDATE on the ``next_escalation_at`` it was seen
with, and firing a step writes a ``roster_task_steps`` row whose (task, seq) is
unique: a second firing of the same step cannot commit. Because the deadline is
a column, a restart fires what fell due while it was down at once.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import events
from ..contexts import Context
from ..events import Actor
from ..extensions import db, socketio
from . import notify
from .models import Assignee, AssigneeStatus, Task, TaskStatus
from .service import fire_steps, task_audience, task_dict

log = logging.getLogger(__name__)
# The process that fired a step is in the event log (audit, and the two-process test).
SYSTEM = Actor.system(f"escalation@{socket.gethostname()}:{os.getpid()}")
BATCH = 100


def _clocks(s: Session) -> dict[str, datetime]:
    return {c.name: c.clock().now() for c in s.scalars(select(Context))}


def _expire_ack(s: Session, task: Task, now: datetime) -> None:
    """An acknowledgement nobody followed up with progress reverts to unacknowledged."""
    task.status, task.acknowledged_at = TaskStatus.OPEN, None
    for a in s.scalars(select(Assignee).where(Assignee.task_id == task.id,
                                              Assignee.step_seq == task.step_seq)):
        if a.status == AssigneeStatus.ACKNOWLEDGED:
            a.status, a.acknowledged_at = AssigneeStatus.PENDING, None
    wait = task.chain[task.step_index]["wait_minutes"]
    task.next_escalation_at = now + timedelta(minutes=max(wait, 1))
    s.flush()
    events.append(s, context=task.context, type="task.ack_expired", actor=SYSTEM,
                  audience=task_audience(s, task), subject=("task", task.id),
                  payload=task_dict(s, task))


def sweep_once(limit: int = BATCH) -> dict[str, int]:
    """Fire every due deadline (in batches); returns counts of what happened."""
    counts = {"escalated": 0, "expired": 0, "finished": 0}
    while True:
        done = _sweep_batch(limit, counts)
        if done < limit:
            return counts


def _sweep_batch(limit: int, counts: dict[str, int]) -> int:
    """Claim up to ``limit`` due tasks in one transaction and move each on one step."""
    with db.unit_of_work() as s:
        pg = s.get_bind().dialect.name == "postgresql"
        handled = 0
        for context, now in _clocks(s).items():
            q = (select(Task.id).where(Task.context == context, Task.next_escalation_at <= now)
                 .order_by(Task.next_escalation_at).limit(limit - handled))
            if pg:
                q = q.with_for_update(skip_locked=True)
            due = list(s.scalars(q))
            if not due:
                continue
            # The claim: only rows still due are taken, each by exactly one transaction.
            claimed = list(s.scalars(
                update(Task).where(Task.id.in_(due), Task.next_escalation_at <= now)
                .values(next_escalation_at=None).returning(Task.id)
                .execution_options(synchronize_session=False)))
            tasks = list(s.scalars(select(Task).where(Task.id.in_(claimed))
                                   .order_by(Task.id).execution_options(populate_existing=True)))
            moving = []
            for task in tasks:
                if task.status == TaskStatus.ACKNOWLEDGED:
                    _expire_ack(s, task, now)
                    counts["expired"] += 1
                elif task.status != TaskStatus.OPEN or task.step_index + 1 >= len(task.chain):
                    counts["finished"] += 1
                else:
                    moving.append((task, task.step_index + 1))
            if moving:
                fire_steps(s, moving, reason="timeout", now=now, actor=SYSTEM)
                counts["escalated"] += len(moving)
            handled += len(tasks)
            if handled >= limit:
                break
        return handled


def next_due_in(max_wait: float) -> float:
    """Seconds (real time) until the earliest deadline, capped at ``max_wait``."""
    with db.reading() as s:
        best = max_wait
        for context, now in _clocks(s).items():
            at = s.scalar(select(Task.next_escalation_at).where(
                Task.context == context, Task.next_escalation_at.is_not(None))
                .order_by(Task.next_escalation_at).limit(1))
            if at is not None:
                ctx = s.get(Context, context)
                speed = ctx.clock_speed if ctx and ctx.is_drill and ctx.clock_speed else 1.0
                best = min(best, max((at - now).total_seconds() / speed, 0.0))
        return best


def sweeper(interval: float = 0.2, max_wait: float = 1.0) -> None:
    """Background loop of a serving process: fire due escalations, sleep till the next."""
    while True:
        try:
            sweep_once()
            wait = min(next_due_in(max_wait), max_wait)
        except Exception:  # a database hiccup must not kill the loop
            log.exception("escalation sweep failed; retrying")
            wait = max_wait
        socketio.sleep(max(wait, interval) if wait > 0 else interval)


def deliverer(interval: float = 1.0) -> None:
    """Background loop sending outbound notifications (apart, so slow gateways never
    delay an escalation)."""
    while True:
        try:
            while notify.deliver_due():
                pass
        except Exception:
            log.exception("delivery pass failed; retrying")
        socketio.sleep(interval)


def run_for(seconds: float, interval: float = 0.05) -> dict[str, Any]:
    """Sweep repeatedly for a while in the calling thread (CLI and tests)."""
    totals = {"escalated": 0, "expired": 0, "finished": 0}
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        for k, v in sweep_once().items():
            totals[k] += v
        time.sleep(interval)
    return totals
