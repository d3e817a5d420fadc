"""Service-radius coverage: which people live within reach of a centre, per area.

Pure computation (no database, no Flask): frames in, result out, so the page,
the GeoJSON export, the tests and the benchmark run the same code.

How it measures, and why:

- Distances are taken in metres in a transverse Mercator projection chosen
  from the data, never on lon/lat degrees. Inner Mongolia spans UTM zones
  47-52 and even Ulanqab straddles 49 and 50 (Huade lies east of 114°E), so
  places are split by the UTM zone they lie in and each group is measured in
  its own zone's CRS (what ``estimate_utm_crs()`` gives for that group, derived
  without its database query: ``zone_crs``), with every centre projected into
  it. One zone for a whole region would stretch distances by over 1 % at its
  edges; inside its own zone, with the zone's scale factor taken out, a
  service radius is measured to within a few metres of the geodesic.
- A place counts as covered when its representative point (the lon/lat the
  place is listed at) lies within the service radius of at least one centre of
  a kind in the radius table. Population is counted where it is listed, so a
  place is covered or not as a whole.
- Searches go through spatial indexes, never a loop over centres: an STRtree
  of the circles' envelopes finds the candidate (place, centre) pairs, whose
  distances are then measured exactly on projected coordinate arrays; the
  nearest centre of an uncovered place comes from ``STRtree.query_nearest``.
  100,000 places against 500 centres take a fraction of a second
  (tests/benchmarks/coverage_bench.py).
- Places are summed per county-level area (banner, county, district or
  county-level city). A place's recorded area code decides when it names a
  known area (statistics are reported by code, and simplified boundary
  polygons misplace places near a border); places without one fall into the
  area polygon that contains them, when areas carry polygons; the rest go to
  the nearest area seat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..geo.crs import WGS84, data_crs, utm_zone, zone_crs, zone_transformer

__all__ = ["WGS84", "data_crs", "utm_zone", "zone_crs"]
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
    # WGS-84 representative points: + area, covered, nearest_km, nearest_centre
    places: gpd.GeoDataFrame
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


def _points(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Representative points of a frame's geometries in WGS-84 (points stay as they are)."""
    if frame.crs is not None and not CRS(frame.crs).equals(CRS(WGS84)):
        frame = frame.to_crs(WGS84)
    geoms = np.asarray(frame.geometry.values)
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        return geoms
    return np.asarray(shapely.point_on_surface(geoms))


# A circle of r metres spans at most r / 110,574 degrees of latitude and
# r / (111,319.49 cos φ) of longitude at its far latitude φ (the ellipsoid's
# degrees are never shorter); 2 % more absorbs UTM's scale (0.9996-1.001).
_M_PER_DEG_LAT_MIN = 110_574.0
_M_PER_DEG_LON_EQ = 111_319.49
_PAD = 1.02
# UTM's scale grows from 0.9996 on the central meridian as 1 + E²/2R² with the
# distance E from it (false easting 500 km); dividing by it turns grid metres
# into ground metres to within centimetres over a service radius.
_K0, _FALSE_EASTING, _EARTH_R = 0.9996, 500_000.0, 6_371_000.0


def _ground(grid_m: np.ndarray, x_mid: np.ndarray) -> np.ndarray:
    """Grid distances whose midpoints lie at easting ``x_mid``, as ground distances."""
    e = x_mid - _FALSE_EASTING
    return grid_m / (_K0 * (1.0 + e * e / (2.0 * _EARTH_R * _EARTH_R)))


def candidate_pairs(place_pts: np.ndarray, clon: np.ndarray, clat: np.ndarray,
                    radius_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(place, centre) index pairs whose distance may be within the centre's radius.

    An STRtree of the places answers, for each centre's circle envelope in
    degrees, which places fall inside: a superset of the true pairs, never
    missing one. For points an envelope test is exact, so no predicate is run.
    """
    dlat = radius_m / _M_PER_DEG_LAT_MIN * _PAD
    far = np.minimum(np.abs(clat) + dlat, 89.0)
    dlon = np.minimum(radius_m / (_M_PER_DEG_LON_EQ * np.cos(np.radians(far))) * _PAD, 180.0)
    tree = shapely.STRtree(place_pts)
    found = tree.query(shapely.box(clon - dlon, clat - dlat, clon + dlon, clat + dlat))
    return found[1], found[0]


def covered_mask(
    places: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, radii_km: dict[str, float], *,
    nearest: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Whether each place is within reach, the serving or nearest centre and its distance.

    ``centres`` has a ``kind`` column; only kinds in ``radii_km`` count. For a
    covered place the centre is the nearest one whose radius takes it in; for
    an uncovered place, the nearest centre of any counted kind (how far off it
    is). Returns (covered, distance in km, index into ``centres`` or -1, the
    projected CRSs used).

    Candidates come from an STRtree of circle envelopes (``candidate_pairs``);
    each candidate's distance is then measured exactly in the place's UTM zone,
    on coordinate arrays, with no per-place geometry built. Uncovered places
    get their nearest centre from ``STRtree.query_nearest`` in their zone
    (skipped with ``nearest=False``, when only the verdict is wanted: it is the
    costlier half of the work when many places are far from every centre).
    """
    n = len(places)
    covered = np.zeros(n, dtype=bool)
    best_m = np.full(n, np.inf)
    best_idx = np.full(n, -1, dtype=np.int64)
    kinds = centres["kind"].to_numpy() if len(centres) else np.array([], dtype=object)
    counted = np.flatnonzero(np.isin(kinds, list(radii_km)))
    if n == 0 or not len(counted):
        return covered, np.full(n, np.nan), best_idx, []
    pts = _points(places)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    cpts = _points(centres)[counted]
    clon, clat = shapely.get_x(cpts), shapely.get_y(cpts)
    radius_m = np.array([radii_km[k] for k in kinds[counted]], dtype=float) * 1000.0
    zone_list, zi = np.unique(utm_zone(lon), return_inverse=True)
    north = bool(np.median(lat) >= 0)
    x, y = np.empty(n), np.empty(n)
    cx, cy = np.empty((len(zone_list), len(counted))), np.empty((len(zone_list), len(counted)))
    used: list[str] = []
    for z, zone in enumerate(zone_list.tolist()):
        rows = zi == z
        to_zone = zone_transformer(zone, north)
        x[rows], y[rows] = to_zone.transform(lon[rows], lat[rows])
        cx[z], cy[z] = to_zone.transform(clon, clat)
        used.append(zone_crs(zone, north).to_string())
    pi, ci = candidate_pairs(pts, clon, clat, radius_m)
    pz = zi[pi]
    dist = _ground(np.hypot(x[pi] - cx[pz, ci], y[pi] - cy[pz, ci]), (x[pi] + cx[pz, ci]) / 2)
    inside = dist <= radius_m[ci]
    pi, ci, dist = pi[inside], ci[inside], dist[inside]
    covered[pi] = True
    # The serving centre: the nearest of those whose radius takes the place in.
    np.minimum.at(best_m, pi, dist)
    nearest_pair = dist == best_m[pi]
    best_idx[pi[nearest_pair]] = ci[nearest_pair]
    for z in range(len(zone_list) if nearest else 0):
        rows = np.flatnonzero(~covered & (zi == z))
        if not len(rows):
            continue
        tree = shapely.STRtree(shapely.points(cx[z], cy[z]))
        (src, dst), d = tree.query_nearest(shapely.points(x[rows], y[rows]),
                                           return_distance=True, all_matches=False)
        best_m[rows[src]] = _ground(d, (x[rows[src]] + cx[z, dst]) / 2)
        best_idx[rows[src]] = dst
    nearest_centre = np.where(best_idx >= 0, counted[np.maximum(best_idx, 0)], -1)
    return covered, np.where(np.isfinite(best_m), best_m / 1000.0, np.nan), nearest_centre, used


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
    out = places["area"].map(county).astype(object).to_numpy().copy()
    out[pd.isna(out)] = None
    todo = np.flatnonzero(pd.isna(out))
    counties = areas[areas["code"].map(lambda c: county.get(c) == c)]
    if not len(todo) or not len(counties):
        return out
    pts = gpd.GeoDataFrame(geometry=list(_points(places)[todo]), crs=WGS84)
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
        # Ranking seats by distance needs no better than one zone's projection.
        crs = data_crs(gpd.GeoSeries(pd.concat([pts.geometry, seats.geometry]), crs=WGS84))
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
    nearest = pd.array(np.where(nearest_idx >= 0, ids[np.maximum(nearest_idx, 0)], 0)
                       if len(ids) else np.zeros(len(out), dtype=np.int64), dtype="Int64")
    nearest[nearest_idx < 0] = pd.NA
    out["nearest_centre"] = nearest
    # Each place is shown where it was measured: its representative point, WGS-84.
    out = out.set_geometry(gpd.GeoSeries(_points(out) if len(out) else [], crs=WGS84))
    centres = centres if CRS(centres.crs).equals(CRS(WGS84)) else centres.to_crs(WGS84)
    return CoverageResult(radii_km=dict(radii_km), centres=centres, places=out,
                          areas=summarise(out, areas), crs=used)


def summarise(places: pd.DataFrame, areas: pd.DataFrame) -> list[AreaSummary]:
    """One row per county-level area (areas without places show zeros), by code."""
    county = county_of(areas)
    name_zh = dict(zip(areas["code"], areas["name_zh"], strict=True))
    name_en = dict(zip(areas["code"], areas["name_en"], strict=True))
    pop = places["population"].astype("int64")
    frame = pd.DataFrame({
        "area": places["area"], "population": pop, "covered": pop.where(places["covered"], 0),
        "places": 1, "uncovered_places": (~places["covered"].astype(bool)).astype(int),
    })
    codes = sorted(set(county.values()))
    sums = frame.dropna(subset=["area"]).groupby("area").sum().reindex(codes, fill_value=0)
    return [
        AreaSummary(code=code, name_zh=str(name_zh[code]), name_en=str(name_en[code]),
                    places=int(pl),
                    uncovered_places=int(up), population=int(po), covered=int(co))
        for code, pl, up, po, co in zip(
            codes, sums["places"], sums["uncovered_places"], sums["population"],
            sums["covered"], strict=True)
    ]
