"""Escalations are persisted deadlines: real server processes, the real database.

- restart: a server is SIGKILLed while escalations are pending; what fell due while it
  was down fires at once when it is back, what is due later fires on time, each once;
- two processes sweeping the same database: every step of every task fires exactly
  once (PostgreSQL with COORDINATION_TEST_DATABASE_URL, else a shared SQLite file).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from coordination import create_app, migrate
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.roster import manage
from coordination.roster import service as roster
from coordination.roster.models import Task, TaskStep

from .roster_factories import ADMIN, crew, drill_context
from .support import Databases, ServerProcess, start_server

pytestmark = [pytest.mark.slow]
SYSTEM = Actor.system("test")
LATE = 40  # seconds: falls due after the restart, even on a slow machine


@pytest.fixture
def shared(databases: Databases, tmp_path: Path) -> Iterator[tuple[str, Path, ExitStack]]:
    import os

    url = (databases.postgres() if os.environ.get("COORDINATION_TEST_DATABASE_URL")
           else f"sqlite:///{tmp_path / 'shared.sqlite'}")
    create_app({"database_url": url, "instance_path": tmp_path / "setup", "redis_url": None,
                "secret_key": "test"})
    migrate.upgrade()
    with ExitStack() as stack:
        yield url, tmp_path, stack
    db.dispose()


def _server(url: str, workdir: Path, name: str, stack: ExitStack) -> ServerProcess:
    server = start_server(database_url=url, instance=workdir / name)
    stack.callback(server.stop)
    return server


def _steps() -> dict[int, list[tuple[int, str]]]:
    with db.reading() as s:
        out: dict[int, list[tuple[int, str]]] = {}
        for st in s.scalars(select(TaskStep).order_by(TaskStep.task_id, TaskStep.seq)):
            out.setdefault(st.task_id, []).append((st.step_index, st.reason))
        return out


def _escalated_by() -> Counter[str]:
    with db.reading() as s:
        return Counter(s.scalars(select(Event.actor_name).where(Event.type == "task.escalated")))


def _wait_for(check, timeout: float) -> bool:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_restart_fires_overdue_at_once_and_pending_on_time_exactly_once(shared):
    url, workdir, stack = shared
    crew("live", "cdc", start=datetime.now(UTC).date() - timedelta(days=1))
    server = _server(url, workdir, "a", stack)
    now = datetime.now(UTC)
    early = roster.create_task(context="live", agency_code="cdc", role=None, title="early",
                               due_at=None, ack_deadline=now + timedelta(hours=1),
                               source="manual", source_ref=None, incident_ref=None, actor=SYSTEM)
    late = roster.create_task(context="live", agency_code="cdc", role=None, title="late",
                              due_at=None, ack_deadline=now + timedelta(seconds=LATE),
                              source="manual", source_ref=None, incident_ref=None, actor=SYSTEM)
    server.kill()  # SIGKILL: no clean shutdown, nothing in memory survives
    # The early task falls due while nobody sweeps: its deadline is moved into the past
    # only once no server is alive, so no sweeper can have seen it due (no race with
    # how long creating the tasks and the kill take on a loaded machine).
    overdue_at = datetime.now(UTC) - timedelta(seconds=1)
    with db.unit_of_work() as s:
        s.execute(update(Task).where(Task.id == early["id"]).values(
            ack_deadline=overdue_at, next_escalation_at=overdue_at))
    assert len(_steps()[early["id"]]) == 1  # nobody swept while the server was down
    _server(url, workdir, "b", stack)  # answering requests: its sweeper runs too
    assert _wait_for(lambda: len(_steps()[early["id"]]) == 2, 60)
    with db.reading() as s:
        fired = s.scalar(select(TaskStep.at).where(TaskStep.task_id == early["id"],
                                                   TaskStep.seq == 2))
    # Overdue while nobody swept: fired by the restarted server's sweep, after its deadline.
    assert fired >= overdue_at
    assert _wait_for(lambda: len(_steps()[late["id"]]) == 2, LATE + 60)
    with db.reading() as s:
        fired_late = s.scalar(select(TaskStep.at).where(TaskStep.task_id == late["id"],
                                                        TaskStep.seq == 2))
    # Never before its deadline; how soon after is the sweeper's speed (tests/benchmarks).
    assert fired_late >= now + timedelta(seconds=LATE)
    assert fired_late >= fired  # the overdue one first, the other when it fell due
    time.sleep(1.5)
    assert _steps() == {early["id"]: [(0, "created"), (1, "timeout")],
                        late["id"]: [(0, "created"), (1, "timeout")]}


def test_two_processes_fire_every_step_exactly_once(shared):
    url, workdir, stack = shared
    # A drill running at 60x: a one-minute wait is a second of real time.
    ctx = drill_context("drill-2p", datetime.now(UTC), paused=False, speed=60)
    crew(ctx, "cdc", start=datetime.now(UTC).date() - timedelta(days=1))
    manage.set_chain(context=ctx, agency_code="cdc", actor=ADMIN, data={"steps": [
        {"target": "primary", "wait_minutes": 1}, {"target": "backup", "wait_minutes": 1},
        {"target": "head", "wait_minutes": 1}, {"target": "command_room", "wait_minutes": 0}]})
    _server(url, workdir, "a", stack)
    _server(url, workdir, "b", stack)  # answering requests: its sweeper runs too
    with db.reading() as s:
        from coordination.contexts import Context

        sim_now = s.get(Context, ctx).clock().now()
    n = 40
    ids = [roster.create_task(
        context=ctx, agency_code="cdc", role=None, title=f"t{i}", due_at=None,
        ack_deadline=sim_now + timedelta(minutes=2), source="drill", source_ref=None,
        incident_ref=None, actor=SYSTEM)["id"] for i in range(n)]
    done = lambda: all(len(v) == 4 for k, v in _steps().items() if k in ids)  # noqa: E731
    assert _wait_for(done, 30), _steps()
    time.sleep(2)  # a late double firing would show now
    steps = _steps()
    for task_id in ids:
        assert steps[task_id] == [(0, "created"), (1, "timeout"), (2, "timeout"),
                                  (3, "timeout")]
    by = _escalated_by()
    assert sum(by.values()) == 3 * n
    with db.reading() as s:
        assert all(t.next_escalation_at is None for t in s.scalars(select(Task)))
    print("escalations per process:", dict(by))
