"""Coverage benchmark: 100,000 populated places against 500 centres.

    .venv/bin/python -m tests.benchmarks.coverage_bench
    .venv/bin/python -m tests.benchmarks.coverage_bench --places 20000 --centres 100 --runs 3

Places and centres are spread over Inner Mongolia's extent (UTM zones 48-51),
health centres with a 30 km radius and EMS stations with 20 km. It times
``compute_coverage`` (projection per UTM zone, STRtree searches, area
assignment and per-area sums) against the plain geopandas loop a first
version would write, measured in the same run: everything projected into the
one UTM zone ``estimate_utm_crs`` picks for the whole set, then for each centre
``places.distance(centre) <= radius`` accumulated. Goal: under 1 s, and 10x
the baseline. Two figures of ours: the verdicts alone (covered or not: what
the baseline computes) and the whole ``compute_coverage`` (also the distance
to the nearest centre of every uncovered place, the area of every place and
the per-area sums). It also counts where the two disagree and which of them the
geodesic distance (pyproj.Geod, on the ellipsoid) agrees with.

A second baseline is what a competent geopandas user would write instead of the
loop: the same single projection, then one ``sjoin(predicate="dwithin")`` per
radius (GEOS's STRtree under the hood). Both ratios are printed; the goal's
10x is against the loop, the sjoin ratio says how much is left beyond the index.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import Geod

from coordination.coverage.compute import WGS84, compute_coverage, covered_mask

TARGET_S = 1.0
TARGET_RATIO = 10.0
RADII = {"township_health_centre": 30.0, "ems_station": 20.0}
EXTENT = (106.0, 39.0, 124.0, 49.0)  # lon/lat box over Inner Mongolia's zones 48-51


def frames(n_places: int, n_centres: int, n_areas: int = 100,
           seed: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = EXTENT
    seats_lon, seats_lat = rng.uniform(x0, x1, n_areas), rng.uniform(y0, y1, n_areas)
    codes = [f"15{n:04d}" for n in range(n_areas)]
    areas = gpd.GeoDataFrame(
        {"code": ["150000", *codes], "parent_code": [None, *["150000"] * n_areas],
         "level": ["city", *["banner"] * n_areas], "name_zh": ["区", *codes],
         "name_en": ["Region", *codes]},
        geometry=gpd.points_from_xy([115.0, *seats_lon], [44.0, *seats_lat]), crs=WGS84)
    # Places cluster around the seats (as villages do), a tenth with no recorded area.
    home = rng.integers(0, n_areas, n_places)
    lon = np.clip(seats_lon[home] + rng.normal(0, 0.6, n_places), x0, x1)
    lat = np.clip(seats_lat[home] + rng.normal(0, 0.4, n_places), y0, y1)
    area = np.array(codes, dtype=object)[home]
    area[rng.random(n_places) < 0.1] = None
    places = gpd.GeoDataFrame(
        {"id": np.arange(1, n_places + 1), "code": [f"P{n}" for n in range(n_places)],
         "name": [f"村{n}" for n in range(n_places)], "kind": "village",
         "population": rng.integers(50, 5000, n_places), "area": area},
        geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
    at = rng.integers(0, n_areas, n_centres)
    centres = gpd.GeoDataFrame(
        {"id": np.arange(1, n_centres + 1), "code": [f"C{n}" for n in range(n_centres)],
         "name": [f"卫生院{n}" for n in range(n_centres)],
         "kind": np.where(rng.random(n_centres) < 0.8, "township_health_centre",
                          "ems_station")},
        geometry=gpd.points_from_xy(seats_lon[at] + rng.normal(0, 0.3, n_centres),
                                    seats_lat[at] + rng.normal(0, 0.2, n_centres)), crs=WGS84)
    return places, centres, areas


def baseline(places: gpd.GeoDataFrame, centres: gpd.GeoDataFrame) -> np.ndarray:
    """The plain loop: one projection for everything, one distance pass per centre."""
    crs = places.geometry.estimate_utm_crs()
    pts = places.geometry.to_crs(crs)
    cps = centres.geometry.to_crs(crs)
    covered = np.zeros(len(places), dtype=bool)
    for centre, kind in zip(cps, centres["kind"], strict=True):
        covered |= (pts.distance(centre) <= RADII[kind] * 1000.0).to_numpy()
    return covered


def sjoin_baseline(places: gpd.GeoDataFrame, centres: gpd.GeoDataFrame) -> np.ndarray:
    """One projection for everything, one spatial join per service radius."""
    crs = places.geometry.estimate_utm_crs()
    pts = gpd.GeoDataFrame(geometry=places.geometry.to_crs(crs).reset_index(drop=True))
    cps = gpd.GeoDataFrame({"kind": centres["kind"].to_numpy()},
                           geometry=centres.geometry.to_crs(crs).reset_index(drop=True))
    covered = np.zeros(len(places), dtype=bool)
    for kind, radius_km in RADII.items():
        ring = cps[cps["kind"] == kind]
        if ring.empty:
            continue
        hit = gpd.sjoin(pts, ring, how="inner", predicate="dwithin",
                        distance=radius_km * 1000.0)
        covered[np.unique(hit.index.to_numpy())] = True
    return covered


def geodesic_truth(places: gpd.GeoDataFrame, centres: gpd.GeoDataFrame,
                   rows: np.ndarray) -> np.ndarray:
    """Covered or not by ellipsoidal distance, for the given place rows."""
    geod = Geod(ellps="WGS84")
    clon, clat = centres.geometry.x.to_numpy(), centres.geometry.y.to_numpy()
    radius = centres["kind"].map(RADII).to_numpy() * 1000.0
    out = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        p = places.geometry.iloc[row]
        _, _, dist = geod.inv(np.full(len(clon), p.x), np.full(len(clon), p.y), clon, clat)
        out[i] = bool((dist <= radius).any())
    return out


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def run(n_places: int, n_centres: int, runs: int, baseline_runs: int) -> dict[str, Any]:
    places, centres, areas = frames(n_places, n_centres)
    compute_coverage(places=places.head(100), centres=centres, areas=areas, radii_km=RADII)
    flags_s, flags = timed(lambda: covered_mask(places, centres, RADII, nearest=False), runs)
    ours_s, result = timed(lambda: compute_coverage(places=places, centres=centres, areas=areas,
                                                    radii_km=RADII), runs)
    base_s, base = timed(lambda: baseline(places, centres), baseline_runs)
    sjoin_s, joined = timed(lambda: sjoin_baseline(places, centres), runs)
    ours = result.places["covered"].to_numpy()
    assert (flags[0] == ours).all()
    differ = np.flatnonzero(ours != base)
    truth = geodesic_truth(places, centres, differ)
    return {
        "places": n_places, "centres": n_centres, "areas": len(areas) - 1,
        "places_scored": int(len(ours)), "verdicts_equal": bool((flags[0] == ours).all()),
        "crs": result.crs,
        "verdicts_s": round(flags_s, 4), "coverage_s": round(ours_s, 4),
        "baseline_s": round(base_s, 4), "sjoin_s": round(sjoin_s, 4),
        "sjoin_equals_loop": bool((joined == base).all()),
        "ratio_vs_sjoin": round(sjoin_s / ours_s, 1),
        "ratio_verdicts_vs_sjoin": round(sjoin_s / flags_s, 1),
        "ratio_verdicts": round(base_s / flags_s, 1), "ratio": round(base_s / ours_s, 1),
        "covered_share": round(float(result.share or 0.0), 4),
        "disagreements": int(len(differ)),
        "ours_agree_with_geodesic": int((ours[differ] == truth).sum()),
        "baseline_agrees_with_geodesic": int((base[differ] == truth).sum()),
        "targets": {"under_s": TARGET_S, "ratio_at_least": TARGET_RATIO},
        "met": bool(ours_s < TARGET_S and base_s / ours_s >= TARGET_RATIO),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--centres", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-runs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    report = run(args.places, args.centres, args.runs, args.baseline_runs)
    print(f"coverage of {report['places']:,} places by {report['centres']} centres "
          f"({report['areas']} areas, CRS {', '.join(report['crs'])})")
    print(f"  verdicts only     {report['verdicts_s'] * 1000:8.1f} ms  "
          f"(covered_mask, nearest=False; what the baseline computes)  "
          f"{report['ratio_verdicts']:.1f}x")
    print(f"  compute_coverage  {report['coverage_s'] * 1000:8.1f} ms  (median of {args.runs}; "
          f"+ nearest centre of every uncovered place, areas and sums)")
    print(f"  baseline loop     {report['baseline_s'] * 1000:8.1f} ms  "
          f"(median of {args.baseline_runs})")
    print(f"  geopandas sjoin   {report['sjoin_s'] * 1000:8.1f} ms  (dwithin per radius, "
          f"median of {args.runs}; same verdicts as the loop: {report['sjoin_equals_loop']})")
    print(f"  ratio vs sjoin    {report['ratio_vs_sjoin']:8.1f}x   "
          f"(verdicts only {report['ratio_verdicts_vs_sjoin']:.1f}x)")
    print(f"  ratio vs loop     {report['ratio']:8.1f}x   covered share "
          f"{report['covered_share']:.1%}")
    print(f"  disagreements     {report['disagreements']:8d}   geodesic sides with ours in "
          f"{report['ours_agree_with_geodesic']}, with the baseline in "
          f"{report['baseline_agrees_with_geodesic']}")
    print(f"  goal (< {TARGET_S:g} s and >= {TARGET_RATIO:g}x): "
          f"{'met' if report['met'] else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
