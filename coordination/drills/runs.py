"""A drill run's life: created from a scenario and seeded, started, paused, sped up,
jumped ahead, ended and deleted.

A run writes only to its own context; the run's metadata rows (drill_runs,
drill_injects …) are not context data and are what the live side may list.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from .. import events
from ..clock import DrillClock, wall_now
from ..contexts import Context, ContextKind
from ..errors import Conflict, ValidationFailed
from ..events import Actor
from ..extensions import db
from .common import TRAINERS, check_speed, inject_spec, run_clock, run_row, wake
from .loader import load_file
from .models import (
    DrillEvaluation,
    DrillInject,
    DrillObservation,
    DrillRun,
    ImprovementItem,
    InjectOrigin,
    InjectStatus,
    RunStatus,
)
from .queries import get_run
from .scenario import Scenario
from .seed import copy_reference_data, delete_context_rows

# A jump to the next inject lands this long before it, so players see it arrive on time.
JUMP_LEAD_SECONDS = 10


def create_run(*, path: Path, root: Path, speed: float, actor: Actor) -> dict[str, Any]:
    """Validate the scenario, give it a context seeded from live, schedule its injects.

    The run starts paused at the scenario's start time; ``start_run`` sets the
    clock going. Starting state overrides (a unit already out of service, a
    full isolation point, a short stockpile) are applied through the services.
    """
    loaded = load_file(path, root=root)
    if not loaded.ok or loaded.model is None:
        raise ValidationFailed(_l("The scenario is not valid."),
                               details=[e.as_dict() for e in loaded.errors])
    sc = loaded.model
    check_speed(speed)
    real_now = wall_now()
    sim_start = sc.start.clock or real_now.replace(microsecond=0)
    name = f"drill-{secrets.token_hex(4)}"
    with db.unit_of_work() as s:
        clock = DrillClock(anchor_real=real_now, anchor_sim=sim_start, speed=speed, paused=True)
        ctx = Context(name=name, kind=ContextKind.DRILL, title=sc.title.zh[:200])
        ctx.store_clock(clock)
        s.add(ctx)
        s.flush()
        seeded = (copy_reference_data(s, source="live", target=name).counts
                  if sc.start.seed == "live" else {})
        run = DrillRun(
            context=name, scenario_id=sc.id, scenario_version=sc.version,
            scenario_hash=loaded.file_hash, scenario_file=loaded.path,
            scenario=sc.model_dump(mode="json", by_alias=True), title=sc.title.zh,
            status=RunStatus.READY.value, speed=speed, sim_start=sim_start,
            created_by=actor.name, created_at=real_now, seeded=seeded,
        )
        s.add(run)
        s.flush()
        for inj in sc.injects:
            s.add(DrillInject(run_id=run.id, number=inj.number, type=inj.type.value,
                              origin=InjectOrigin.SCENARIO.value, spec=inject_spec(inj),
                              due_sim=sim_start + inj.offset))
        events.append(s, context=name, type="drill.created", actor=actor, audience=TRAINERS,
                      subject=("drill_run", run.id),
                      payload={"run": run.id, "scenario": sc.id, "version": sc.version,
                               "title": sc.title.model_dump(), "seeded": seeded})
        run_id = run.id
    _apply_start_state(sc, name, actor)
    return get_run(run_id=run_id)


def _apply_start_state(sc: Scenario, context: str, actor: Actor) -> None:
    from ..facilities import service as facilities
    from ..facilities.models import Facility
    from ..facilities.schemas import CapacityReportIn
    from ..stock import service as stock
    from ..stock.schemas import CountIn
    from ..units import service as units
    from ..units.models import Unit
    from ..units.schemas import PositionIn, StatusIn

    for u in sc.start.units:
        with db.reading() as s:
            unit_id = s.scalar(select(Unit.id).where(Unit.context == context,
                                                     Unit.call_sign == u.call_sign))
        if unit_id is None:
            raise ValidationFailed(_l("The scenario names an unknown unit %(c)s.", c=u.call_sign))
        if u.status:
            units.set_status(unit_id=unit_id, actor=actor, context=context,
                             data=StatusIn.model_validate({"status": u.status,
                                                           "note": "drill starting state"}))
        if u.lon is not None and u.lat is not None:
            with db.reading() as s:
                at = s.get(Context, context).clock().now()  # type: ignore[union-attr]
            units.record_positions(
                reports=[PositionIn.model_validate({"unit": u.call_sign, "lon": u.lon,
                                                    "lat": u.lat, "at": at.isoformat()})],
                actor=actor, region=None, context=context)
    for f in sc.start.facilities:
        with db.reading() as s:
            fac = s.scalar(select(Facility).where(Facility.context == context,
                                                  Facility.code == f.code))
        if fac is None:
            raise ValidationFailed(_l("The scenario names an unknown facility %(c)s.", c=f.code))
        figures = {k: {"capacity": max(v.get("capacity", 0), f.occupied.get(k, 0)),
                       "occupied": f.occupied.get(k, v.get("occupied", 0))}
                   for k, v in (fac.figures or {}).items()}
        facilities.report_capacity(
            facility_id=fac.id, actor=actor, context=context,
            data=CapacityReportIn.model_validate(
                {"status": f.status, "figures": figures, "note": "drill starting state"}))
    for st in sc.start.stock:
        lots = stock.balances(depot=st.depot, item=st.item, context=context, include_zero=True)
        if not lots:
            raise ValidationFailed(_l("The scenario sets stock of %(i)s at %(d)s, which holds "
                                      "no lot of it.", i=st.item, d=st.depot))
        left = st.quantity
        for b in lots:  # fill the earliest-expiring lots first, the rest counted to zero
            keep = min(left, b["quantity"]) if b is not lots[-1] else left
            stock.count_stock(context=context, actor=actor, data=CountIn(
                depot=st.depot, item=st.item, lot=b["lot"], counted=keep,
                note="drill starting state"))
            left -= keep


def _set_clock(s: Session, run: DrillRun, clock: DrillClock, status: RunStatus,
               actor: Actor, type_: str, payload: dict[str, Any]) -> None:
    ctx = s.get(Context, run.context)
    assert ctx is not None
    ctx.store_clock(clock)
    run.status = status.value
    run.speed = clock.speed
    events.append(s, context=run.context, type=type_, actor=actor, audience=TRAINERS,
                  subject=("drill_run", run.id),
                  payload={"run": run.id, "status": run.status, "speed": clock.speed,
                           "sim_now": clock.now().isoformat()} | payload)


def _move_clock(run_id: int, actor: Actor, *, when: RunStatus, refusal: Any,
                move: Callable[[DrillClock], DrillClock], to: RunStatus,
                type_: str) -> dict[str, Any]:
    """Start, pause or resume: the same locked read, check, clock change and event."""
    with db.unit_of_work() as s:
        run = run_row(s, run_id, lock=True)
        if run.status != when.value:
            raise Conflict(refusal)
        _, clock = run_clock(s, run)
        if when is RunStatus.READY:
            run.started_at = wall_now()
        _set_clock(s, run, move(clock), to, actor, type_, {})
    wake()
    return get_run(run_id=run_id)


def start_run(*, run_id: int, actor: Actor) -> dict[str, Any]:
    return _move_clock(run_id, actor, when=RunStatus.READY,
                       refusal=_l("This drill run has already started."),
                       move=DrillClock.resume, to=RunStatus.RUNNING, type_="drill.started")


def pause_run(*, run_id: int, actor: Actor) -> dict[str, Any]:
    return _move_clock(run_id, actor, when=RunStatus.RUNNING,
                       refusal=_l("Only a running drill can be paused."),
                       move=DrillClock.pause, to=RunStatus.PAUSED, type_="drill.paused")


def resume_run(*, run_id: int, actor: Actor) -> dict[str, Any]:
    return _move_clock(run_id, actor, when=RunStatus.PAUSED,
                       refusal=_l("Only a paused drill can be resumed."),
                       move=DrillClock.resume, to=RunStatus.RUNNING, type_="drill.resumed")


def set_speed(*, run_id: int, speed: float, actor: Actor) -> dict[str, Any]:
    check_speed(speed)
    with db.unit_of_work() as s:
        run = run_row(s, run_id, lock=True)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill run has ended."))
        _, clock = run_clock(s, run)
        status = RunStatus(run.status)
        _set_clock(s, run, clock.with_speed(speed), status, actor, "drill.speed_changed", {})
    wake()
    return get_run(run_id=run_id)


def jump_ahead(*, run_id: int, actor: Actor, to: datetime | None = None) -> dict[str, Any]:
    """A time jump: scenario time moves forward to ``to``, or to just before the next
    pending inject, so a quiet stretch of the script (the hours an investigation takes)
    is not sat through. Injects are never skipped: they fire on the new time."""
    with db.unit_of_work() as s:
        run = run_row(s, run_id, lock=True)
        if run.status not in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            raise Conflict(_l("Only a started drill can jump ahead."))
        _, clock = run_clock(s, run)
        now = clock.now()
        if to is None:
            due = s.scalar(select(DrillInject.due_sim)
                           .where(DrillInject.run_id == run.id,
                                  DrillInject.status == InjectStatus.PENDING.value)
                           .order_by(DrillInject.due_sim).limit(1))
            if due is None:
                raise Conflict(_l("No inject is left to jump to."))
            to = max(now, due - timedelta(seconds=JUMP_LEAD_SECONDS))
        if to < now:
            raise ValidationFailed(_l("A drill clock only jumps forward."))
        # A running clock moves on while this is worked out (at 60x, a millisecond is
        # 60 ms of scenario time): jump from a frozen reading, never behind the clock.
        frozen = clock if clock.paused else clock.pause()
        moved = frozen.jumped_to(max(to, frozen.now()))
        _set_clock(s, run, moved if clock.paused else moved.resume(), RunStatus(run.status),
                   actor, "drill.jumped", {"from": now.isoformat()})
    wake()
    return get_run(run_id=run_id)


def end_run(*, run_id: int, actor: Actor) -> dict[str, Any]:
    """Stop the clock and cancel what has not fired; the run's data stays for the report."""
    with db.unit_of_work() as s:
        run = run_row(s, run_id, lock=True)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill run has already ended."))
        _, clock = run_clock(s, run)
        paused = clock if clock.paused else clock.pause()
        run.ended_at = wall_now()
        run.sim_ended_at = paused.now()
        s.execute(update(DrillInject)
                  .where(DrillInject.run_id == run.id,
                         DrillInject.status == InjectStatus.PENDING.value)
                  .values(status=InjectStatus.CANCELLED.value))
        _set_clock(s, run, paused, RunStatus.ENDED, actor, "drill.ended", {})
    wake()
    return get_run(run_id=run_id)


def delete_run(*, run_id: int, actor: Actor) -> dict[str, int]:
    """Remove the run and every row of its context; live rows are never touched."""
    with db.unit_of_work() as s:
        run = run_row(s, run_id, lock=True)
        if run.status in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            raise Conflict(_l("End the drill before deleting it."))
        context = run.context
        for model in (DrillInject, DrillObservation, DrillEvaluation, ImprovementItem):
            s.execute(cast(Table, model.__table__).delete().where(model.run_id == run.id))
        s.delete(run)
        s.flush()
        removed = delete_context_rows(s, context)
        s.execute(cast(Table, Context.__table__).delete().where(Context.name == context))
    return removed
