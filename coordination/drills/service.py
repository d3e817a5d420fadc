"""Drill runs: create from a scenario, seed, run the clock, fire injects, record, end.

Every change to a run goes through here, whether a trainer clicks, the CLI
asks or the scheduler fires an inject. A run writes only to its own context;
the run's metadata rows (drill_runs, drill_injects …) are not context data and
are what the live side may list ("a drill is running, join it").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import events
from ..clock import DrillClock, wall_now
from ..contexts import Context, ContextKind
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import domain  # noqa: F401  (registers the domain inject kinds)
from .injects import REGISTRY
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
from .scenario import Capability, Contingency, Inject, Rating, Scenario
from .seed import copy_reference_data, delete_context_rows

TRAINERS = ["role:trainer"]
ALLOWED_ACTIONS = {
    RunStatus.READY: ["start", "end"], RunStatus.RUNNING: ["pause", "jump", "end"],
    RunStatus.PAUSED: ["resume", "jump", "end"], RunStatus.ENDED: [],
}
MIN_SPEED, MAX_SPEED = 1.0, 60.0
# A jump to the next inject lands this long before it, so players see it arrive on time.
JUMP_LEAD_SECONDS = 10


def _audience(to: str) -> list[str]:
    """Trainers see everything; the intended player's role room gets the inject too."""
    rooms = {"role:trainer", "role:operator"}
    if to in {"operator", "liaison", "logistics", "trainer", "admin"}:
        rooms.add(f"role:{to}")
    else:
        rooms.add("role:liaison")
    return sorted(rooms)


def _run(s: Session, run_id: int, *, lock: bool = False) -> DrillRun:
    q = select(DrillRun).where(DrillRun.id == run_id)
    run = s.scalar(q.with_for_update() if lock else q)
    if run is None:
        raise NotFound(_l("No such drill run."))
    return run


def _clock(s: Session, run: DrillRun) -> tuple[Context, DrillClock]:
    ctx = s.get(Context, run.context)
    assert ctx is not None
    clock = ctx.clock()
    assert isinstance(clock, DrillClock)
    return ctx, clock


def _inject_spec(inj: Inject | Contingency, **extra: Any) -> dict[str, Any]:
    return inj.model_dump(mode="json", by_alias=True) | extra


# --- creating and ending runs ----------------------------------------------------


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
    _check_speed(speed)
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
                              origin=InjectOrigin.SCENARIO.value, spec=_inject_spec(inj),
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


def _check_speed(speed: float) -> None:
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValidationFailed(_l("The speed must be between 1× and 60×."))


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
        run = _run(s, run_id, lock=True)
        if run.status != when.value:
            raise Conflict(refusal)
        _, clock = _clock(s, run)
        if when is RunStatus.READY:
            run.started_at = wall_now()
        _set_clock(s, run, move(clock), to, actor, type_, {})
    _wake()
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
    _check_speed(speed)
    with db.unit_of_work() as s:
        run = _run(s, run_id, lock=True)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill run has ended."))
        _, clock = _clock(s, run)
        status = RunStatus(run.status)
        _set_clock(s, run, clock.with_speed(speed), status, actor, "drill.speed_changed", {})
    _wake()
    return get_run(run_id=run_id)


def jump_ahead(*, run_id: int, actor: Actor, to: datetime | None = None) -> dict[str, Any]:
    """A time jump: scenario time moves forward to ``to``, or to just before the next
    pending inject, so a quiet stretch of the script (the hours an investigation takes)
    is not sat through. Injects are never skipped: they fire on the new time."""
    with db.unit_of_work() as s:
        run = _run(s, run_id, lock=True)
        if run.status not in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            raise Conflict(_l("Only a started drill can jump ahead."))
        _, clock = _clock(s, run)
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
        try:
            jumped = clock.jumped_to(to)
        except ValueError:  # the clock ran past ``to`` meanwhile: a concurrent jump won
            raise Conflict(_l("The drill clock is already at the next inject.")) from None
        _set_clock(s, run, jumped, RunStatus(run.status), actor,
                   "drill.jumped", {"from": now.isoformat()})
    _wake()
    return get_run(run_id=run_id)


def end_run(*, run_id: int, actor: Actor) -> dict[str, Any]:
    """Stop the clock and cancel what has not fired; the run's data stays for the report."""
    with db.unit_of_work() as s:
        run = _run(s, run_id, lock=True)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill run has already ended."))
        _, clock = _clock(s, run)
        paused = clock if clock.paused else clock.pause()
        run.ended_at = wall_now()
        run.sim_ended_at = paused.now()
        s.execute(update(DrillInject)
                  .where(DrillInject.run_id == run.id,
                         DrillInject.status == InjectStatus.PENDING.value)
                  .values(status=InjectStatus.CANCELLED.value))
        _set_clock(s, run, paused, RunStatus.ENDED, actor, "drill.ended", {})
    _wake()
    return get_run(run_id=run_id)


def delete_run(*, run_id: int, actor: Actor) -> dict[str, int]:
    """Remove the run and every row of its context; live rows are never touched."""
    with db.unit_of_work() as s:
        run = _run(s, run_id, lock=True)
        if run.status in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            raise Conflict(_l("End the drill before deleting it."))
        context = run.context
        for model in (DrillInject, DrillObservation, DrillEvaluation, ImprovementItem):
            s.execute(model.__table__.delete().where(model.run_id == run.id))
        s.delete(run)
        s.flush()
        removed = delete_context_rows(s, context)
        s.execute(Context.__table__.delete().where(Context.name == context))
    return removed


# --- injects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """Injects found due by some moment, read before it so firing them reads nothing first.

    ``quick`` only deliver a message (fired together in one claim); ``one_by_one`` act
    through a domain service or wait on an expected action (each claimed alone).
    """

    quick: list[int]
    one_by_one: list[int]
    runs: frozenset[int] = frozenset()


def due_by(real: datetime | None = None) -> Due:
    """The pending injects of every running run that are due by ``real`` (now if None)."""
    quick: list[int] = []
    one_by_one: list[int] = []
    runs: set[int] = set()
    with db.reading() as s:
        for run in s.scalars(select(DrillRun).where(DrillRun.status == RunStatus.RUNNING.value)):
            runs.add(run.id)
            _, clock = _clock(s, run)
            until = clock.now() if real is None else clock.sim_time_at(real)
            for inject_id, kind, spec in s.execute(
                    select(DrillInject.id, DrillInject.type, DrillInject.spec)
                    .where(DrillInject.run_id == run.id,
                           DrillInject.status == InjectStatus.PENDING.value,
                           DrillInject.due_sim <= until)
                    .order_by(DrillInject.due_sim, DrillInject.id)):
                registered = REGISTRY.get(kind)
                if registered is not None and registered.handler is None \
                        and not spec.get("when_missed"):
                    quick.append(inject_id)
                else:
                    one_by_one.append(inject_id)
    return Due(quick=quick, one_by_one=one_by_one, runs=frozenset(runs))


def fire(due: Due, *, actor: Actor | None = None) -> list[int]:
    """Fire what ``due_by`` found, each only once its scenario time has come.

    Returns the ids fired. Each inject is claimed by a conditional update (still
    pending, its run still running, its time reached by the clock read at the
    claim), so with several server processes each fires exactly once, and a pause
    or a slower speed set after ``due_by`` leaves it for later.
    """
    actor = actor or Actor.system("drill")
    fired = _fire_messages(due.quick, due.runs, actor) if due.quick else []
    fired += [i for i in due.one_by_one if _fire(i, actor, early=False)]
    return fired


def fire_due(*, actor: Actor | None = None) -> list[int]:
    """Fire every inject whose scenario time has come, in every running run."""
    return fire(due_by(), actor=actor)


def _fire_messages(inject_ids: list[int], run_ids: frozenset[int], actor: Actor) -> list[int]:
    """Injects that only deliver a message, all due at once: one claim, one transaction.

    They fire at the moment the write lock is held (stamped before the claim's own
    statements run), and only while their run still runs and its clock has reached
    them: a pause or an end that committed in between leaves them pending.
    """
    with db.unit_of_work() as s:
        stamp = {run_id: ctx.clock().now() for run_id, ctx in s.execute(
            select(DrillRun.id, Context).join(Context, Context.name == DrillRun.context)
            .where(DrillRun.id.in_(run_ids), DrillRun.status == RunStatus.RUNNING.value))}
        claimed: list[int] = []
        for run_id, now in stamp.items():
            claimed += s.scalars(
                update(DrillInject)
                .where(DrillInject.id.in_(inject_ids), DrillInject.run_id == run_id,
                       DrillInject.status == InjectStatus.PENDING.value,
                       DrillInject.due_sim <= now)
                .values(status=InjectStatus.FIRING.value)
                .returning(DrillInject.id)
                .execution_options(synchronize_session=False))
        if not claimed:
            return []
        rows = list(s.scalars(select(DrillInject).where(DrillInject.id.in_(claimed))
                              .order_by(DrillInject.due_sim, DrillInject.id)))
        runs: dict[int, DrillRun] = {}
        for inj in rows:
            if inj.run_id not in runs:
                runs[inj.run_id] = _run(s, inj.run_id)
            _record(s, inj, runs[inj.run_id], actor, stamp[inj.run_id], False, {}, "")
        return [inj.id for inj in rows]


def next_due_real() -> datetime | None:
    """When, in real time, the next pending inject of any running run comes due."""
    best: datetime | None = None
    with db.reading() as s:
        for run in s.scalars(select(DrillRun).where(DrillRun.status == RunStatus.RUNNING.value)):
            _, clock = _clock(s, run)
            due = s.scalar(select(DrillInject.due_sim)
                           .where(DrillInject.run_id == run.id,
                                  DrillInject.status == InjectStatus.PENDING.value)
                           .order_by(DrillInject.due_sim).limit(1))
            if due is None or clock.paused:
                continue
            at = clock.real_time_of(due)
            best = at if best is None or at < best else best
    return best


def fire_now(*, run_id: int, inject_id: int, actor: Actor) -> dict[str, Any]:
    """The trainer fires an inject before its time."""
    with db.reading() as s:
        inj = s.get(DrillInject, inject_id)
        if inj is None or inj.run_id != run_id:
            raise NotFound(_l("No such inject in this drill."))
        run = _run(s, run_id)
        if run.status not in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            raise Conflict(_l("Injects fire only while the drill runs."))
    if not _fire(inject_id, actor, early=True):
        raise Conflict(_l("This inject has already fired."))
    return inject_dict(inject_id)


def add_inject(*, run_id: int, data: Inject, actor: Actor, fire: bool) -> dict[str, Any]:
    """An ad-hoc inject the trainer writes during the run, at once or at its offset."""
    problems = _validate_payload(data.type.value, data.payload)
    if problems:
        raise ValidationFailed(_l("The inject's payload is not valid."), details=problems)
    with db.unit_of_work() as s:
        run = _run(s, run_id, lock=True)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill run has ended."))
        taken = set(s.scalars(select(DrillInject.number).where(DrillInject.run_id == run_id)))
        if data.number in taken:
            raise Conflict(_l("Inject number %(n)s is taken in this drill.", n=data.number))
        row = DrillInject(run_id=run.id, number=data.number, type=data.type.value,
                          origin=InjectOrigin.ADHOC.value,
                          spec=_inject_spec(data, author=actor.name),
                          due_sim=run.sim_start + data.offset)
        s.add(row)
        s.flush()
        inject_id = row.id
    if fire:
        _fire(inject_id, actor, early=True)
    _wake()
    return inject_dict(inject_id)


def _validate_payload(kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    from pydantic import ValidationError

    registered = REGISTRY.get(kind)
    if registered is None:
        return [{"field": "type", "message": f"inject type {kind!r} is not available"}]
    try:
        registered.payload.model_validate(payload)
    except ValidationError as exc:
        return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors()]
    return []


def _fire(inject_id: int, actor: Actor, *, early: bool) -> bool:
    """Claim, deliver through the domain service, record; False if someone else had it.

    A message changes nothing but the log, so claim, event and record are one
    transaction; an inject that acts through a domain service is claimed and
    committed first (the service opens its own transaction), then recorded.
    """
    with db.unit_of_work() as s:
        claimed = s.execute(
            update(DrillInject)
            .where(DrillInject.id == inject_id, DrillInject.status == InjectStatus.PENDING.value)
            .values(status=InjectStatus.FIRING.value)
        ).rowcount
        if claimed != 1:
            return False
        inj = s.get(DrillInject, inject_id)
        assert inj is not None
        run = _run(s, inj.run_id)
        _, clock = _clock(s, run)
        fired_sim = clock.now()
        if not early and (run.status != RunStatus.RUNNING.value or inj.due_sim > fired_sim):
            s.rollback()  # paused, ended or slowed since it was found due: it stays pending
            return False
        if inj.spec.get("when_missed") and _achieved(s, run, inj.spec):
            inj.status = InjectStatus.CANCELLED.value
            inj.result = {"reason": "expected action achieved"}
            return False
        registered = REGISTRY.get(inj.type)
        if registered is not None and registered.handler is None:
            _record(s, inj, run, actor, fired_sim, early, {}, "")
            return True
        context, spec, kind = run.context, dict(inj.spec), inj.type
        earlier = _earlier_results(s, run.id)
    result: dict[str, Any] = {}
    error = ""
    try:
        if registered is None:
            raise ValidationFailed(f"inject type {kind!r} is not available")
        payload = registered.payload.model_validate(spec.get("payload") or {})
        result = registered.handler(context=context, payload=payload, actor=actor,
                                    earlier=earlier) or {}
    except Exception as exc:  # the drill goes on; the trainer sees why this inject failed
        error = str(getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
    with db.unit_of_work() as s:
        inj = s.get(DrillInject, inject_id)
        assert inj is not None
        _record(s, inj, _run(s, inj.run_id), actor, fired_sim, early, result, error)
    return True


def _earlier_results(s: Session, run_id: int) -> dict[str, dict[str, Any]]:
    """What earlier injects produced, by number (a case confirmed for the incident of #1)."""
    return {n: r for n, r in s.execute(
        select(DrillInject.number, DrillInject.result)
        .where(DrillInject.run_id == run_id, DrillInject.status == InjectStatus.FIRED.value))}


def _record(s: Session, inj: DrillInject, run: DrillRun, actor: Actor, fired_sim: datetime,
            early: bool, result: dict[str, Any], error: str) -> None:
    spec = inj.spec
    inj.status = InjectStatus.FAILED.value if error else InjectStatus.FIRED.value
    inj.fired_sim, inj.fired_real, inj.early = fired_sim, wall_now(), early
    inj.result, inj.error = result, error
    for cont in spec.get("contingency") or []:
        action = next((a for a in spec.get("expected") or []
                       if a["id"] == cont["when_missed"]), None)
        if action is None:
            continue
        within = timedelta(seconds=float(action["within"]))
        s.add(DrillInject(
            run_id=run.id, number=cont["number"], type=cont["type"],
            origin=InjectOrigin.CONTINGENCY.value,
            spec=cont | {"parent": inj.number, "fired_sim": fired_sim.isoformat(),
                         "action": action, "expected": [], "contingency": [],
                         "from": spec.get("from"), "controller": spec.get("controller")},
            due_sim=fired_sim + within))
    events.append(
        s, context=run.context, type="drill.inject_fired", actor=actor,
        audience=_audience(spec.get("to", "")), subject=("drill_inject", inj.id),
        payload={"run": run.id, "inject": inj.id, "number": inj.number, "type": inj.type,
                 "to": spec.get("to"), "delivery": spec.get("delivery"),
                 "message": spec.get("message"), "early": early,
                 "origin": inj.origin, "error": inj.error,
                 "due": inj.due_sim.isoformat(), "fired": fired_sim.isoformat()})


def _achieved(s: Session, run: DrillRun, spec: dict[str, Any]) -> bool:
    from .evaluate import first_match

    action = spec.get("action") or {}
    since = datetime.fromisoformat(spec["fired_sim"])
    return first_match(s, run.context, action, since) is not None


# --- the trainer's record ----------------------------------------------------------------


def add_observation(*, run_id: int, player: str, text: str, inject_number: str | None,
                    actor: Actor) -> dict[str, Any]:
    text, player = text.strip(), player.strip()
    if not text or not player:
        raise ValidationFailed(_l("An observation needs a player and a text."))
    with db.unit_of_work() as s:
        run = _run(s, run_id)
        _, clock = _clock(s, run)
        obs = DrillObservation(run_id=run.id, at_sim=clock.now(), player=player[:120],
                               inject_number=inject_number or None, text=text, author=actor.name)
        s.add(obs)
        s.flush()
        body = {"id": obs.id, "at": obs.at_sim.isoformat(), "player": obs.player,
                "inject": obs.inject_number, "text": obs.text, "author": obs.author}
        events.append(s, context=run.context, type="drill.observation", actor=actor,
                      audience=TRAINERS, subject=("drill_run", run.id), payload=body)
        return body


def rate_task(*, run_id: int, task_id: str, rating: Rating, notes: str,
              actor: Actor) -> dict[str, Any]:
    with db.unit_of_work() as s:
        run = _run(s, run_id)
        tasks = {t["id"] for t in run.scenario.get("critical_tasks", [])}
        if task_id not in tasks:
            raise NotFound(_l("The scenario has no critical task %(t)s.", t=task_id))
        row = s.scalar(select(DrillEvaluation).where(DrillEvaluation.run_id == run_id,
                                                     DrillEvaluation.task_id == task_id))
        if row is None:
            row = DrillEvaluation(run_id=run_id, task_id=task_id)
            s.add(row)
        row.rating, row.notes, row.author, row.at = rating.value, notes.strip(), actor.name, \
            wall_now()
        return {"task": task_id, "rating": row.rating, "notes": row.notes}


def add_improvement(*, run_id: int, issue: str, action: str, element: Capability,
                    agency: str, owner: str, start: date, end: date,
                    actor: Actor) -> dict[str, Any]:
    if end < start:
        raise ValidationFailed(_l("The end date is before the start date."))
    if not issue.strip() or not action.strip() or not agency.strip():
        raise ValidationFailed(_l("An improvement needs an issue, an action and an agency."))
    with db.unit_of_work() as s:
        _run(s, run_id)
        row = ImprovementItem(run_id=run_id, issue=issue.strip(), corrective_action=action.strip(),
                              capability_element=element.value, agency=agency.strip(),
                              owner=owner.strip() or agency.strip(), start=start, end=end)
        s.add(row)
        s.flush()
        return {"id": row.id}


# --- reading -------------------------------------------------------------------------


def inject_dict(inject_id: int) -> dict[str, Any]:
    with db.reading() as s:
        inj = s.get(DrillInject, inject_id)
        if inj is None:
            raise NotFound(_l("No such inject in this drill."))
        return _inject_row(inj)


def _inject_row(inj: DrillInject) -> dict[str, Any]:
    return {"id": inj.id, "number": inj.number, "type": inj.type, "origin": inj.origin,
            "status": inj.status, "due": inj.due_sim.isoformat(),
            "fired": inj.fired_sim.isoformat() if inj.fired_sim else None,
            "early": inj.early, "error": inj.error, "to": inj.spec.get("to"),
            "message": inj.spec.get("message"), "spec": inj.spec}


def get_run(*, run_id: int) -> dict[str, Any]:
    with db.reading() as s:
        run = _run(s, run_id)
        _, clock = _clock(s, run)
        injects = list(s.scalars(select(DrillInject).where(DrillInject.run_id == run.id)
                                 .order_by(DrillInject.due_sim, DrillInject.id)))
        return {
            "id": run.id, "context": run.context, "title": run.title,
            "scenario": {"id": run.scenario_id, "version": run.scenario_version,
                         "hash": run.scenario_hash, "file": run.scenario_file,
                         "title": run.scenario.get("title")},
            "status": run.status, "speed": clock.speed, "paused": clock.paused,
            "sim_start": run.sim_start.isoformat(), "sim_now": clock.now().isoformat(),
            "created_by": run.created_by, "seeded": run.seeded,
            "allowed_actions": ALLOWED_ACTIONS[RunStatus(run.status)],
            "injects": [_inject_row(i) for i in injects],
        }


def list_runs(*, active_only: bool = False) -> list[dict[str, Any]]:
    with db.reading() as s:
        q = select(DrillRun).order_by(DrillRun.id.desc())
        if active_only:
            q = q.where(DrillRun.status.in_([RunStatus.READY.value, RunStatus.RUNNING.value,
                                             RunStatus.PAUSED.value]))
        out = []
        for run in s.scalars(q):
            _, clock = _clock(s, run)
            out.append({"id": run.id, "context": run.context, "title": run.title,
                        "scenario": run.scenario_id, "status": run.status,
                        "speed": clock.speed, "sim_now": clock.now().isoformat(),
                        "created_by": run.created_by, "created_at": run.created_at.isoformat()})
        return out


def run_for_context(context: str) -> dict[str, Any] | None:
    """The run a drill context belongs to (for the banner), or None for live."""
    with db.reading() as s:
        run = s.scalar(select(DrillRun).where(DrillRun.context == context))
        if run is None:
            return None
        _, clock = _clock(s, run)
        return {"id": run.id, "title": run.title, "status": run.status, "speed": clock.speed,
                "paused": clock.paused, "sim_now": clock.now().isoformat(),
                "context": run.context}


# --- the scheduler's wake-up -----------------------------------------------------------

_wakers: list[Any] = []


def _wake() -> None:
    for w in _wakers:
        w.set()
