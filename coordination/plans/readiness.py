"""Readiness before anything happens: could each plan be run at each level right now?

One row per plan and level: does every agency that owns a task at that level
have a primary on duty now and through the next 72 hours, is every position its
checklist steps name held by someone on shift now, is every required
item at or above its quantity, are enough units and isolation rooms free.

Everything the table reads from the database (stock, units, isolation rooms,
every named agency's roster) is read once per view, and kept per context
while the context's event-log head, the date (lots expire at midnight) and the
plan files stay the same: every change to those rows appends an event, so the
kept inputs are exact. The duty window itself moves with the clock and is
expanded from the kept roster on every view.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from .. import events
from ..contexts import LIVE, context_row
from ..extensions import db
from . import duty_cover, recipients, registry, resources, responsible
from .schema import LEVEL_ORDER

HORIZON_HOURS = 72
CACHE_SIZE = 16  # contexts (live and a few drills) kept at once

Inputs = tuple[resources.Available, dict[str, duty_cover.AgencyDuty | None]]
_cache: OrderedDict[tuple[str, str, int, date, tuple[str, ...]], Inputs] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _inputs(context: str, agencies: list[str], plan_hashes: tuple[str, ...]
            ) -> tuple[Any, Inputs]:
    """The clock's now, and the table's database inputs (kept while nothing changed)."""
    with db.reading() as s:
        ctx = context_row(s, context)
        now = ctx.clock().now()
        # The database is part of the key: a process (a test run) may open several.
        assert db.engine is not None
        key = (db.engine.url.render_as_string(), context, events.head(s, context), now.date(),
               plan_hashes)
        with _lock:
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
                return now, hit
        value = (resources.available(s, context), duty_cover.load(s, context, agencies))
    with _lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return now, value


def readiness(*, context: str = LIVE, hours: int = HORIZON_HOURS) -> dict[str, Any]:
    found = registry.plan_set(context=context)
    agencies = sorted({r.agency for lr in found.plans.values() if lr.plan
                       for r in lr.plan.roles})
    hashes = tuple(sorted(lr.file_hash for lr in found.plans.values()))
    now, (have, roster) = _inputs(context, agencies, hashes)
    duty = duty_cover.coverage(roster, start=now, hours=hours)
    rows = []
    seen: dict[str, dict[str, Any]] = {}
    with db.reading() as s:
        for pid, lr in sorted(found.plans.items()):
            plan = lr.plan
            assert plan is not None
            for level in sorted(plan.levels, key=lambda lv: -LEVEL_ORDER[lv]):
                owners = {t.owner for _p, t in plan.tasks_for(level)}
                roles = []
                for role in plan.roles:
                    if role.id not in owners:
                        continue
                    d = duty[role.agency]
                    roles.append({"role": role.id, "agency": role.agency,
                                  "title": role.title.model_dump(), "known": d["known"],
                                  "on_duty": d["now"], "gap": d["gap"],
                                  "ok": d["known"] and bool(d["now"]) and d["gap"] is None})
                res = resources.compare(plan.resources_for(level), have)
                vacant = responsible.vacant(s, context=context, plan=plan, level=level, at=now)
                # No task to nobody: the tasks that would reach no one if activated now.
                unreached = [{"task_id": g["task_id"], "title": g["title"],
                              "role_title": g["role_title"], "agency": g["agency"],
                              "kept": g["kept"]}
                             for g in recipients.gaps(recipients.check(
                                 s, context=context, plan=plan, pairs=plan.tasks_for(level),
                                 at=now, cache=seen))]
                rows.append({
                    "plan_id": pid, "title": plan.title.model_dump(), "level": level.value,
                    "roles": roles, "roles_ok": all(r["ok"] for r in roles),
                    "items": res["items"], "items_ok": not any(i["short"] for i in res["items"]),
                    "units": res["units"], "units_ok": not any(u["short"] for u in res["units"]),
                    "isolation_rooms": res["isolation_rooms"],
                    "rooms_ok": res["isolation_rooms"]["short"] == 0,
                    "vacant_positions": vacant, "positions_ok": not vacant,
                    "unreached_tasks": unreached, "recipients_ok": not unreached,
                })
    for r in rows:
        r["ready"] = (r["roles_ok"] and r["items_ok"] and r["units_ok"] and r["rooms_ok"]
                      and r["positions_ok"] and r["recipients_ok"])
    return {"now": now.isoformat(), "hours": hours, "rows": rows}
