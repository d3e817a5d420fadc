"""Scenario files in ``plans/drills/``: loaded whole or not at all, errors with file and line.

Beyond the schema, a scenario is checked for what only the whole file shows:
numbers and ids unique, every reference (objective, critical task, missed
action, participant) pointing at something defined, every inject kind known to
this installation with a payload its handler accepts, and every expected action
named by an event type the system really appends.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from ..auth.roles import Role
from ..feed import DESCRIPTIONS
from ..yamlsource import FieldPath, Loaded, SourceError, load_model
from . import domain  # noqa: F401  (registers the domain inject kinds)
from .injects import REGISTRY
from .scenario import Scenario

DRILLS_DIR = Path("plans") / "drills"
# Event types drills themselves append (the trainer's console and reports use them).
DRILL_EVENTS = {"drill.started", "drill.inject_fired", "drill.message", "drill.paused",
                "drill.resumed", "drill.speed_changed", "drill.jumped", "drill.ended",
                "drill.observation"}


def known_events() -> set[str]:
    return set(DESCRIPTIONS) | DRILL_EVENTS


def _checks(sc: Scenario, plan_ids: set[str] | None = None) -> list[tuple[FieldPath, str]]:
    problems: list[tuple[FieldPath, str]] = []
    for pi, plan in enumerate(sc.plans):
        if plan_ids is not None and plan not in plan_ids:
            problems.append((("plans", pi), f"no valid plan {plan!r} in the plans folder"))
    objectives = {o.id for o in sc.objectives}
    tasks = {t.id for t in sc.critical_tasks}
    players = {p.agency for p in sc.participants} | {r.value for r in Role}
    events = known_events()
    for ci, task in enumerate(sc.critical_tasks):
        if task.objective not in objectives:
            problems.append((("critical_tasks", ci, "objective"),
                             f"unknown objective {task.objective!r}"))
    numbers: set[str] = set()
    actions: set[str] = set()
    for ii, inj in enumerate(sc.injects):
        at: FieldPath = ("injects", ii)
        if inj.number in numbers:
            problems.append(((*at, "number"), f"duplicate inject number {inj.number!r}"))
        numbers.add(inj.number)
        if inj.objective is not None and inj.objective not in objectives:
            problems.append(((*at, "objective"), f"unknown objective {inj.objective!r}"))
        if inj.to not in players:
            problems.append(((*at, "to"), f"{inj.to!r} is neither a participant nor a role"))
        problems += _payload_problems(at, str(inj.type), inj.payload)
        local: set[str] = set()
        for ai, act in enumerate(inj.expected):
            where: FieldPath = (*at, "expected", ai)
            if act.id in actions:
                problems.append(((*where, "id"), f"duplicate expected action id {act.id!r}"))
            actions.add(act.id)
            local.add(act.id)
            if act.event not in events:
                problems.append(((*where, "event"), f"unknown event type {act.event!r}"))
            if act.player not in players:
                problems.append(((*where, "player"),
                                 f"{act.player!r} is neither a participant nor a role"))
            if act.critical_task is not None and act.critical_task not in tasks:
                problems.append(((*where, "critical_task"),
                                 f"unknown critical task {act.critical_task!r}"))
        for ki, cont in enumerate(inj.contingency):
            where = (*at, "contingency", ki)
            if cont.number in numbers:
                problems.append(((*where, "number"), f"duplicate inject number {cont.number!r}"))
            numbers.add(cont.number)
            if cont.when_missed not in local:
                problems.append(((*where, "when_missed"),
                                 f"{cont.when_missed!r} is not an expected action of this inject"))
            if cont.to not in players:
                problems.append(((*where, "to"), f"{cont.to!r} is neither a participant nor "
                                                 "a role"))
            problems += _payload_problems(where, str(cont.type), cont.payload)
    return problems


def _payload_problems(at: FieldPath, kind: str, payload: dict) -> list[tuple[FieldPath, str]]:
    registered = REGISTRY.get(kind)
    if registered is None:
        return [((*at, "type"), f"inject type {kind!r} is not available in this installation")]
    try:
        registered.payload.model_validate(payload)
    except ValidationError as exc:
        return [((*at, "payload", *e["loc"]), e["msg"].removeprefix("Value error, "))
                for e in exc.errors()]
    return []


def load_text(text: str, *, name: str, plan_ids: set[str] | None = None) -> Loaded[Scenario]:
    """``plan_ids``: the valid plans a scenario may exercise (None: not checked)."""
    return load_model(text, name=name, model=Scenario, what="scenario",
                      checks=lambda sc: _checks(sc, plan_ids))


def plan_ids_in(plans_folder: Path) -> set[str] | None:
    """Ids of the valid plans in the folder a scenario file sits under, if it has any."""
    from ..plans.loader import cache

    if not plans_folder.is_dir() or not any(plans_folder.glob("*.yaml")):
        return None
    return set(cache.load(plans_folder, catalogue=None).plans)


def load_file(path: Path, *, root: Path | None = None) -> Loaded[Scenario]:
    """One scenario file; its plans are checked against ``root`` (default: the folder
    above ``drills/``, where the plans live)."""
    name = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Loaded(name, "", None, (SourceError(name, 1, "", f"cannot read: {exc}"),))
    folder = root if root is not None else path.resolve().parent.parent
    return load_text(text, name=name, plan_ids=plan_ids_in(folder))


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the *.yaml/*.yml files in folders named, sorted."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml"))
        else:
            out.append(p)
    return out


def load_all(directory: Path, *, root: Path | None = None) -> list[Loaded[Scenario]]:
    return [load_file(p, root=root) for p in scenario_files([directory])]
