"""Measure a run against its scenario, from the run's event log only.

An expected action is achieved when the first event of its type whose payload
carries the expected fields was appended after the inject fired (or, where the
scenario says ``counted_from: start``, at any time in the run: before the
inject it is achieved early); the time taken is the difference in scenario
time. Nothing is ticked by hand, so the same run always yields the same
figures, and the trainer's own judgement goes into the P/S/M/U ratings and
observations beside them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import Event
from ..extensions import db
from ..feed import QUIET, describe
from . import participants
from .models import DrillEvaluation, DrillInject, DrillObservation, DrillRun, ImprovementItem

_MISSING = object()

# Sections other domains add to the report: (session, context) -> {agency: [seconds, …]}.
AckTimes = Callable[[Session, str], dict[str, list[float]]]
_ack_sources: list[AckTimes] = []


def register_ack_times(source: AckTimes) -> None:
    if source not in _ack_sources:
        _ack_sources.append(source)


def _get(payload: Any, dotted: str) -> Any:
    cur = payload
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return cur


def matches(payload: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(_get(payload, k) == v for k, v in where.items())


Who = tuple[str, int | None, str]  # actor kind, id, name: how the event log names an actor


def first_match(s: Session, context: str, action: dict[str, Any],
                since: datetime, *, by: set[Who] | None = None) -> Event | None:
    """The first event proving ``action``; with ``by``, people and tokens count only if listed.

    The system's own events (an inject's consequence, an automatic zone) still count:
    they are the scenario's design, not someone outside the run acting in it.
    """
    where = action.get("where") or {}
    q = (select(Event).where(Event.context == context, Event.type == action["event"],
                             Event.occurred_at >= since).order_by(Event.seq))
    for ev in s.scalars(q):
        if (by is not None and ev.actor_kind != "system"
                and (ev.actor_kind, ev.actor_id, ev.actor_name) not in by):
            continue
        if matches(ev.payload or {}, where):
            return ev
    return None


def _seconds(td: timedelta) -> float:
    return round(td.total_seconds(), 1)


def _measure(s: Session, run: DrillRun, inj: DrillInject, act: dict[str, Any],
             target: float, *, by: set[Who] | None) -> dict[str, Any]:
    """When the expected action happened, counted as the scenario says.

    ``counted_from: inject`` (the default) looks only after the inject fired.
    ``counted_from: start`` looks from the start of the run: a player who acts
    before the inject that expects it (the CDC acknowledging before inject 2)
    achieved it early, with the time taken 0 and how far ahead recorded.
    """
    early_allowed = act.get("counted_from", "inject") == "start"
    since = run.sim_start if early_allowed else inj.fired_sim
    if since is None:
        return {}
    ev = first_match(s, run.context, act, since, by=by)
    if ev is None:
        return {}
    found = {"at": ev.occurred_at.isoformat(), "by": ev.actor_name}
    if inj.fired_sim is None or ev.occurred_at < inj.fired_sim:
        ahead = _seconds(inj.fired_sim - ev.occurred_at) if inj.fired_sim else None
        return found | {"taken_s": 0.0, "achieved": True, "early": True, "ahead_s": ahead,
                        "state": "early"}
    taken = _seconds(ev.occurred_at - inj.fired_sim)
    return found | {"taken_s": taken, "achieved": taken <= target, "late": taken > target,
                    "state": "ok" if taken <= target else "late"}


def evaluate(*, run_id: int) -> dict[str, Any]:
    """Every figure the after-action report shows, computed fresh."""
    with db.reading() as s:
        run = s.get(DrillRun, run_id)
        if run is None:
            from flask_babel import lazy_gettext as _l

            from ..errors import NotFound

            raise NotFound(_l("No such drill run."))
        injects = list(s.scalars(select(DrillInject).where(DrillInject.run_id == run_id)
                                 .order_by(DrillInject.due_sim, DrillInject.id)))
        # Only players who joined the run are credited with an expected action, not a
        # user or token that acted there without joining (issue 16).
        players = participants.players(s, run.context)
        joined = {(p["kind"], p["id"], p["name"]) for p in players}
        actions = []
        for inj in injects:
            for act in inj.spec.get("expected") or []:
                target = float(act["within"])
                row: dict[str, Any] = {
                    "inject": inj.number, "id": act["id"], "text": act["text"],
                    "player": act["player"], "event": act["event"],
                    "critical_task": act.get("critical_task"), "target_s": target,
                    "fired": inj.fired_sim.isoformat() if inj.fired_sim else None,
                    "achieved": False, "taken_s": None, "late": False, "at": None,
                    "early": False, "ahead_s": None, "state": "missed",
                    "counted_from": act.get("counted_from", "inject"),
                }
                row.update(_measure(s, run, inj, act, target, by=joined))
                actions.append(row)
        timeline = [
            {"seq": e.seq, "at": e.occurred_at.isoformat(), "type": e.type,
             "actor": e.actor_name, "text": describe(e.as_message())}
            for e in s.scalars(select(Event).where(Event.context == run.context,
                                                   Event.type.notin_(QUIET))
                               .order_by(Event.seq))
        ]
        ack: dict[str, list[float]] = defaultdict(list)
        for source in _ack_sources:
            for agency, values in source(s, run.context).items():
                ack[agency] += values
        observations = [
            {"at": o.at_sim.isoformat(), "player": o.player, "inject": o.inject_number,
             "text": o.text, "author": o.author}
            for o in s.scalars(select(DrillObservation).where(DrillObservation.run_id == run_id)
                               .order_by(DrillObservation.at_sim, DrillObservation.id))
        ]
        ratings = {e.task_id: {"rating": e.rating, "notes": e.notes, "author": e.author}
                   for e in s.scalars(select(DrillEvaluation)
                                      .where(DrillEvaluation.run_id == run_id))}
        improvements = [
            {"issue": i.issue, "action": i.corrective_action, "element": i.capability_element,
             "agency": i.agency, "owner": i.owner, "start": i.start.isoformat(),
             "end": i.end.isoformat()}
            for i in s.scalars(select(ImprovementItem).where(ImprovementItem.run_id == run_id)
                               .order_by(ImprovementItem.id))
        ]
        scenario = run.scenario
        inject_rows = [
            {"number": i.number, "type": i.type, "origin": i.origin, "status": i.status,
             "due": i.due_sim.isoformat(),
             "fired": i.fired_sim.isoformat() if i.fired_sim else None,
             "lateness_s": _seconds(i.fired_sim - i.due_sim) if i.fired_sim else None,
             "early": i.early, "error": i.error, "to": i.spec.get("to"),
             "message": i.spec.get("message")}
            for i in injects
        ]
        status, sim_start = run.status, run.sim_start
        sim_end = run.sim_ended_at
    achieved = sum(1 for a in actions if a["achieved"])
    return {
        "run": {"id": run_id, "title": scenario.get("title"), "status": status,
                "scenario": scenario.get("id"), "version": scenario.get("version"),
                "sim_start": sim_start.isoformat(),
                "sim_end": sim_end.isoformat() if sim_end else None},
        "objectives": scenario.get("objectives", []),
        "critical_tasks": [t | {"evaluation": ratings.get(t["id"])}
                           for t in scenario.get("critical_tasks", [])],
        "actions": actions,
        "summary": {"expected": len(actions), "achieved": achieved,
                    "late": sum(1 for a in actions if a["late"]),
                    "missed": sum(1 for a in actions if a["state"] == "missed"),
                    "early": sum(1 for a in actions if a["early"]),
                    "injects": len(inject_rows),
                    "fired": sum(1 for i in inject_rows if i["fired"]),
                    "failed": sum(1 for i in inject_rows if i["error"]),
                    "players": len(players)},
        "players": players,
        "by_player": _by_player(actions),
        "ack": {agency: {"n": len(v), "median_s": round(statistics.median(v), 1),
                         "p90_s": round(_p90(v), 1)} for agency, v in sorted(ack.items()) if v},
        "injects": inject_rows,
        "timeline": timeline,
        "observations": observations,
        "improvements": improvements,
    }


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=10, method="inclusive")[-1]


def _by_player(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in actions:
        groups[a["player"]].append(a)
    out = []
    for player, acts in sorted(groups.items()):
        taken = [a["taken_s"] for a in acts if a["taken_s"] is not None]
        out.append({"player": player, "expected": len(acts),
                    "achieved": sum(1 for a in acts if a["achieved"]),
                    "median_s": round(statistics.median(taken), 1) if taken else None})
    return out
