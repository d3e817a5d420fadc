"""Injects: found due, claimed once, delivered (a message or a domain service), recorded.

Every claim is a conditional update, so with several server processes (or the
scheduler and a trainer's click at once) each inject fires exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import events
from ..clock import wall_now
from ..contexts import Context
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import domain  # noqa: F401  (registers the domain inject kinds)
from .common import inject_audience, inject_spec, run_clock, run_row, wake
from .injects import REGISTRY, Handler
from .models import (
    DrillInject,
    DrillRun,
    InjectOrigin,
    InjectStatus,
    RunStatus,
)
from .queries import inject_dict
from .scenario import Inject


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
            _, clock = run_clock(s, run)
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
                runs[inj.run_id] = run_row(s, inj.run_id)
            _record(s, inj, runs[inj.run_id], actor, stamp[inj.run_id], False, {}, "")
        return [inj.id for inj in rows]


def next_due_real() -> datetime | None:
    """When, in real time, the next pending inject of any running run comes due."""
    best: datetime | None = None
    with db.reading() as s:
        for run in s.scalars(select(DrillRun).where(DrillRun.status == RunStatus.RUNNING.value)):
            _, clock = run_clock(s, run)
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
        run = run_row(s, run_id)
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
        run = run_row(s, run_id, lock=True)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill run has ended."))
        taken = set(s.scalars(select(DrillInject.number).where(DrillInject.run_id == run_id)))
        if data.number in taken:
            raise Conflict(_l("Inject number %(n)s is taken in this drill.", n=data.number))
        row = DrillInject(run_id=run.id, number=data.number, type=data.type.value,
                          origin=InjectOrigin.ADHOC.value,
                          spec=inject_spec(data, author=actor.name),
                          due_sim=run.sim_start + data.offset)
        s.add(row)
        s.flush()
        inject_id = row.id
    if fire:
        _fire(inject_id, actor, early=True)
    wake()
    return inject_dict(inject_id)


def _validate_payload(kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    from pydantic import ValidationError

    registered = REGISTRY.get(kind)
    if registered is None:
        return [{"field": "type", "message": str(_l("The inject type %(kind)s is not available.",
                                                   kind=kind))}]
    try:
        registered.payload.model_validate(payload)
    except ValidationError as exc:
        from ..vocab import messages

        return messages.problems(exc)
    return []


def _fire(inject_id: int, actor: Actor, *, early: bool) -> bool:
    """Claim, deliver through the domain service, record; False if someone else had it.

    A message changes nothing but the log, so claim, event and record are one
    transaction; an inject that acts through a domain service is claimed and
    committed first (the service opens its own transaction), then recorded.
    """
    with db.unit_of_work() as s:
        claimed = s.execute(  # type: ignore[attr-defined]
            update(DrillInject)
            .where(DrillInject.id == inject_id, DrillInject.status == InjectStatus.PENDING.value)
            .values(status=InjectStatus.FIRING.value)
        ).rowcount
        if claimed != 1:
            return False
        inj = s.get(DrillInject, inject_id)
        assert inj is not None
        run = run_row(s, inj.run_id)
        _, clock = run_clock(s, run)
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
        handler = cast("Handler", registered.handler)  # None was recorded above
        result = handler(context=context, payload=payload, actor=actor,
                                    earlier=earlier) or {}
    except Exception as exc:  # the drill goes on; the trainer sees why this inject failed
        error = str(getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
    with db.unit_of_work() as s:
        inj = s.get(DrillInject, inject_id)
        assert inj is not None
        _record(s, inj, run_row(s, inj.run_id), actor, fired_sim, early, result, error)
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
        audience=inject_audience(spec.get("to", "")), subject=("drill_inject", inj.id),
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
