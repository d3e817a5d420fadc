"""Load plan files with line numbers, validate them whole, and cache them by content hash.

The line-tracking parse is coordination/yamlsource.py (shared with drill
scenarios); an error reads ``plans/plague.yaml:42: phases.1.tasks.0.owner: …`` and a
reviewer can jump to it. A file either yields a whole valid plan or errors and
no plan: nothing downstream ever sees half a plan.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..vocab import positions
from ..yamlsource import FieldPath as Path_
from ..yamlsource import SourceError as PlanError
from ..yamlsource import load_model
from .schema import Plan

__all__ = ["LoadResult", "Path_", "PlanCache", "PlanError", "PlanSet", "cache", "load_file",
           "load_text", "plan_files"]


@dataclass(frozen=True)
class LoadResult:
    """One file: its hash, and either a plan or the errors that keep it out."""

    path: str
    file_hash: str
    plan: Any
    errors: tuple[PlanError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.errors


def _cross_checks(plan: Plan, catalogue: frozenset[str] | None) -> list[tuple[Path_, str]]:
    """References inside the plan (and to the stock catalogue when one is given)."""
    problems: list[tuple[Path_, str]] = []
    known_positions = positions()
    role_ids: set[str] = set()
    for i, role in enumerate(plan.roles):
        if role.id in role_ids:
            problems.append((("roles", i, "id"), f"duplicate role id {role.id!r}"))
        role_ids.add(role.id)
    phase_ids: set[str] = set()
    task_ids: set[str] = set()
    defined = set(plan.levels)
    for pi, phase in enumerate(plan.phases):
        if phase.id in phase_ids:
            problems.append((("phases", pi, "id"), f"duplicate phase id {phase.id!r}"))
        phase_ids.add(phase.id)
        for ti, task in enumerate(phase.tasks):
            at: Path_ = ("phases", pi, "tasks", ti)
            if task.id in task_ids:
                problems.append(((*at, "id"), f"duplicate task id {task.id!r}"))
            task_ids.add(task.id)
            if task.owner not in role_ids:
                problems.append(((*at, "owner"),
                                 f"unknown role {task.owner!r}; the plan's roles are "
                                 f"{', '.join(sorted(role_ids))}"))
            for li, level in enumerate(task.levels or []):
                if level not in defined:
                    problems.append(((*at, "levels", li),
                                     f"level {level} is not defined by the plan"))
            if task.levels is not None and not task.levels:
                problems.append(((*at, "levels"), "a task must apply to at least one level"))
            for si, step in enumerate(task.checklist):
                if step.responsible not in known_positions:
                    problems.append(((*at, "checklist", si, "responsible"),
                                     f"unknown position {step.responsible!r}; positions are "
                                     "named in coordination/vocab/names.yaml"))
                for ei, eq in enumerate(step.equipment):
                    if eq.item and catalogue is not None and eq.item not in catalogue:
                        problems.append(((*at, "checklist", si, "equipment", ei, "item"),
                                         f"unknown stock item {eq.item!r}"))
    for level, res in plan.resources.items():
        if level not in defined:
            problems.append((("resources", str(level)),
                             f"level {level} is not defined by the plan"))
        for ii, need in enumerate(res.items):
            if catalogue is not None and need.item not in catalogue:
                problems.append((("resources", str(level), "items", ii, "item"),
                                 f"unknown stock item {need.item!r}"))
    for ni, role_id in enumerate(plan.notify):
        if role_id not in role_ids:
            problems.append((("notify", ni), f"unknown role {role_id!r}"))
    for level in defined:
        if not plan.tasks_for(level):
            problems.append((("levels", str(level)), f"level {level} has no tasks"))
    return problems


Checks = Callable[[Any], list[tuple[Path_, str]]]


def load_text(text: str, *, name: str, catalogue: frozenset[str] | None = None,
              model: type[BaseModel] = Plan, checks: Checks | None = None) -> LoadResult:
    """Validate one plan's text; ``catalogue`` is the set of stock item codes, if known.

    ``model`` and ``checks`` let other plan-like files (event cover plans) reuse the
    line-tracking parse; ``LoadResult.plan`` then holds that model.
    """
    if checks is None and model is Plan:
        checks = lambda plan: _cross_checks(plan, catalogue)  # noqa: E731
    loaded = load_model(text, name=name, model=model, what="plan", checks=checks)
    return LoadResult(loaded.path, loaded.file_hash, loaded.model, loaded.errors)


def load_file(path: Path, *, catalogue: frozenset[str] | None = None,
              name: str | None = None, model: type[BaseModel] = Plan,
              checks: Checks | None = None) -> LoadResult:
    shown = name or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return LoadResult(shown, "", None, (PlanError(shown, 1, "", f"cannot read: {exc}"),))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LoadResult(shown, hashlib.sha256(raw).hexdigest(), None,
                          (PlanError(shown, 1, "", f"not UTF-8 text: {exc.reason}"),))
    return load_text(text, name=shown, catalogue=catalogue, model=model, checks=checks)


def plan_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` under the given files and folders, sorted."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(x for x in p.iterdir()
                                if x.suffix in (".yaml", ".yml") and x.is_file()))
        else:
            found.append(p)
    return found


@dataclass(frozen=True)
class PlanSet:
    """Every file of the plans folder: valid plans by id, and the files that failed."""

    plans: dict[str, LoadResult]
    invalid: list[LoadResult]


class PlanCache:
    """Parsed files by (path, content hash, catalogue); a changed file is re-read on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, frozenset[str] | None], LoadResult] = {}

    def load(self, directory: Path, *, catalogue: frozenset[str] | None) -> PlanSet:
        results: list[LoadResult] = []
        for path in plan_files([directory]) if directory.is_dir() else []:
            raw = path.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            key = (str(path), digest, catalogue)
            with self._lock:
                hit = self._entries.get(key)
            if hit is None:
                hit = load_file(path, catalogue=catalogue, name=f"plans/{path.name}")
                with self._lock:
                    self._entries = {k: v for k, v in self._entries.items() if k[0] != str(path)}
                    self._entries[key] = hit
            results.append(hit)
        plans: dict[str, LoadResult] = {}
        invalid: list[LoadResult] = []
        for r in results:
            if not r.ok:
                invalid.append(r)
            elif r.plan is not None and r.plan.id in plans:
                other = plans[r.plan.id].path
                invalid.append(LoadResult(r.path, r.file_hash, None, (PlanError(
                    r.path, 1, "id", f"plan id {r.plan.id!r} is already used by {other}"),)))
            elif r.plan is not None:
                plans[r.plan.id] = r
        return PlanSet(plans=plans, invalid=invalid)


cache = PlanCache()
