"""What every drill-run service shares: the run row, its clock, who hears an inject,
and the scheduler's wake-up.

The wake-up lives here because every change to a run's clock or its injects
must wake the scheduler, whichever module made it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import DrillClock
from ..contexts import Context
from ..errors import NotFound, ValidationFailed
from .models import (
    DrillRun,
)
from .scenario import Contingency, Inject

TRAINERS = ["role:trainer"]

MIN_SPEED, MAX_SPEED = 1.0, 60.0


def inject_audience(to: str) -> list[str]:
    """Trainers see everything; the intended player's role room gets the inject too."""
    rooms = {"role:trainer", "role:operator"}
    if to in {"operator", "liaison", "logistics", "trainer", "admin"}:
        rooms.add(f"role:{to}")
    else:
        rooms.add("role:liaison")
    return sorted(rooms)


def run_row(s: Session, run_id: int, *, lock: bool = False) -> DrillRun:
    q = select(DrillRun).where(DrillRun.id == run_id)
    run = s.scalar(q.with_for_update() if lock else q)
    if run is None:
        raise NotFound(_l("No such drill run."))
    return run


def run_clock(s: Session, run: DrillRun) -> tuple[Context, DrillClock]:
    ctx = s.get(Context, run.context)
    assert ctx is not None
    clock = ctx.clock()
    assert isinstance(clock, DrillClock)
    return ctx, clock


def inject_spec(inj: Inject | Contingency, **extra: Any) -> dict[str, Any]:
    return inj.model_dump(mode="json", by_alias=True) | extra


def check_speed(speed: float) -> None:
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValidationFailed(_l("The speed must be between 1× and 60×."))


WAKERS: list[Any] = []


def wake() -> None:
    for w in WAKERS:
        w.set()
