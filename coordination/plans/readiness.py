"""Readiness before anything happens: could each plan be run at each level right now?

One row per plan and level: does every agency that owns a task at that level
have a primary on duty now and through the next 72 hours, is every position its
checklist steps name held by someone on shift now, is every required
item at or above its quantity, are enough units and isolation rooms free.
"""

from __future__ import annotations

from typing import Any

from ..contexts import LIVE, Context
from ..errors import NotFound
from ..extensions import db
from . import registry, resources, responsible, roster_link
from .schema import LEVEL_ORDER

HORIZON_HOURS = 72


def readiness(*, context: str = LIVE, hours: int = HORIZON_HOURS) -> dict[str, Any]:
    found = registry.plan_set(context=context)
    with db.reading() as s:
        ctx = s.get(Context, context)
        if ctx is None:
            raise NotFound("No such context.")
        now = ctx.clock().now()
        agencies = sorted({r.agency for lr in found.plans.values() if lr.plan
                           for r in lr.plan.roles})
    duty = roster_link.on_duty_coverage(agencies=agencies, start=now, hours=hours,
                                        context=context)
    rows = []
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
                res = resources.check(s, context, plan.resources_for(level))
                vacant = responsible.vacant(s, context=context, plan=plan, level=level, at=now)
                rows.append({
                    "plan_id": pid, "title": plan.title.model_dump(), "level": level.value,
                    "roles": roles, "roles_ok": all(r["ok"] for r in roles),
                    "items": res["items"], "items_ok": not any(i["short"] for i in res["items"]),
                    "units": res["units"], "units_ok": not any(u["short"] for u in res["units"]),
                    "isolation_rooms": res["isolation_rooms"],
                    "rooms_ok": res["isolation_rooms"]["short"] == 0,
                    "vacant_positions": vacant, "positions_ok": not vacant,
                })
    for r in rows:
        r["ready"] = (r["roles_ok"] and r["items_ok"] and r["units_ok"] and r["rooms_ok"]
                      and r["positions_ok"])
    return {"now": now.isoformat(), "hours": hours, "rows": rows}
