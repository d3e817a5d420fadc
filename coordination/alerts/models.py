"""An alert row per context, and the watcher's cursor on the event log.

An alert has a ``key`` naming what it is about (``incident:12``,
``facility-full:7``): while one with a key is open, raising the same key again
records nothing, so a facility that keeps reporting "full" is one alert, not
one per report. ``suggestion`` holds an optional plan suggestion (the early
warning of issue 21 raises alerts with one).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class AlertKind(StrEnum):
    NEW_INCIDENT = "new_incident"
    DEADLINE_MISSED = "deadline_missed"
    ESCALATION = "escalation"
    FACILITY_FULL = "facility_full"
    STOCK_OUT = "stock_out"
    ROSTER_GAP = "roster_gap"
    EARLY_WARNING = "early_warning"
    POSITION_VACANT = "position_vacant"


KIND_LABELS = {
    AlertKind.NEW_INCIDENT: _l("New incident"),
    AlertKind.DEADLINE_MISSED: _l("Reporting deadline missed"),
    AlertKind.ESCALATION: _l("Escalated to the command room"),
    AlertKind.FACILITY_FULL: _l("Facility full"),
    AlertKind.STOCK_OUT: _l("Critical item out of stock"),
    AlertKind.ROSTER_GAP: _l("Roster gap in the next 12 hours"),
    AlertKind.EARLY_WARNING: _l("Early warning"),
    AlertKind.POSITION_VACANT: _l("Position with nobody on duty"),
}


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_context_key", "context", "key"),
        Index("ix_alerts_context_open", "context", "acked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(String(64), ForeignKey("contexts.name"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160))
    severity: Mapped[str] = mapped_column(String(16))
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_by: Mapped[str] = mapped_column(String(120))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    acked_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AlertCursor(Base):
    """How far the watcher has read a context's event log (claimed by compare-and-set)."""

    __tablename__ = "alert_cursors"

    context: Mapped[str] = mapped_column(String(64), ForeignKey("contexts.name"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    swept_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
