"""Drill benchmark: 500 injects at 60x, each fired within 1 s (drill time) of its offset.

    .venv/bin/python -m tests.benchmarks.drill_bench                  # SQLite
    .venv/bin/python -m tests.benchmarks.drill_bench --database-url postgresql+psycopg://...

The real scheduler (coordination/drills/scheduler.py) runs in a thread against
a real database; every inject is a real one (a message delivered through the
event log, or a unit status change through the units service). Lateness is
fired scenario time minus due scenario time. The baseline in the same run is
a plain poller that looks once a second (real time), as a cron-like loop
would: at 60x it is up to a minute late in drill time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

GOAL_S = 1.0


def scenario(n: int, spacing_s: float, call_signs: list[str]) -> dict[str, Any]:
    injects = []
    for k in range(n):
        offset = 5 + round(k * spacing_s, 3)
        if k % 10 == 9 and call_signs:  # every tenth changes state through a service
            kind, payload = "unit_breakdown", {"call_sign": call_signs[k % len(call_signs)]}
        else:
            kind, payload = "message", {}
        injects.append({
            "number": str(k + 1), "offset": offset, "type": kind, "payload": payload,
            "from": {"name": "bench"}, "to": "operator", "controller": "bench",
            "message": {"zh": f"注入 {k + 1}", "en": f"Inject {k + 1}"},
        })
    return {
        "id": "bench", "version": "1", "title": {"zh": "基准", "en": "Benchmark"},
        "summary": {"zh": "基准", "en": "Benchmark"},
        "objectives": [{"id": "o", "text": {"zh": "o", "en": "o"}, "capability": "c"}],
        "participants": [{"agency": "ems", "role": {"zh": "急救", "en": "EMS"}}],
        "injects": injects,
    }


def lateness(run_id: int) -> list[tuple[float, str]]:
    """(seconds late in drill time, inject kind) of every fired inject."""
    from datetime import datetime

    from coordination.drills import service

    rows = service.get_run(run_id=run_id)["injects"]
    return [((datetime.fromisoformat(i["fired"]) - datetime.fromisoformat(i["due"]))
             .total_seconds(), i["type"]) for i in rows if i["fired"]]


def measure(app: Any, path: Path, root: Path, n: int, speed: float, poller: bool) -> dict:
    from coordination.drills import scheduler, service
    from coordination.events import Actor

    actor = Actor.system("bench")
    run = service.create_run(path=path, root=root, speed=speed, actor=actor)
    stop = threading.Event()
    if poller:
        def loop() -> None:
            while not stop.is_set():
                with app.app_context():
                    service.fire_due()
                stop.wait(1.0)
        thread = threading.Thread(target=loop, daemon=True)
    else:
        thread = threading.Thread(target=scheduler.run, args=(app, stop), daemon=True)
    thread.start()
    t0 = time.perf_counter()
    service.start_run(run_id=run["id"], actor=actor)
    from sqlalchemy import func, select

    from coordination.drills.models import DrillInject
    from coordination.extensions import db

    while True:  # a cheap count, so watching does not slow what is watched
        with db.reading() as s:
            pending = s.scalar(select(func.count()).select_from(DrillInject).where(
                DrillInject.run_id == run["id"],
                DrillInject.status.in_(("pending", "firing"))))
        if not pending:
            break
        time.sleep(0.5)
    wall = time.perf_counter() - t0
    stop.set()
    service.wake()
    thread.join(timeout=5)
    pairs = lateness(run["id"])
    late = sorted(x for x, _ in pairs)
    missed = {}
    for x, kind in pairs:
        if x > GOAL_S:
            missed[kind] = missed.get(kind, 0) + 1
    statuses: dict[str, int] = {}
    for i in service.get_run(run_id=run["id"])["injects"]:
        statuses[i["status"]] = statuses.get(i["status"], 0) + 1
    service.end_run(run_id=run["id"], actor=actor)
    kinds: dict[str, list[float]] = {}
    for x, kind in pairs:
        kinds.setdefault(kind, []).append(x)
    by_kind = {kind: {"n": len(xs), "p50_s": round(statistics.median(xs), 2),
                      "max_s": round(max(xs), 2)} for kind, xs in sorted(kinds.items())}
    return {
        "scheduler": "poll every 1 s" if poller else "next-due scheduler",
        "injects": len(late), "speed": speed, "wall_s": round(wall, 1),
        "p50_s": round(statistics.median(late), 2),
        "p95_s": round(late[int(0.95 * (len(late) - 1))], 2),
        "max_s": round(late[-1], 2), "within_goal": sum(1 for x in late if x <= GOAL_S),
        "early": sum(1 for x in late if x < 0), "over_goal_by_kind": missed,
        "by_kind": by_kind, "scheduled": n, "statuses": statuses,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--injects", type=int, default=500)
    ap.add_argument("--spacing", type=float, default=20.0,
                    help="scenario seconds between injects (500 x 20 s: a 2 h 47 min MSEL)")
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--baseline-injects", type=int, default=60)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from sqlalchemy import select

    from coordination import create_app, migrate
    from coordination.demo import AREAS
    from coordination.events import Actor
    from coordination.extensions import db
    from coordination.facilities.demo import load_map_demo
    from coordination.geo.service import upsert_areas
    from coordination.stock.demo import load_stock_demo
    from coordination.units.models import Unit

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        app = create_app({"instance_path": Path(tmp) / "instance", "database_url": url,
                          "secret_key": "bench", "redis_url": None})
        results = []
        with app.app_context():
            migrate.upgrade()
            actor = Actor.system("bench")
            upsert_areas(areas=AREAS, actor=actor)
            load_map_demo(actor)
            load_stock_demo(actor)
            with db.reading() as s:
                signs = list(s.scalars(select(Unit.call_sign).where(Unit.context == "live")))
            root = Path(tmp) / "plans"
            (root / "drills").mkdir(parents=True)
            for name, n in (("main", args.injects), ("baseline", args.baseline_injects)):
                path = root / "drills" / f"{name}.yaml"
                path.write_text(yaml.safe_dump(scenario(n, args.spacing, signs),
                                               allow_unicode=True), "utf-8")
            results.append(measure(app, root / "drills" / "main.yaml", root, args.injects,
                                   args.speed, poller=False))
            results.append(measure(app, root / "drills" / "baseline.yaml", root,
                                   args.baseline_injects, args.speed, poller=True))
        db.dispose()
    for r in results:
        print(f"{r['scheduler']:>20}: {r['injects']} injects at {r['speed']:g}x in "
              f"{r['wall_s']} s; lateness (drill s) p50 {r['p50_s']}, p95 {r['p95_s']}, "
              f"max {r['max_s']}; within {GOAL_S:g} s: {r['within_goal']}/{r['injects']}; "
              f"early: {r['early']}; over the goal by kind: {r['over_goal_by_kind']}; "
              f"by kind: {r['by_kind']}")
    ratio = results[1]["p95_s"] / max(results[0]["p95_s"], 0.01)
    print(f"p95 lateness, baseline / scheduler: {ratio:.0f}x")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "ratio": ratio}, indent=2))
    return 0 if results[0]["within_goal"] == results[0]["injects"] else 1


if __name__ == "__main__":
    sys.exit(main())
