"""Input validation for facilities and capacity reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .capabilities import CapabilitiesIn
from .models import BedKind, FacilityKind, FacilityStatus


class Beds(BaseModel):
    """Capacity and occupancy of one kind of bed or room.

    Occupancy above capacity is refused: a surge is reported by raising the
    capacity (extra beds opened) and, if no more can be taken, status ``full``.
    A number above capacity is far more often a typing error than a fact, and
    the map's "free" figures must never go negative.
    """

    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(ge=0, le=100_000)
    occupied: int = Field(ge=0, le=100_000)

    @model_validator(mode="after")
    def _not_above_capacity(self) -> Beds:
        if self.occupied > self.capacity:
            raise ValueError("occupied must not exceed capacity (raise the capacity for a surge)")
        return self


class CapacityReportIn(BaseModel):
    """A report: the status and the figures of the kinds reported (others stay as they were)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: FacilityStatus = FacilityStatus.OPEN
    figures: dict[BedKind, Beds] = Field(default_factory=dict)
    note: str = Field(default="", max_length=1000)


class NewFacility(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)  # English, when the name is Chinese
    kind: FacilityKind
    lon: float
    lat: float
    area: str | None = Field(default=None, max_length=12)
    address: str = Field(default="", max_length=300)
    contact_name: str = Field(default="", max_length=120)
    contact_phone: str = Field(default="", max_length=40)
    initial: CapacityReportIn | None = None
    # The services the facility provides; None leaves a stored facility's as they are.
    capabilities: CapabilitiesIn | None = None
