"""Drill runs for access tests: a run row over a (new or existing) drill context.

A full scenario run copies live reference data and schedules injects; the access
rules need only the run, its status and who joined it, so these are cheap.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from coordination.clock import DrillClock
from coordination.contexts import Context, ContextKind
from coordination.drills import participants
from coordination.drills.models import DrillRun, RunStatus
from coordination.events import Actor
from coordination.extensions import db

_n = itertools.count(1)


def drill_run(context: str | None = None, *, status: RunStatus = RunStatus.RUNNING
              ) -> dict[str, Any]:
    """A run owning ``context`` (created, paused at now, when it does not exist yet)."""
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        if context is None or s.get(Context, context) is None:
            context = context or f"drill-t{next(_n)}"
            ctx = Context(name=context, kind=ContextKind.DRILL, title=context)
            ctx.store_clock(DrillClock(anchor_real=now, anchor_sim=now, paused=True))
            s.add(ctx)
            s.flush()
        run = DrillRun(context=context, scenario_id="t", scenario_version="1",
                       scenario_hash="0" * 64, scenario_file="t.yaml", scenario={},
                       title=context, status=status.value, speed=1.0, sim_start=now,
                       created_by="test", created_at=now, seeded={})
        s.add(run)
        s.flush()
        return {"id": run.id, "context": context}


def enrol(run: dict[str, Any], actor: Actor, *roles: str) -> None:
    """Record ``actor`` as a player of ``run`` (what joining from /drills does)."""
    participants.join(run_id=run["id"], actor=actor, roles=list(roles) or ["operator"])


def set_status(run: dict[str, Any], status: RunStatus) -> None:
    with db.unit_of_work() as s:
        row = s.get(DrillRun, run["id"])
        assert row is not None
        row.status = status.value


def bound_token(context: str, role: str) -> dict[str, str]:
    """Headers of an API token with ``role`` bound to the run owning ``context``."""
    from sqlalchemy import select

    from coordination.auth import service
    from coordination.drills.models import DrillRun
    from coordination.web.context import HEADER

    with db.reading() as s:
        run_id = s.scalar(select(DrillRun.id).where(DrillRun.context == context))
    run = {"id": run_id, "context": context} if run_id else drill_run(context)
    token, secret = service.create_token(name=f"{role}-in-{context}", roles=[role],
                                         actor=Actor.system("test"))
    enrol(run, Actor(kind="token", id=token.id, name=token.name), role)
    return {"Authorization": f"Bearer {secret}", HEADER: context}
