"""Service-radius coverage: which people live within reach of a centre, per area.

Pure computation (no database, no Flask): frames in, result out, so the page,
the GeoJSON export, the tests and the benchmark run the same code.

How it measures, and why:

- Distances are taken in metres in a transverse Mercator projection chosen
  from the data, never on lon/lat degrees. Inner Mongolia spans UTM zones
  47-52 and even Ulanqab straddles 49 and 50 (Huade lies east of 114°E), so
  places are split by the UTM zone they lie in and each group is measured in
  its own zone's CRS (``estimate_utm_crs()`` of that group), with every centre
  projected into it. One zone for a whole region would stretch distances by
  over 1 % at its edges; inside its own zone a place is measured to better
  than 0.1 %.
- A place counts as covered when its representative point (the lon/lat the
  place is listed at) lies within the service radius of at least one centre of
  a kind in the radius table. Population is counted where it is listed, so a
  place is covered or not as a whole.
- Searches go through shapely's STRtree (``dwithin`` per kind, because each
  kind has its own radius; ``query_nearest`` for the distance to the nearest
  centre), never a loop over centres: 100,000 places against 500 centres take
  a fraction of a second (tests/benchmarks/coverage_bench.py).
- Places are summed per county-level area (banner, county, district or
  county-level city). A place's recorded area code decides when it names a
  known area (statistics are reported by code, and simplified boundary
  polygons misplace places near a border); places without one fall into the
  area polygon that contains them, when areas carry polygons; the rest go to
  the nearest area seat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

WGS84 = "EPSG:4326"
DEFAULT_RADIUS_KM = 30.0  # 服务半径30公里: the health commissions' township-centre norm
# Levels that are one county-level area; a "city" is one only when it has a parent
# (丰镇市 is a county-level city inside 乌兰察布市).
COUNTY_LEVELS = frozenset({"county", "district", "banner"})


@dataclass(frozen=True)
class AreaSummary:
    code: str
    name_zh: str
    name_en: str
    places: int
    uncovered_places: int
    population: int
    covered: int

    @property
    def uncovered(self) -> int:
        return self.population - self.covered

    @property
    def share(self) -> float | None:
        """Covered share of the population (None when nobody lives there)."""
        return self.covered / self.population if self.population else None


@dataclass
class CoverageResult:
    """Centres with their radius, places with their verdict, and the sums."""

    radii_km: dict[str, float]
    centres: gpd.GeoDataFrame  # WGS-84 points: id, code, name, kind, radius_km
    places: gpd.GeoDataFrame  # WGS-84 points: + area, covered, nearest_km, nearest_centre
    areas: list[AreaSummary]
    crs: list[str] = field(default_factory=list)  # the projected CRSs used, e.g. EPSG:32649

    @property
    def population(self) -> int:
        """Everyone listed, including places no area could be found for."""
        return int(self.places["population"].sum())

    @property
    def covered(self) -> int:
        return int(self.places.loc[self.places["covered"], "population"].sum())

    @property
    def share(self) -> float | None:
        total = self.population
        return self.covered / total if total else None

    @property
    def uncovered_places(self) -> gpd.GeoDataFrame:
        return self.places[~self.places["covered"]]


def utm_zone(lon: np.ndarray) -> np.ndarray:
    """The UTM zone number (1-60) of each longitude."""
    return (np.floor((np.asarray(lon, dtype=float) + 180.0) / 6.0).astype(int) % 60) + 1


def _points(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Representative points of a frame's geometries (points stay as they are)."""
    geoms = frame.geometry.values
    kinds = shapely.get_type_id(geoms)
    if (kinds == 0).all():
        return np.asarray(geoms)
    return np.asarray(shapely.point_on_surface(geoms))


def covered_mask(
    places: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, radii_km: dict[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Whether each place is within reach, its nearest centre and the distance (km).

    ``places`` and ``centres`` are WGS-84; ``centres`` has a ``kind`` column and
    only kinds in ``radii_km`` count. Returns (covered, nearest_km, nearest
    index into ``centres`` or -1, CRS names used).
    """
    n = len(places)
    covered = np.zeros(n, dtype=bool)
    nearest_km = np.full(n, np.nan)
    nearest_idx = np.full(n, -1, dtype=np.int64)
    kinds = centres["kind"].to_numpy() if len(centres) else np.array([], dtype=object)
    use = np.isin(kinds, list(radii_km))
    if n == 0 or not use.any():
        return covered, nearest_km, nearest_idx, []
    centre_pts = gpd.GeoSeries(_points(centres), crs=centres.crs).to_crs(WGS84)
    place_pts = gpd.GeoSeries(_points(places), crs=places.crs).to_crs(WGS84)
    zones = utm_zone(shapely.get_x(place_pts.values))
    used: list[str] = []
    for zone in np.unique(zones):
        rows = np.flatnonzero(zones == zone)
        group = place_pts.iloc[rows]
        crs: CRS = group.estimate_utm_crs()
        used.append(crs.to_string())
        xy = np.asarray(group.to_crs(crs).values)
        cxy = np.asarray(centre_pts.to_crs(crs).values)
        for kind, radius in radii_km.items():
            of_kind = np.flatnonzero(kinds == kind)
            if not len(of_kind):
                continue
            tree = shapely.STRtree(cxy[of_kind])
            hit = tree.query(xy, predicate="dwithin", distance=radius * 1000.0)[0]
            covered[rows[hit]] = True
        counted = np.flatnonzero(use)
        tree = shapely.STRtree(cxy[counted])
        (src, dst), dist = tree.query_nearest(xy, return_distance=True, all_matches=False)
        nearest_idx[rows[src]] = counted[dst]
        nearest_km[rows[src]] = dist / 1000.0
    return covered, nearest_km, nearest_idx, used


def county_of(areas: pd.DataFrame) -> dict[str, str]:
    """Map every area code to its county-level area (itself, or an ancestor)."""
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    level = dict(zip(areas["code"], areas["level"], strict=True))

    def county_level(code: str) -> bool:
        above = parent[code]
        return level[code] in COUNTY_LEVELS or (
            level[code] == "city" and isinstance(above, str) and above in level)

    out: dict[str, str] = {}
    for code in areas["code"]:
        seen, cur = set(), code
        while cur in level and not county_level(cur) and cur not in seen:
            seen.add(cur)
            cur = parent.get(cur)
        if cur in level and county_level(cur):
            out[code] = cur
    return out


def assign_areas(places: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The county-level area code of each place (see the module docstring for the order).

    ``areas`` has code, parent_code, level and a geometry that is the area's
    polygon when known, else its seat point. ``places`` has an ``area`` column
    (a code or None).
    """
    county = county_of(areas)
    out = np.array([county.get(c) if isinstance(c, str) else None for c in places["area"]],
                   dtype=object)
    todo = np.flatnonzero(pd.isna(out))
    counties = areas[areas["code"].map(lambda c: county.get(c) == c)]
    if not len(todo) or not len(counties):
        return out
    pts = gpd.GeoDataFrame(geometry=list(_points(places)[todo]), crs=places.crs).to_crs(WGS84)
    counties = counties.to_crs(WGS84)
    polygons = counties[counties.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polygons):
        inside = gpd.sjoin(pts, polygons[["code", "geometry"]], predicate="within", how="left")
        inside = inside[~inside.index.duplicated(keep="first")]
        found = inside["code"].to_numpy(dtype=object)
        ok = ~pd.isna(found)
        out[todo[ok]] = found[ok]
        todo, pts = todo[~ok], pts[~ok]
    if len(todo):
        seats = counties.copy()
        seats["geometry"] = seats.geometry.representative_point()
        crs = pd.concat([pts.geometry, seats.geometry]).pipe(
            lambda s: gpd.GeoSeries(s, crs=WGS84)).estimate_utm_crs()
        near = gpd.sjoin_nearest(pts.to_crs(crs), seats[["code", "geometry"]].to_crs(crs),
                                 how="left")
        near = near[~near.index.duplicated(keep="first")]
        out[todo] = near["code"].to_numpy(dtype=object)
    return out


def compute_coverage(
    *, places: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
    radii_km: dict[str, float],
) -> CoverageResult:
    """Coverage of ``places`` (id, code, name, kind, population, area) by ``centres``
    (id, code, name, kind) within ``radii_km`` per kind, summed per county-level area."""
    centres = centres[centres["kind"].isin(list(radii_km))].reset_index(drop=True)
    centres = centres.assign(radius_km=centres["kind"].map(radii_km).astype(float))
    covered, nearest_km, nearest_idx, used = covered_mask(places, centres, radii_km)
    out = places.reset_index(drop=True).copy()
    out["area"] = assign_areas(out, areas) if len(out) else []
    out["covered"] = covered
    out["nearest_km"] = nearest_km
    ids = centres["id"].to_numpy() if len(centres) else np.array([], dtype=np.int64)
    out["nearest_centre"] = [int(ids[i]) if i >= 0 else None for i in nearest_idx]
    out = out.to_crs(WGS84) if out.crs is not None else out.set_crs(WGS84)
    return CoverageResult(radii_km=dict(radii_km), centres=centres.to_crs(WGS84), places=out,
                          areas=summarise(out, areas), crs=used)


def summarise(places: pd.DataFrame, areas: pd.DataFrame) -> list[AreaSummary]:
    """One row per county-level area (areas without places show zeros), by code."""
    county = county_of(areas)
    names = areas.set_index("code")[["name_zh", "name_en"]]
    pop = places["population"].astype("int64")
    frame = pd.DataFrame({
        "area": places["area"], "population": pop, "covered": pop.where(places["covered"], 0),
        "places": 1, "uncovered_places": (~places["covered"].astype(bool)).astype(int),
    })
    sums = frame.dropna(subset=["area"]).groupby("area").sum()
    rows = []
    for code in sorted(set(county.values())):
        s: Any = sums.loc[code] if code in sums.index else None
        rows.append(AreaSummary(
            code=code, name_zh=str(names.at[code, "name_zh"]),
            name_en=str(names.at[code, "name_en"]),
            places=int(s["places"]) if s is not None else 0,
            uncovered_places=int(s["uncovered_places"]) if s is not None else 0,
            population=int(s["population"]) if s is not None else 0,
            covered=int(s["covered"]) if s is not None else 0,
        ))
    return rows
