"""Units (ambulances), their status history and their position reports.

The unit row carries its current status and its current position, which is
the position with the latest *report* time, not the latest arrival: a tracker
that was out of coverage uploads its backlog late, and those points belong
in the track but must never move the unit backwards in time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    DECONTAMINATING = "decontaminating"
    OUT_OF_SERVICE = "out_of_service"


STATUS_LABELS = {
    UnitStatus.AVAILABLE: _lp("unit status", "Available"),
    UnitStatus.DISPATCHED: _l("Dispatched"),
    UnitStatus.EN_ROUTE: _l("En route"),
    UnitStatus.ON_SCENE: _l("On scene"),
    UnitStatus.TRANSPORTING: _l("Transporting"),
    UnitStatus.AT_HOSPITAL: _l("At hospital"),
    UnitStatus.DECONTAMINATING: _l("Decontaminating"),
    UnitStatus.OUT_OF_SERVICE: _l("Out of service"),
}


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("context", "call_sign", name="uq_units_context_call_sign"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    call_sign: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24), default="ambulance")
    crew: Mapped[list[Any]] = mapped_column(JSON, default=list)
    negative_pressure: Mapped[bool] = mapped_column(Boolean, default=False)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilities.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(24), default=UnitStatus.AVAILABLE.value)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading: Mapped[float | None] = mapped_column(Float, nullable=True)


class UnitStatusChange(Base):
    __tablename__ = "unit_status_changes"
    __table_args__ = (Index("ix_unit_status_changes_unit_id_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24))
    previous: Mapped[str | None] = mapped_column(String(24), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actor_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PositionReport(Base):
    """One fix from a tracker, kept whatever its order of arrival (the track)."""

    __tablename__ = "position_reports"
    __table_args__ = (Index("ix_position_reports_unit_id_reported_at", "unit_id", "reported_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
