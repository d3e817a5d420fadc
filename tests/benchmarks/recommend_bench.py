"""Unit recommendation benchmark: 5,000 ambulances, straight-line ETA.

    python -m tests.benchmarks.recommend_bench [--units 5000] [--queries 200]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/dbname]
    .venv/bin/pytest tests/benchmarks/test_recommend_bench.py -s

Loads ``--units`` units (4 in 5 available, 1 in 10 negative-pressure) spread
over Ulanqab into a fresh database (SQLite by default), then for ``--queries``
incidents times, in the same run:

- ``rank``: the ranking alone on the candidates' arrays, vectorised
  (recommend.straight_eta + top_k) against the naive Python loop over every
  unit (recommend.naive_rank): the ratio is what numpy buys;
- ``recommend``: the whole service call the board makes
  (``recommend.recommend``: read the candidates, rank, pick the destination)
  against the same reads followed by the naive loop.

Goal: p95 of the whole recommendation under 20 ms. Figures are printed (and
written as JSON with ``--json``), never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TARGET_MS = 20.0
CENTRE = (112.9, 41.4)  # Ulanqab


def _times(fn: Callable[[int], Any], n: int) -> list[float]:
    fn(0)  # warm up
    out = []
    for k in range(n):
        t0 = time.perf_counter()
        fn(k)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"p50_ms": round(statistics.median(ordered), 3),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
            "max_ms": round(ordered[-1], 3)}


def run(*, units: int, queries: int, database_url: str | None) -> dict[str, Any]:
    from coordination import create_app, migrate
    from coordination.events import Actor
    from coordination.extensions import db
    from coordination.facilities import service as facilities
    from coordination.facilities.schemas import NewFacility
    from coordination.incidents import fleet, recommend
    from coordination.incidents import service as incidents
    from coordination.incidents.models import Incident
    from coordination.incidents.schemas import IncidentIn
    from coordination.units import service as unit_service
    from coordination.units.schemas import NewUnit

    tmp = Path(tempfile.mkdtemp(prefix="recommend-bench-"))
    url = database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"database_url": url, "instance_path": tmp / "instance",
                      "redis_url": None, "secret_key": "bench"})
    rng = np.random.default_rng(11)
    actor = Actor.system("bench")
    with app.app_context():
        migrate.upgrade()
        lon = CENTRE[0] + rng.uniform(-1.8, 1.8, units)
        lat = CENTRE[1] + rng.uniform(-1.2, 1.2, units)
        status = np.where(rng.random(units) < 0.8, "available", "transporting")
        items = [NewUnit(call_sign=f"B{n:05d}", lon=float(lon[n]), lat=float(lat[n]),
                         status=str(status[n]), negative_pressure=bool(n % 10 == 0))
                 for n in range(units)]
        unit_service.create_units(items=items, actor=actor, region=None)
        facilities.create_facilities(items=[NewFacility.model_validate({
            "code": f"H{n}", "name": f"Hospital {n}", "kind": "designated_hospital",
            "lon": float(CENTRE[0] + rng.uniform(-1.5, 1.5)),
            "lat": float(CENTRE[1] + rng.uniform(-1, 1)),
            "initial": {"figures": {"general_bed": {"capacity": 50, "occupied": 10},
                                    "negative_pressure_room": {"capacity": 4,
                                                               "occupied": 1}}}})
            for n in range(30)], actor=actor, region=None)
        ids = []
        for k in range(queries):
            disease = {"type": "suspected_case", "disease": "plague"} if k % 4 == 0 else {
                "type": "mass_casualty"}
            body = incidents.create_incident(data=IncidentIn.model_validate({
                "lon": float(CENTRE[0] + rng.uniform(-1.5, 1.5)),
                "lat": float(CENTRE[1] + rng.uniform(-1, 1)), "patients": 2} | disease),
                actor=actor)
            ids.append((body["id"], body["lon"], body["lat"]))

        model = recommend.EtaModel()
        with db.reading() as s:
            cands = fleet.candidate_units(s, context="live", negative_pressure=False)
        triples = list(zip(cands.ids.tolist(), cands.lonlat[:, 0].tolist(),
                           cands.lonlat[:, 1].tolist(), strict=True))

        def rank_fast(k: int) -> Any:
            _i, x, y = ids[k % len(ids)]
            eta = recommend.straight_eta(x, y, cands.lonlat[:, 0], cands.lonlat[:, 1], model)
            return recommend.top_k(eta, 5)

        def rank_naive(k: int) -> Any:
            _i, x, y = ids[k % len(ids)]
            return recommend.naive_rank(x, y, triples, model, 5)

        # Same answers, or the comparison means nothing: every query, both ways.
        rank_differ = [k for k in range(len(ids))
                       if [int(cands.ids[j]) for j in rank_fast(k)]
                       != [uid for uid, _eta in rank_naive(k)]]
        assert not rank_differ, rank_differ

        def full_fast(k: int) -> Any:
            return recommend.recommend(incident_id=ids[k % len(ids)][0], limit=5,
                                       model=model, use_network=False)

        def full_naive(k: int) -> Any:
            incident_id, x, y = ids[k % len(ids)]
            with db.reading() as s:
                inc = s.get(Incident, incident_id)
                required = incidents.needs_negative_pressure(inc.disease)
                c = fleet.candidate_units(s, context="live", negative_pressure=required)
                kinds, beds = recommend.beds_needed(inc.disease)
                recommend.nearest_facilities(s, context="live", lon=x, lat=y, kinds=kinds,
                                             beds=beds, limit=3)
            return recommend.naive_rank(x, y, zip(c.ids.tolist(), c.lonlat[:, 0].tolist(),
                                                  c.lonlat[:, 1].tolist(), strict=True),
                                        model, 5)

        # The whole call picks the units the naive loop over the same reads picks.
        call_differ = [k for k in range(len(ids))
                       if [u["unit_id"] for u in full_fast(k)["units"]]
                       != [uid for uid, _eta in full_naive(k)]]
        result = {
            "database": url.split(":", 1)[0], "units": units, "candidates": len(cands),
            "queries": queries, "incidents_compared": len(ids),
            "rankings_differ": len(rank_differ), "recommendations_differ": len(call_differ),
            "rank_vectorised": _stats(_times(rank_fast, queries)),
            "rank_naive_loop": _stats(_times(rank_naive, queries)),
            "recommend_vectorised": _stats(_times(full_fast, queries)),
            "recommend_naive_loop": _stats(_times(full_naive, queries)),
        }
        db.dispose()
    result["rank_speedup_p50"] = round(result["rank_naive_loop"]["p50_ms"]
                                       / max(result["rank_vectorised"]["p50_ms"], 1e-6), 1)
    result["recommend_speedup_p50"] = round(
        result["recommend_naive_loop"]["p50_ms"]
        / max(result["recommend_vectorised"]["p50_ms"], 1e-6), 2)
    result["goal_p95_ms"] = TARGET_MS
    result["goal_met"] = result["recommend_vectorised"]["p95_ms"] < TARGET_MS
    return result


def _print(r: dict[str, Any]) -> None:
    print(f"\nRecommendation over {r['units']} units ({r['candidates']} available), "
          f"{r['queries']} queries, {r['database']}")
    for key in ("rank_vectorised", "rank_naive_loop", "recommend_vectorised",
                "recommend_naive_loop"):
        s = r[key]
        print(f"  {key:22s} p50 {s['p50_ms']:8.3f} ms  p95 {s['p95_ms']:8.3f} ms  "
              f"max {s['max_ms']:8.3f} ms")
    print(f"  ranking: vectorised is {r['rank_speedup_p50']}x the naive loop (p50); "
          f"whole call: {r['recommend_speedup_p50']}x")
    print(f"  goal: whole recommendation p95 < {r['goal_p95_ms']} ms: "
          f"{'met' if r['goal_met'] else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(units=args.units, queries=args.queries, database_url=args.database_url)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
