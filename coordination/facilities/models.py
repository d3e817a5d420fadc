"""Facilities and their capacity reports.

A facility's current figures (status, capacity and occupancy by kind, time of
the last report) sit on the facility row so the map reads one table; every
report is also kept as an append-only row, so the history survives and a
drill's after-action report can replay occupancy over time. Positions are
WGS-84 lon/lat columns (DESIGN.md, Geography).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class FacilityKind(StrEnum):
    FEVER_CLINIC = "fever_clinic"
    TRIAGE_POINT = "triage_point"
    ISOLATION_POINT = "isolation_point"
    DESIGNATED_HOSPITAL = "designated_hospital"
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre"
    CDC_LAB = "cdc_lab"
    EMS_STATION = "ems_station"
    STOCKPILE_DEPOT = "stockpile_depot"


KIND_LABELS = {
    FacilityKind.FEVER_CLINIC: _l("Fever clinics (发热门诊)"),
    FacilityKind.TRIAGE_POINT: _l("Pre-screening triage points (预检分诊)"),
    FacilityKind.ISOLATION_POINT: _l("Isolation / observation points (隔离留观点)"),
    FacilityKind.DESIGNATED_HOSPITAL: _l("Designated hospitals (定点医院)"),
    FacilityKind.TOWNSHIP_HEALTH_CENTRE: _l("Township health centres (乡镇卫生院)"),
    FacilityKind.CDC_LAB: _l("CDC laboratories with PCR"),
    FacilityKind.EMS_STATION: _l("EMS stations"),
    FacilityKind.STOCKPILE_DEPOT: _l("Stockpile depots"),
}


class BedKind(StrEnum):
    ISOLATION_ROOM = "isolation_room"
    NEGATIVE_PRESSURE_ROOM = "negative_pressure_room"
    GENERAL_BED = "general_bed"
    ICU_BED = "icu_bed"


BED_LABELS = {
    BedKind.ISOLATION_ROOM: _l("Isolation rooms"),
    BedKind.NEGATIVE_PRESSURE_ROOM: _l("Negative-pressure rooms"),
    BedKind.GENERAL_BED: _l("General beds"),
    BedKind.ICU_BED: _l("ICU beds"),
}


class FacilityStatus(StrEnum):
    """What a facility reports. ``stale`` is never reported: it is derived from time."""

    OPEN = "open"
    FULL = "full"
    DIVERTING = "diverting"


STALE = "stale"

STATUS_LABELS = {
    FacilityStatus.OPEN: _lp("facility status", "Open"),
    FacilityStatus.FULL: _l("Full"),
    FacilityStatus.DIVERTING: _l("Diverting"),
    STALE: _l("No recent report"),
}

# {"isolation_room": {"capacity": 10, "occupied": 3}, ...}
Figures = dict[str, dict[str, int]]


class Facility(Base):
    __tablename__ = "facilities"
    __table_args__ = (
        UniqueConstraint("context", "code", name="uq_facilities_context_code"),
        Index("ix_facilities_context_kind", "context", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.code"), nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(16), default=FacilityStatus.OPEN.value)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Services provided and whether each can take a patient now (facilities/capabilities.py).
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    capabilities_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CapacityReport(Base):
    """One report as received: append-only, never updated or deleted."""

    __tablename__ = "capacity_reports"
    __table_args__ = (Index("ix_capacity_reports_facility_id_at", "facility_id", "reported_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    # The figures the reporter sent, and the facility's full figures after applying them.
    reported: Mapped[dict[str, Any]] = mapped_column(JSON)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    reporter_kind: Mapped[str] = mapped_column(String(16))
    reporter_name: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
