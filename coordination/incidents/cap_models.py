"""CAP messages received: which alert became which incident, with its area.

The (context, sender, identifier) key refuses a second import of the same
alert; the area (GeoJSON of the alert's polygons and circles) is kept so the
incident's CAP export can send the same area back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class CapMessage(Base):
    __tablename__ = "cap_messages"
    __table_args__ = (
        UniqueConstraint("context", "sender", "identifier", name="uq_cap_messages_identity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    sender: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(200))
    sent: Mapped[str] = mapped_column(String(32))  # as written, for <references>
    # NULL while the import is in flight: the row is written first, so of two
    # imports of one alert exactly one gets past the unique key.
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True)
    area: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    xml: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(120))
