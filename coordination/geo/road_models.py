"""Imported road networks and their segments (for road-network ETAs).

The segments are the source of truth in the database, so every process of a
scaled-out deployment builds the same graph (a file in one host's instance
folder would not be seen by the others); each process caches the graph it
built, keyed by the network's id (coordination/geo/roads.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class RoadNetworkRow(Base):
    __tablename__ = "road_networks"
    __table_args__ = (Index("ix_road_networks_context", "context"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    name: Mapped[str] = mapped_column(String(200))
    segment_count: Mapped[int] = mapped_column(Integer)
    length_km: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(120))


class RoadSegmentRow(Base):
    __tablename__ = "road_segments"
    __table_args__ = (Index("ix_road_segments_network_id", "network_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    network_id: Mapped[int] = mapped_column(ForeignKey("road_networks.id", ondelete="CASCADE"))
    road_class: Mapped[str] = mapped_column(String(40), default="")
    speed_kmh: Mapped[float] = mapped_column(Float)
    oneway: Mapped[int] = mapped_column(Integer, default=0)
    coords: Mapped[str] = mapped_column(Text)  # JSON [[lon, lat], ...], WGS-84
