"""Administrative areas (banners, counties, districts) with their seat's position.

Positions are WGS-84 longitude/latitude in two plain columns so SQLite and
PostgreSQL hold the same data without a spatial extension (DESIGN.md).
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class AdminArea(Base):
    __tablename__ = "admin_areas"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    seat_lon: Mapped[float] = mapped_column(Float)
    seat_lat: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer, default=0)
