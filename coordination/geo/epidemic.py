"""Epidemic point (疫点) and epidemic zone (疫区) around confirmed cases.

The rule comes from the Ulanqab health commission (seeds/004): "如果疫点发生在
村庄、学校、机关、厂矿等人口密集区域周围，要将这些区域全部纳入疫点范围" — when an
epidemic point lies around a village, school, office or factory/mine (and
other populated areas: the list ends in 等), the *whole* of that area joins
the epidemic point. So the point is a buffer of the disease's radius around
every case location, united with the full shape of every populated place the
buffer touches (a place known only as a point is taken as a circle of a
radius configured per kind of place). Places are joined once: a place that
only touches another joined place, not the buffer, does not join (the rule
speaks of the areas around the point, not of a chain). The zone is the point
grown by the disease's zone radius. Administrative areas are stored as seats
(points) today, so a zone cannot yet be "the containing township".

All geometry is computed in the UTM zone of the cases (metres), with spatial
indexes for the touching test; results are WGS-84 GeoJSON. Rules per disease
live in ``coordination/incidents/data/epidemic_rules.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .crs import data_crs

RULES_FILE = Path(__file__).resolve().parent.parent / "incidents" / "data" / "epidemic_rules.yaml"


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_radius_m: float = Field(gt=0, le=100_000)
    zone_radius_m: float = Field(ge=0, le=200_000)
    joining_kinds: list[str] = Field(min_length=1)
    place_radius_m: dict[str, float] = Field(default_factory=dict)
    default_place_radius_m: float = Field(default=100, ge=0, le=50_000)
    note: str = ""


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    diseases: dict[str, RuleIn]


@dataclass(frozen=True)
class EpidemicRule:
    disease: str
    point_radius_m: float
    zone_radius_m: float
    joining_kinds: frozenset[str]
    place_radius_m: dict[str, float] = field(default_factory=dict)
    default_place_radius_m: float = 100.0

    def radius_of(self, kind: str) -> float:
        return self.place_radius_m.get(kind, self.default_place_radius_m)

    def as_dict(self) -> dict[str, Any]:
        return {"disease": self.disease, "point_radius_m": self.point_radius_m,
                "zone_radius_m": self.zone_radius_m,
                "joining_kinds": sorted(self.joining_kinds),
                "place_radius_m": dict(self.place_radius_m),
                "default_place_radius_m": self.default_place_radius_m}


def load_rules(path: Path = RULES_FILE) -> dict[str, EpidemicRule]:
    """Read and validate the per-disease rules; ValueError names what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = RulesIn.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"{path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") \
            from None
    return {
        name: EpidemicRule(disease=name, point_radius_m=r.point_radius_m,
                           zone_radius_m=r.zone_radius_m, joining_kinds=frozenset(r.joining_kinds),
                           place_radius_m=dict(r.place_radius_m),
                           default_place_radius_m=r.default_place_radius_m)
        for name, r in data.diseases.items()
    }


@lru_cache(maxsize=1)
def default_rules() -> dict[str, EpidemicRule]:
    return load_rules()


def rule_for(disease: str | None) -> EpidemicRule | None:
    """The disease's epidemic-point rule, or None when it has none."""
    if not disease:
        return None
    return default_rules().get(disease.strip().casefold())


@dataclass(frozen=True)
class EpidemicArea:
    """What the zone page and export show; geometries are WGS-84 GeoJSON."""

    point: dict[str, Any]
    zone: dict[str, Any]
    point_place_ids: list[int]
    zone_place_ids: list[int]
    point_facility_ids: list[int]
    zone_facility_ids: list[int]
    point_population: int
    zone_population: int
    point_area_km2: float
    zone_area_km2: float
    crs: str


def _ids(frame: Any, mask: np.ndarray) -> list[int]:
    return sorted(int(i) for i in frame["id"].to_numpy()[mask])


def compute_epidemic_area(
    cases: Sequence[tuple[float, float]] | np.ndarray, places: Any, rule: EpidemicRule,
    facilities: Any | None = None,
) -> EpidemicArea:
    """The epidemic point and zone of ``cases`` (lon/lat rows).

    ``places``: GeoDataFrame in WGS-84 with ``id``, ``kind``, ``population``
    and a Point/Polygon/MultiPolygon geometry. ``facilities``: GeoDataFrame in
    WGS-84 with ``id`` and a point geometry, or None.
    """
    import geopandas as gpd
    from shapely import box, intersects, points, union_all
    from shapely.geometry import mapping

    pts = np.asarray(cases, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("an epidemic point needs at least one case location")
    case_series = gpd.GeoSeries(points(pts), crs="EPSG:4326")
    crs = data_crs(case_series)
    core = union_all(case_series.to_crs(crs).buffer(rule.point_radius_m, quad_segs=16).values)

    # Only places near enough to matter are projected: a box around the core,
    # grown by the zone radius and the largest place radius, back in WGS-84.
    reach = rule.zone_radius_m + max([rule.default_place_radius_m,
                                      *rule.place_radius_m.values()]) + 1000
    minx, miny, maxx, maxy = core.bounds
    search = gpd.GeoSeries([box(minx - reach, miny - reach, maxx + reach, maxy + reach)],
                           crs=crs).to_crs("EPSG:4326").total_bounds
    hits = places.sindex.query(box(*search), predicate="intersects") if len(places) else []
    near = places.iloc[np.sort(np.asarray(hits, dtype=np.int64))]
    geoms = near.geometry.to_crs(crs)
    is_point = (geoms.geom_type == "Point").to_numpy()
    if is_point.any():
        radii = np.array([rule.radius_of(k) for k in near["kind"].to_numpy()[is_point]])
        grown = geoms.to_numpy().copy()
        grown[is_point] = gpd.GeoSeries(geoms.to_numpy()[is_point], crs=crs).buffer(
            radii, quad_segs=8).to_numpy()
        geoms = gpd.GeoSeries(grown, crs=crs, index=near.index)
    shapes = geoms.to_numpy()
    kinds = near["kind"].to_numpy()
    joins = intersects(shapes, core) & np.isin(kinds, list(rule.joining_kinds))
    point_geom = union_all([core, *shapes[joins]])
    zone_geom = point_geom.buffer(rule.zone_radius_m, quad_segs=16) if rule.zone_radius_m \
        else point_geom
    in_zone = intersects(shapes, zone_geom)
    pops = near["population"].to_numpy(dtype=np.int64) if len(near) else np.array([], np.int64)

    fac_point: list[int] = []
    fac_zone: list[int] = []
    if facilities is not None and len(facilities):
        fhits = facilities.sindex.query(box(*search), predicate="intersects")
        fnear = facilities.iloc[np.sort(np.asarray(fhits, dtype=np.int64))]
        fgeoms = fnear.geometry.to_crs(crs).to_numpy()
        fac_point = _ids(fnear, intersects(fgeoms, point_geom))
        fac_zone = _ids(fnear, intersects(fgeoms, zone_geom))

    out = gpd.GeoSeries([point_geom, zone_geom], crs=crs).to_crs("EPSG:4326")
    return EpidemicArea(
        point=mapping(out.iloc[0]), zone=mapping(out.iloc[1]),
        point_place_ids=_ids(near, joins), zone_place_ids=_ids(near, in_zone),
        point_facility_ids=fac_point, zone_facility_ids=fac_zone,
        point_population=int(pops[joins].sum()) if len(near) else 0,
        zone_population=int(pops[in_zone].sum()) if len(near) else 0,
        point_area_km2=round(point_geom.area / 1e6, 3),
        zone_area_km2=round(zone_geom.area / 1e6, 3),
        crs=str(crs),
    )
