"""One row per version of a report; an issued version is never changed again.

A correction is a new version that supersedes the old one, so what was sent
upward stays exactly as it was sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class ReportKind(StrEnum):
    INITIAL = "initial"
    PROGRESS = "progress"
    FINAL = "final"


class ReportStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    ISSUED = "issued"


class IncidentReport(Base):
    __tablename__ = "incident_reports"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "number", "version",
                         name="uq_incident_reports_version"),
        Index("ix_incident_reports_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # Progress reports are numbered 1, 2, …; initial and final are number 1.
    number: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT.value)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="SET NULL"), nullable=True)
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drafted_by: Mapped[str] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[str] = mapped_column(String(120), default="")
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    issued_by: Mapped[str] = mapped_column(String(120), default="")
    issued_role: Mapped[str] = mapped_column(String(64), default="")
