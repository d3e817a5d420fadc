"""A duty-log entry belongs to one context, so drill notes never show in live."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Category(StrEnum):
    INFO = "info"
    INSTRUCTION = "instruction"
    REPORT = "report"
    HANDOVER = "handover"


CATEGORY_LABELS = {
    Category.INFO: _l("Information"),
    Category.INSTRUCTION: _l("Instruction"),
    Category.REPORT: _l("Report"),
    Category.HANDOVER: _l("Shift handover"),
}


class DutyLogEntry(Base):
    __tablename__ = "duty_log_entries"
    __table_args__ = (Index("ix_duty_log_entries_context_id", "context", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    category: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    area_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_areas.code"), nullable=True
    )
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(120))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())
