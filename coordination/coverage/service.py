"""Coverage of the population by service radii: read the data, compute, export.

Reads facilities of one context, populated places and administrative areas,
hands them to the pure computation (compute.py) and shapes the result for
the page and for the GeoJSON export. Nothing is written: a what-if radius is a
question, not a change, so it leaves no event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select

from ..contexts import LIVE, get_clock
from ..extensions import db
from ..facilities.models import Facility
from ..geo import rfc7946
from ..geo.models import AdminArea
from ..geo.places import places_frame
from .compute import WGS84, CoverageResult, compute_coverage, utm_zone, zone_crs


@dataclass(frozen=True)
class CoverageReport:
    """One coverage computation and when it was made (the context's time)."""

    result: CoverageResult
    at: datetime
    context: str
    seats: dict[str, tuple[float, float]]  # area code -> seat (lon, lat)


def _centres_frame(session: Any, context: str, kinds: list[str]) -> gpd.GeoDataFrame:
    rows = list(session.scalars(
        select(Facility).where(Facility.context == context, Facility.kind.in_(kinds))
        .order_by(Facility.id)))
    return gpd.GeoDataFrame(
        {"id": [f.id for f in rows], "code": [f.code for f in rows],
         "name": [f.name for f in rows], "kind": [f.kind for f in rows],
         "area": [f.area_code for f in rows]},
        geometry=gpd.points_from_xy([f.lon for f in rows], [f.lat for f in rows]), crs=WGS84)


def _areas_frame(session: Any) -> gpd.GeoDataFrame:
    """Areas with their seat as geometry (no boundary polygons are stored yet)."""
    rows = list(session.scalars(select(AdminArea).order_by(AdminArea.code)))
    return gpd.GeoDataFrame(
        {"code": [a.code for a in rows], "parent_code": [a.parent_code for a in rows],
         "level": [a.level for a in rows], "name_zh": [a.name_zh for a in rows],
         "name_en": [a.name_en for a in rows],
         "seat_lon": [a.seat_lon for a in rows], "seat_lat": [a.seat_lat for a in rows]},
        geometry=gpd.points_from_xy([a.seat_lon for a in rows], [a.seat_lat for a in rows]),
        crs=WGS84)


def compute_report(*, radii_km: Mapping[str, float], context: str = LIVE) -> CoverageReport:
    """Coverage of every populated place by the centres of ``context`` within ``radii_km``."""
    with db.reading() as s:
        at = get_clock(s, context).now()
        centres = _centres_frame(s, context, list(radii_km))
        areas = _areas_frame(s)
    result = compute_coverage(places=places_frame(), centres=centres, areas=areas,
                              radii_km=dict(radii_km))
    seats = {c: (lon, lat) for c, lon, lat in zip(areas["code"], areas["seat_lon"],
                                                   areas["seat_lat"], strict=True)}
    return CoverageReport(result=result, at=at, context=context, seats=seats)


def circles(centres: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each centre's service circle as a WGS-84 polygon, buffered in its own UTM zone."""
    out = gpd.GeoSeries([None] * len(centres), crs=WGS84, index=centres.index)
    if not len(centres):
        return out
    zones = utm_zone(shapely.get_x(centres.geometry.values))
    for zone in np.unique(zones):
        part = centres[zones == zone]
        crs = zone_crs(int(zone), bool(part.geometry.y.mean() >= 0))
        buffered = part.geometry.to_crs(crs).buffer(part["radius_km"].to_numpy() * 1000.0, 64)
        out.loc[part.index] = buffered.to_crs(WGS84)
    return out


def _id(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def summary(report: CoverageReport) -> dict[str, Any]:
    """The figures of a report as plain JSON: radii, totals and one row per area."""
    r = report.result
    return {
        "at": report.at.isoformat(),
        "context": report.context,
        "radii_km": r.radii_km,
        "centres": len(r.centres),
        "places": len(r.places),
        "uncovered_places": int((~r.places["covered"]).sum()),
        "population": r.population,
        "covered": r.covered,
        "uncovered": r.population - r.covered,
        "share": r.share,
        "crs": r.crs,
        "areas": [
            {"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "places": a.places,
             "uncovered_places": a.uncovered_places, "population": a.population,
             "covered": a.covered, "uncovered": a.uncovered, "share": a.share}
            for a in r.areas
        ],
    }


def coverage_geojson(report: CoverageReport, *, with_circles: bool = False) -> dict[str, Any]:
    """Centres with their radius, uncovered places and per-area figures, as RFC 7946 GeoJSON.

    Centres are points with ``radius_m`` (or, ``with_circles``, their circle as a
    polygon, for GIS tools that draw no radius); each county-level area is a
    point at its seat carrying its figures; the totals ride in the collection's
    ``coverage`` member.
    """
    r = report.result
    features: list[dict[str, Any]] = []
    shapes = circles(r.centres) if with_circles else r.centres.geometry
    for row, geom in zip(r.centres.itertuples(index=False), shapes, strict=True):
        features.append({
            "type": "Feature", "id": f"centre-{row.id}",
            "geometry": rfc7946.geometry(geom),
            "properties": {"feature": "centre", "id": int(row.id), "code": row.code,
                           "name": row.name, "kind": row.kind, "area": row.area,
                           "radius_km": float(row.radius_km),
                           "radius_m": float(row.radius_km) * 1000.0},
        })
    for row in r.uncovered_places.itertuples(index=False):
        features.append({
            "type": "Feature", "id": f"place-{row.id}",
            "geometry": rfc7946.geometry(row.geometry),
            "properties": {"feature": "uncovered_place", "id": int(row.id), "code": row.code,
                           "name": row.name, "kind": row.kind,
                           "population": int(row.population), "area": row.area,
                           "nearest_km": _num(round(float(row.nearest_km), 2)),
                           "nearest_centre": _id(row.nearest_centre)},
        })
    for a in summary(report)["areas"]:
        if a["code"] not in report.seats:
            continue
        lon, lat = report.seats[a["code"]]
        features.append({"type": "Feature", "id": f"area-{a['code']}",
                         "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"feature": "area", **a}})
    return {"type": "FeatureCollection", "coverage": summary(report), "features": features}


def largest_uncovered(report: CoverageReport, limit: int = 50) -> list[dict[str, Any]]:
    """The most populous places outside every radius, largest first: where to look first."""
    frame = report.result.uncovered_places.sort_values(
        ["population", "name"], ascending=[False, True]).head(limit)
    return [{"code": p.code, "name": p.name, "kind": p.kind, "area": p.area,
             "population": int(p.population), "nearest_km": _num(float(p.nearest_km)),
             "nearest_centre": _id(p.nearest_centre)}
            for p in frame.itertuples(index=False)]
