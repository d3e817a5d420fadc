"""Reading and loading administrative areas."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from .. import events
from ..contexts import LIVE
from ..events import Actor
from ..extensions import db
from .models import AdminArea

if TYPE_CHECKING:
    import geopandas as gpd


class AreaIn(BaseModel):
    code: str = Field(pattern=r"^\d{6,12}$")
    name_zh: str = Field(min_length=1, max_length=60)
    name_en: str = Field(min_length=1, max_length=80)
    level: str = Field(pattern=r"^(city|county|district|banner|town)$")
    parent_code: str | None = None
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    population: int = Field(ge=0)


def upsert_areas(*, areas: list[AreaIn], actor: Actor) -> int:
    """Insert or update areas in one transaction, one event for the whole load."""
    with db.unit_of_work() as s:
        for a in areas:
            row = s.get(AdminArea, a.code) or AdminArea(code=a.code)
            row.name_zh, row.name_en, row.level = a.name_zh, a.name_en, a.level
            row.parent_code, row.population = a.parent_code, a.population
            row.seat_lon, row.seat_lat = a.lon, a.lat
            s.add(row)
        events.append(
            s, context=LIVE, type="areas.loaded", actor=actor, audience=["role:operator"],
            payload={"count": len(areas), "codes": [a.code for a in areas]},
        )
    return len(areas)


def list_areas() -> list[AdminArea]:
    with db.reading() as s:
        return list(s.scalars(select(AdminArea).order_by(AdminArea.code)))


def areas_frame() -> gpd.GeoDataFrame:
    """Areas as a GeoDataFrame in WGS-84, the input to every spatial computation."""
    import geopandas as gpd  # heavy; loaded on first spatial use, not at start-up
    from shapely.geometry import Point

    rows = list_areas()
    return gpd.GeoDataFrame(
        {
            "code": [a.code for a in rows],
            "name_zh": [a.name_zh for a in rows],
            "name_en": [a.name_en for a in rows],
            "level": [a.level for a in rows],
            "population": [a.population for a in rows],
        },
        geometry=[Point(a.seat_lon, a.seat_lat) for a in rows],
        crs="EPSG:4326",
    )


def areas_geojson(*, boundaries: bool = False) -> dict[str, Any]:
    """Areas as GeoJSON: seat points, or (``boundaries``) their outlines where known.

    With ``boundaries`` each area whose code the packaged extract knows carries
    its polygon (its seat stays in ``seat_lon``/``seat_lat`` for the label), and
    the province the areas lie in is added as an outline for context; areas the
    extract does not know keep their seat point.
    """
    frame = areas_frame()
    if not len(frame):
        return {"type": "FeatureCollection", "features": []}
    collection = json.loads(frame.to_json(drop_id=True))
    if not boundaries:
        return collection
    from . import boundaries as shipped

    known = shipped.by_code()
    provinces: set[str] = set()
    for f in collection["features"]:
        p = f["properties"]
        p["seat_lon"], p["seat_lat"] = f["geometry"]["coordinates"]
        outline = known.get(p["code"])
        if outline is not None:
            f["geometry"] = outline["geometry"]
            provinces.add(p["code"][:2] + "0000")
    extra = [dict(known[c], properties=dict(known[c]["properties"], population=None))
             for c in sorted(provinces) if c in known]
    collection["features"] = extra + collection["features"]
    return collection
