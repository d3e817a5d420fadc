"""Input validation for units, status changes and position reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .models import UnitStatus

MAX_BATCH = 5000


class PositionIn(BaseModel):
    """One fix. ``unit`` is the unit's id or call sign; ``at`` is the device's time.

    ``at`` must carry a zone (ISO 8601 with ``Z`` or an offset): a naive time
    from a tracker is ambiguous by eight hours in Beijing time.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit: int | str | None = None
    lon: float
    lat: float
    at: AwareDatetime | None = None
    speed_kmh: float | None = Field(default=None, ge=0, le=400)
    heading: float | None = Field(default=None, ge=0, le=360)


class PositionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    positions: list[PositionIn] = Field(min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def _units_named(self) -> PositionBatch:
        for n, p in enumerate(self.positions):
            if p.unit is None or p.unit == "":
                raise ValueError(f"position {n} names no unit")
        return self


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: UnitStatus
    note: str = Field(default="", max_length=1000)


class NewUnit(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    call_sign: str = Field(min_length=1, max_length=40)
    crew: list[str] = Field(default_factory=list, max_length=12)
    negative_pressure: bool = False
    station: str | None = Field(default=None, max_length=40)  # facility code
    status: UnitStatus = UnitStatus.AVAILABLE
    lon: float | None = None
    lat: float | None = None
    at: datetime | None = None
