"""Populated places: villages, schools, offices, mines, with population.

When an epidemic point lies near a village, school, office or mine, the whole
of that place joins the epidemic point (seeds/004), and coverage asks which
people live outside every service radius; both need the place's shape, not
only its centre. So each place keeps a representative point in two columns
(for fast listing and for SQLite/PostgreSQL alike) and, when known, its
geometry as GeoJSON text (a point or a polygon, WGS-84).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import events
from ..contexts import LIVE
from ..db import Base
from ..errors import ValidationFailed
from ..events import Actor
from ..extensions import db
from .models import AdminArea
from .region import BBox, check_position

if TYPE_CHECKING:
    import geopandas as gpd


class PlaceKind(StrEnum):
    VILLAGE = "village"
    TOWN = "town"
    SCHOOL = "school"
    OFFICE = "office"
    MINE = "mine"
    OTHER = "other"


PLACE_LABELS = {
    PlaceKind.VILLAGE: _l("Village"),
    PlaceKind.TOWN: _l("Town"),
    PlaceKind.SCHOOL: _l("School"),
    PlaceKind.OFFICE: _l("Office"),
    PlaceKind.MINE: _l("Mine"),
    PlaceKind.OTHER: _l("Other place"),
}


class PopulatedPlace(Base):
    __tablename__ = "populated_places"
    __table_args__ = (Index("ix_populated_places_area_code", "area_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(16))
    population: Mapped[int] = mapped_column(Integer, default=0)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.code"), nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geometry: Mapped[str | None] = mapped_column(Text, nullable=True)  # GeoJSON, WGS-84


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)  # English (pinyin), when known
    kind: PlaceKind
    population: int = Field(ge=0, le=50_000_000)
    area: str | None = Field(default=None, max_length=12)
    lon: float
    lat: float
    geometry: dict[str, Any] | None = None

    @field_validator("geometry")
    @classmethod
    def _valid_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        from shapely.geometry import shape

        try:
            geom = shape(value)
        except Exception as exc:  # noqa: BLE001 - shapely raises many kinds
            raise ValueError(f"not a GeoJSON geometry: {exc}") from None
        if geom.is_empty or not geom.is_valid:
            raise ValueError("empty or invalid geometry")
        if geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
            raise ValueError("a place is a Point, Polygon or MultiPolygon")
        return value


def upsert_places(*, places: list[PlaceIn], actor: Actor, region: BBox | None) -> int:
    """Insert or update places by code in one transaction, one event for the load."""
    with db.unit_of_work() as s:
        areas = set(s.scalars(select(AdminArea.code)))
        for n, p in enumerate(places, start=1):
            check_position(p.lon, p.lat, region, where=f"#{n} {p.code}")
            if p.area is not None and p.area not in areas:
                raise ValidationFailed(f"#{n} {p.code}: " + str(_l(
                    "Unknown area %(code)s.", code=p.area)))
        existing = {row.code: row for row in s.scalars(
            select(PopulatedPlace).where(PopulatedPlace.code.in_([p.code for p in places])))}
        for p in places:
            row = existing.get(p.code) or PopulatedPlace(code=p.code)
            row.name, row.kind, row.population = p.name, p.kind.value, p.population
            row.name_en = p.name_en
            row.area_code, row.lon, row.lat = p.area, p.lon, p.lat
            row.geometry = json.dumps(p.geometry) if p.geometry else None
            s.add(row)
        events.append(s, context=LIVE, type="places.loaded", actor=actor,
                      audience=["role:operator", "role:trainer"],
                      payload={"count": len(places)})
    return len(places)


def _geometry(p: PopulatedPlace) -> dict[str, Any]:
    if p.geometry:
        return json.loads(p.geometry)
    return {"type": "Point", "coordinates": [p.lon, p.lat]}


def places_geojson(*, kind: PlaceKind | None = None, points_only: bool = False) -> dict[str, Any]:
    """Places as a FeatureCollection; ``points_only`` sends the centre of every place."""
    with db.reading() as s:
        q = select(PopulatedPlace).order_by(PopulatedPlace.id)
        if kind is not None:
            q = q.where(PopulatedPlace.kind == kind.value)
        features = [
            {
                "type": "Feature", "id": p.id,
                "geometry": ({"type": "Point", "coordinates": [p.lon, p.lat]} if points_only
                             else _geometry(p)),
                "properties": {"id": p.id, "code": p.code, "name": p.name,
                               "name_en": p.name_en, "kind": p.kind,
                               "population": p.population, "area": p.area_code,
                               "lon": p.lon, "lat": p.lat},
            }
            for p in s.scalars(q)
        ]
    from . import rfc7946

    return rfc7946.collection(features)


def places_frame() -> gpd.GeoDataFrame:
    """Places in WGS-84 with their full geometry: the input to spatial work."""
    import geopandas as gpd
    from shapely.geometry import shape

    with db.reading() as s:
        rows = list(s.scalars(select(PopulatedPlace).order_by(PopulatedPlace.id)))
    return gpd.GeoDataFrame(
        {"id": [p.id for p in rows], "code": [p.code for p in rows],
         "name": [p.name for p in rows], "kind": [p.kind for p in rows],
         "population": [p.population for p in rows], "area": [p.area_code for p in rows]},
        geometry=[shape(_geometry(p)) for p in rows], crs="EPSG:4326",
    )
