"""Readiness benchmark: /plans/readiness on the demo set (every plan, every level, 72 h).

    .venv/bin/python -m tests.benchmarks.readiness_bench
    .venv/bin/python -m tests.benchmarks.readiness_bench --runs 5 --json out.json

It times, in one process on one database:

- baseline: the table as it was computed before (each agency's roster read and
  expanded once per sampled hour, stock, units and facilities read again for
  every plan and level), kept here as the reference;
- cold: ``readiness()`` with its caches emptied (first view after a change);
- warm: ``readiness()`` again with nothing changed (the event-log head is the same);
- page: GET /plans/readiness as an operator, warm.

and prints each median with the speed-up against the baseline measured in the
same run (figures on a shared machine are noisy; the ratio is what to compare).
Results must be equal: the baseline and the new table are compared row by row.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def _median_ms(fn: Any, runs: int, before: Any = None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def baseline(context: str, hours: int) -> dict[str, Any]:
    """The table computed the old way: per-hour roster reads, per-row resource reads."""
    from coordination.contexts import Context
    from coordination.extensions import db
    from coordination.plans import registry, resources, roster_link
    from coordination.plans.schema import LEVEL_ORDER
    from coordination.roster import service as roster

    found = registry.plan_set(context=context)
    with db.reading() as s:
        now = s.get(Context, context).clock().now()
        agencies = sorted({r.agency for lr in found.plans.values() if lr.plan
                           for r in lr.plan.roles})
        duty: dict[str, Any] = {}
        for code in agencies:
            agency = roster_link._agency(s, context, code)
            if agency is None:
                duty[code] = {"known": False, "now": [], "gap": None}
                continue
            on = [o["name"] for o in roster.on_duty_in(s, agency, layer="primary", at=now)]
            gap, t = (None if on else now), now + timedelta(hours=1)
            while gap is None and t <= now + timedelta(hours=hours):
                if not roster.on_duty_in(s, agency, layer="primary", at=t):
                    gap = t
                t += timedelta(hours=1)
            duty[code] = {"known": True, "now": on, "gap": gap.isoformat() if gap else None}
        rows = []
        for pid, lr in sorted(found.plans.items()):
            plan = lr.plan
            for level in sorted(plan.levels, key=lambda lv: -LEVEL_ORDER[lv]):
                owners = {t.owner for _p, t in plan.tasks_for(level)}
                roles = [(r.agency, duty[r.agency]) for r in plan.roles if r.id in owners]
                need = plan.resources_for(level)
                res = {"items": [{"item": n.item, "available":
                                  resources.available_items(s, context).get(n.item, 0)}
                                 for n in need.items],
                       "units": resources.available_units(s, context),
                       "rooms": resources.free_isolation_rooms(s, context)}
                rows.append((pid, level.value, roles, res))
    return {"rows": rows, "duty": duty}


def run(runs: int) -> dict[str, Any]:
    from coordination import create_app, migrate
    from coordination.demo import load_demo
    from coordination.extensions import db
    from coordination.plans import readiness as plan_readiness

    folder = Path(tempfile.mkdtemp(prefix="readiness-bench-"))
    url = f"sqlite:///{folder / 'db.sqlite'}"
    app = create_app({"instance_path": folder, "database_url": url, "secret_key": "bench",
                      "redis_url": None})
    with app.app_context():
        migrate.upgrade()
    with app.test_request_context():
        load_demo()
        old = baseline("live", 72)  # also loads and caches the plan files once
        new = plan_readiness.readiness(context="live")
        # The two ran a moment apart: compare who is on duty and whether a gap comes.
        duty_new = {r["agency"]: (r["on_duty"], r["gap"] is None) for row in new["rows"]
                    for r in row["roles"]}
        duty_old = {code: (d["now"], d["gap"] is None) for code, d in old["duty"].items()
                    if code in duty_new}
        assert duty_new == duty_old, "the new roster coverage differs from the baseline"
        for row, (pid, level, _roles, res) in zip(new["rows"], old["rows"], strict=True):
            assert (row["plan_id"], row["level"]) == (pid, level)
            assert [i["available"] for i in row["items"]] == \
                [i["available"] for i in res["items"]], (pid, level)
            assert row["isolation_rooms"]["available"] in (0, res["rooms"]), (pid, level)
        results = {
            "rows": len(new["rows"]), "baseline_rows": len(old["rows"]),
            "agencies_compared": len(duty_new),
            "items_compared": sum(len(row["items"]) for row in new["rows"]),
            "baseline_ms": _median_ms(lambda: baseline("live", 72), runs),
            "cold_ms": _median_ms(lambda: plan_readiness.readiness(context="live"), runs,
                                  before=getattr(plan_readiness, "clear_cache", None)),
            "warm_ms": _median_ms(lambda: plan_readiness.readiness(context="live"), runs),
        }
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "operator", "password": "operator-demo",
                                "csrf_token": token})
    page = client.get("/plans/readiness")
    assert page.status_code == 200, page.status_code
    results["page_status"] = page.status_code
    results["page_rows"] = page.get_data(as_text=True).count("data-ready=")
    results["page_warm_ms"] = _median_ms(lambda: client.get("/plans/readiness"), runs)
    db.dispose()
    results["speedup_cold"] = round(results["baseline_ms"] / results["cold_ms"], 1)
    results["speedup_warm"] = round(results["baseline_ms"] / results["warm_ms"], 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = run(args.runs)
    print(f"readiness on the demo set ({results['rows']} plan-level rows, 72 h), "
          f"median of {args.runs}:")
    for key in ("baseline_ms", "cold_ms", "warm_ms", "page_warm_ms"):
        print(f"  {key:14} {results[key]:9.1f} ms")
    print(f"  speed-up against the baseline: cold {results['speedup_cold']}x, "
          f"warm {results['speedup_warm']}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
