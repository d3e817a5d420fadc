"""Epidemic zones (疫点/疫区) and their versions.

A zone groups the confirmed cases of one disease that lie together; every
change of its cases (or a recomputation after places were reloaded) appends
a version, never overwriting one, so the command room can show how the zone
grew and an after-action report can replay it. Populated places keep their
polygons in ``populated_places.geometry`` (GeoJSON, already there), so no
place table is needed here; a version stores the ids it found.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class ZoneStatus(StrEnum):
    ACTIVE = "active"
    LIFTED = "lifted"


class EpidemicZone(Base):
    __tablename__ = "epidemic_zones"
    __table_args__ = (Index("ix_epidemic_zones_context_disease", "context", "disease"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    disease: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ZoneStatus.ACTIVE.value)
    version: Mapped[int] = mapped_column(Integer, default=0)
    case_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EpidemicZoneVersion(Base):
    __tablename__ = "epidemic_zone_versions"
    __table_args__ = (UniqueConstraint("zone_id", "version", name="uq_epidemic_zone_versions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("epidemic_zones.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    point_geojson: Mapped[str] = mapped_column(Text)
    zone_geojson: Mapped[str] = mapped_column(Text)
    point_place_ids: Mapped[list[int]] = mapped_column(JSON)
    zone_place_ids: Mapped[list[int]] = mapped_column(JSON)
    point_facility_ids: Mapped[list[int]] = mapped_column(JSON)
    zone_facility_ids: Mapped[list[int]] = mapped_column(JSON)
    point_population: Mapped[int] = mapped_column(Integer)
    zone_population: Mapped[int] = mapped_column(Integer)
    point_area_km2: Mapped[float] = mapped_column(Float)
    zone_area_km2: Mapped[float] = mapped_column(Float)
