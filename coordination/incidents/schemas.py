"""Input validation for incidents, status changes, dispatch, clocks, cases and contacts.

Every time must carry a zone (``AwareDatetime``): a naive time phoned in from
Beijing and stored as UTC would be eight hours wrong on every clock.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ..facilities.capabilities import Condition
from ..geo.datums import Datum, to_wgs84
from . import diseases
from .models import DISEASE_TYPES, Clock, IncidentStatus, IncidentType, Priority


class IncidentIn(BaseModel):
    """A new incident, from the ops form, the JSON API or a CAP import.

    ``disease`` is an id of the catalogue (coordination/incidents/diseases.py);
    ``other`` needs ``disease_name``. ``priority`` left out is derived from the
    type, the disease and the number of patients. ``found_at`` (早发现) defaults
    to the time it is logged.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: IncidentType
    disease: str | None = Field(default=None, max_length=32)
    disease_name: str = Field(default="", max_length=120)
    lon: float
    lat: float
    # The datum lon/lat were read in (a Baidu or AMap screen); stored converted to WGS-84.
    crs: Datum = Datum.WGS84
    address: str = Field(default="", max_length=300)
    patients: int = Field(default=1, ge=0, le=10_000)
    reporter: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=40)
    notes: str = Field(default="", max_length=4000)
    priority: Priority | None = None
    found_at: AwareDatetime | None = None
    external_ref: str | None = Field(default=None, max_length=200)
    source: str = Field(default="operator", max_length=16)
    # Left out: set from the position when it is at a venue of an event in progress.
    event_ref: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")
    venue_ref: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")

    @model_validator(mode="after")
    def _datum(self) -> IncidentIn:
        if self.crs is not Datum.WGS84:
            self.lon, self.lat = to_wgs84(self.lon, self.lat, self.crs)
            self.crs = Datum.WGS84
        return self

    @model_validator(mode="after")
    def _disease_known(self) -> IncidentIn:
        if self.disease == "":
            self.disease = None
        if self.disease is not None and self.disease not in diseases.DISEASES:
            known = ", ".join(sorted(diseases.DISEASES))
            raise ValueError(f"unknown disease {self.disease!r} (known: {known})")
        if self.type in DISEASE_TYPES and self.disease is None:
            raise ValueError(f"a {self.type.value} incident must name its disease")
        if self.disease == diseases.OTHER and not self.disease_name:
            raise ValueError("disease 'other' needs disease_name")
        return self


class StatusChangeIn(BaseModel):
    """``version``, when given, must be the incident's current one (else 409).

    ``reason``: why a public-health incident is closed with required clocks
    still empty (closing.py); without one such a close is refused.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: IncidentStatus
    note: str = Field(default="", max_length=1000)
    reason: str = Field(default="", max_length=1000)
    version: int | None = None


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: int
    note: str = Field(default="", max_length=1000)


class ClockIn(BaseModel):
    """Set (or with ``at: null`` clear) one of the five clocks."""

    model_config = ConfigDict(extra="forbid")

    clock: Clock
    at: AwareDatetime | None


class DestinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facility_id: int | None


class ConditionIn(BaseModel):
    """The dispatcher's pick of what the patient needs; None clears it."""

    model_config = ConfigDict(extra="forbid")

    condition: Condition | None


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lon: float
    lat: float
    label: str = Field(default="", max_length=200)
    confirmed: bool = True
    at: AwareDatetime | None = None


class ContactIn(BaseModel):
    """A close contact. ``observation_days`` left out: the disease's default (else 14)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(default="", max_length=40)
    id_number: str = Field(default="", max_length=40, pattern=r"^[0-9A-Za-z]*$")
    address: str = Field(default="", max_length=300)
    lon: float | None = None
    lat: float | None = None
    last_exposure: AwareDatetime
    observation_days: int | None = Field(default=None, ge=1, le=60)
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _both_or_neither(self) -> ContactIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        return self


class IsolateIn(BaseModel):
    """Assign to an isolation point; ``facility_id`` left out: the suggested nearest."""

    model_config = ConfigDict(extra="forbid")

    facility_id: int | None = None
