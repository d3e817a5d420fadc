"""Epidemic point/zone benchmark: 50,000 populated-place polygons.

    python -m tests.benchmarks.epidemic_bench [--places 50000] [--repeat 15]
    .venv/bin/pytest tests/benchmarks/epidemic_bench.py -s

Places are village/school/mine-sized polygons (80-700 m across) scattered
over 300 km x 300 km around Ulanqab, plus 2,000 facilities. Timed:
``compute_epidemic_area`` for 1, 5 and 20 confirmed cases (plague rule:
3 km point, 10 km zone), cold (first call builds the spatial index) and warm.
Goal: under 1 s.

Baseline, same run: the same answer without spatial indexes or a
prefilter (project every place, test every place against the buffer).
The two must agree. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import geopandas as gpd
import numpy as np
from shapely import intersects, union_all
from shapely.geometry import Polygon

from coordination.geo.epidemic import EpidemicRule, compute_epidemic_area, rule_for

CENTRE = (113.13, 41.03)
KINDS = np.array(["village", "school", "office", "mine", "town", "other"])


def synthetic_places(n: int, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    crs = "EPSG:32649"
    centre = gpd.GeoSeries.from_xy([CENTRE[0]], [CENTRE[1]], crs="EPSG:4326").to_crs(crs)
    cx, cy = centre.iloc[0].coords[0]
    xs = rng.uniform(cx - 150_000, cx + 150_000, n)
    ys = rng.uniform(cy - 150_000, cy + 150_000, n)
    sizes = rng.uniform(40, 350, n)
    sides = rng.integers(5, 12, n)
    polys = []
    for x, y, r, k in zip(xs, ys, sizes, sides, strict=True):
        ang = np.sort(rng.uniform(0, 2 * math.pi, k))
        rad = r * rng.uniform(0.7, 1.0, k)
        polys.append(Polygon(np.column_stack([x + rad * np.cos(ang), y + rad * np.sin(ang)])))
    frame = gpd.GeoDataFrame(
        {"id": np.arange(1, n + 1), "kind": rng.choice(KINDS, n),
         "population": rng.integers(20, 3000, n)}, geometry=polys, crs=crs)
    return frame.to_crs("EPSG:4326")


def synthetic_facilities(n: int, seed: int = 4) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({"id": np.arange(1, n + 1)}, geometry=gpd.points_from_xy(
        rng.uniform(CENTRE[0] - 1.7, CENTRE[0] + 1.7, n),
        rng.uniform(CENTRE[1] - 1.3, CENTRE[1] + 1.3, n)), crs="EPSG:4326")


def naive(cases: np.ndarray, places: gpd.GeoDataFrame, rule: EpidemicRule) -> list[int]:
    """Every place projected and tested: what the function avoids with its indexes."""
    pts = gpd.GeoSeries.from_xy(cases[:, 0], cases[:, 1], crs="EPSG:4326")
    crs = pts.estimate_utm_crs()
    core = union_all(pts.to_crs(crs).buffer(rule.point_radius_m, quad_segs=16).values)
    shapes = places.geometry.to_crs(crs).to_numpy()
    hit = intersects(shapes, core) & np.isin(places["kind"].to_numpy(), list(rule.joining_kinds))
    return sorted(int(i) for i in places["id"].to_numpy()[hit])


def run(n_places: int, repeat: int) -> dict[str, Any]:
    t = time.perf_counter()
    places = synthetic_places(n_places)
    facilities = synthetic_facilities(2000)
    make_s = time.perf_counter() - t
    rule = rule_for("plague")
    assert rule is not None
    rng = np.random.default_rng(5)
    report: dict[str, Any] = {"places": n_places, "made_in_s": round(make_s, 1), "runs": {}}
    for n_cases in (1, 5, 20):
        cases = np.column_stack([CENTRE[0] + rng.normal(0, 0.05, n_cases),
                                 CENTRE[1] + rng.normal(0, 0.04, n_cases)])
        fresh = places.copy()  # no spatial index yet: the cold call builds it
        t = time.perf_counter()
        area = compute_epidemic_area(cases, fresh, rule, facilities)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(repeat):
            t = time.perf_counter()
            compute_epidemic_area(cases, fresh, rule, facilities)
            warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        base = naive(cases, places, rule)
        naive_s = time.perf_counter() - t
        report["runs"][n_cases] = {
            "cold_ms": round(cold * 1000, 1),
            "warm_p50_ms": round(float(np.percentile(warm, 50)) * 1000, 1),
            "warm_p95_ms": round(float(np.percentile(warm, 95)) * 1000, 1),
            "naive_ms": round(naive_s * 1000, 1),
            "ratio_naive_to_cold": round(naive_s / cold, 1),
            "joined": len(area.point_place_ids), "zone_places": len(area.zone_place_ids),
            "zone_population": area.zone_population,
            "zone_facilities": len(area.zone_facility_ids),
            "agrees_with_naive": base == area.point_place_ids,
        }
    return report


def _print(r: dict[str, Any]) -> None:
    print(f"\nepidemic point/zone over {r['places']} place polygons "
          f"(synthetic set made in {r['made_in_s']} s); goal < 1000 ms")
    for n, v in r["runs"].items():
        print(f"  {n:>2} cases: cold {v['cold_ms']} ms, warm p50 {v['warm_p50_ms']} ms / "
              f"p95 {v['warm_p95_ms']} ms; naive (no index) {v['naive_ms']} ms, "
              f"ratio {v['ratio_naive_to_cold']}x; {v['joined']} places joined, "
              f"{v['zone_places']} in zone, population {v['zone_population']}, "
              f"{v['zone_facilities']} facilities; agrees {v['agrees_with_naive']}")


def test_epidemic_bench() -> None:
    report = run(50_000, 10)
    _print(report)
    assert all(v["agrees_with_naive"] for v in report["runs"].values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--places", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    _print(run(args.places, args.repeat))


if __name__ == "__main__":
    main()
