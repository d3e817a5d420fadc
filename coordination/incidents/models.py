"""Incidents, their unit assignments, case locations and close contacts.

An incident carries its current status and a ``version`` that every change
bumps, so a page that shows an old incident cannot silently overwrite a newer
one. The five clocks the documents demand (早发现、早报告、早诊断、早隔离、早治疗)
are columns: ``found_at``, ``reported_up_at`` (reported to the higher level;
the reporting deadline runs until it is set), ``diagnosed_at``,
``isolated_at``, ``treated_at``. ``logged_at`` is when the command room logged
it. Positions are WGS-84 lon/lat columns (DESIGN.md, Geography).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class IncidentType(StrEnum):
    SUSPECTED_CASE = "suspected_case"
    CONFIRMED_CASE = "confirmed_case"
    CLUSTER = "cluster"
    MASS_CASUALTY = "mass_casualty"
    FOOD_POISONING = "food_poisoning"
    EVENT_MEDICAL = "event_medical"
    OTHER = "other"


TYPE_LABELS = {
    IncidentType.SUSPECTED_CASE: _l("Suspected infectious case"),
    IncidentType.CONFIRMED_CASE: _l("Confirmed case"),
    IncidentType.CLUSTER: _l("Cluster / outbreak (聚集性疫情)"),
    IncidentType.MASS_CASUALTY: _l("Mass casualty"),
    IncidentType.FOOD_POISONING: _l("Food poisoning"),
    IncidentType.EVENT_MEDICAL: _l("Medical call at an event (重大活动医疗保障)"),
    IncidentType.OTHER: _l("Other"),
}
# Types that name a disease: a suspected or confirmed case must say which.
DISEASE_TYPES = frozenset({IncidentType.SUSPECTED_CASE, IncidentType.CONFIRMED_CASE,
                           IncidentType.CLUSTER})


class IncidentStatus(StrEnum):
    REPORTED = "reported"
    VERIFIED = "verified"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    CLOSED = "closed"
    CANCELLED = "cancelled"


LIFECYCLE = [IncidentStatus.REPORTED, IncidentStatus.VERIFIED, IncidentStatus.DISPATCHED,
             IncidentStatus.ON_SCENE, IncidentStatus.TRANSPORTING, IncidentStatus.AT_HOSPITAL,
             IncidentStatus.CLOSED]
TERMINAL = frozenset({IncidentStatus.CLOSED, IncidentStatus.CANCELLED})
OPEN_STATUSES = [s.value for s in IncidentStatus if s not in TERMINAL]

STATUS_LABELS = {
    IncidentStatus.REPORTED: _l("Reported"),
    IncidentStatus.VERIFIED: _l("Verified"),
    IncidentStatus.DISPATCHED: _l("Dispatched"),
    IncidentStatus.ON_SCENE: _l("On scene"),
    IncidentStatus.TRANSPORTING: _l("Transporting"),
    IncidentStatus.AT_HOSPITAL: _l("At hospital"),
    IncidentStatus.CLOSED: _l("Closed"),
    IncidentStatus.CANCELLED: _l("Cancelled"),
}


class Priority(IntEnum):
    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


PRIORITY_LABELS = {
    Priority.CRITICAL: _lp("incident priority", "Critical"),
    Priority.HIGH: _l("High"),
    Priority.MEDIUM: _l("Medium"),
    Priority.LOW: _l("Low"),
}


class Clock(StrEnum):
    """The five clocks; the value is the column name on Incident."""

    FOUND = "found_at"
    REPORTED = "reported_up_at"
    DIAGNOSED = "diagnosed_at"
    ISOLATED = "isolated_at"
    TREATED = "treated_at"


CLOCK_LABELS = {
    Clock.FOUND: _l("Found (早发现)"),
    Clock.REPORTED: _l("Reported to higher level (早报告)"),
    Clock.DIAGNOSED: _l("Diagnosed (早诊断)"),
    Clock.ISOLATED: _l("Isolated (早隔离)"),
    Clock.TREATED: _l("Treated (早治疗)"),
}


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_context_status", "context", "status"),
        Index("ix_incidents_context_external_ref", "context", "external_ref"),
        Index("ix_incidents_context_event_ref", "context", "event_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    type: Mapped[str] = mapped_column(String(24))
    disease: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disease_name: Mapped[str] = mapped_column(String(120), default="")
    # The dispatcher's pick of what the patient needs (facilities/capabilities.Condition).
    condition: Mapped[str | None] = mapped_column(String(24), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=Priority.MEDIUM.value)
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.REPORTED.value)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    patients: Mapped[int] = mapped_column(Integer, default=1)
    reporter: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    external_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="operator")
    destination_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilities.id", ondelete="SET NULL"), nullable=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    logged_by: Mapped[str] = mapped_column(String(120))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    diagnosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    isolated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    treated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    report_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline_rule: Mapped[str] = mapped_column(String(80), default="")
    # The major event (plans/events/<id>.yaml) and venue the incident happened at.
    event_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    venue_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)


class AssignmentStatus(StrEnum):
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    RELEASED = "released"


class Assignment(Base):
    """A unit sent to an incident; ``active`` until the unit is released."""

    __tablename__ = "incident_units"
    __table_args__ = (
        Index("ix_incident_units_incident_id", "incident_id"),
        Index("ix_incident_units_unit_id_active", "unit_id", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.DISPATCHED.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    eta_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dispatched_by: Mapped[str] = mapped_column(String(120))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Case(Base):
    """Where a (confirmed) case was: the epidemic point is drawn around these."""

    __tablename__ = "incident_cases"
    __table_args__ = (Index("ix_incident_cases_incident_id", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(120))


class ContactStatus(StrEnum):
    TRACED = "traced"
    ISOLATED = "isolated"
    RELEASED = "released"


CONTACT_STATUS_LABELS = {
    ContactStatus.TRACED: _l("Traced, not yet isolated"),
    ContactStatus.ISOLATED: _l("Under isolation observation"),
    ContactStatus.RELEASED: _l("Released from observation"),
}


class Contact(Base):
    """A close contact (密切接触者) of an incident's case."""

    __tablename__ = "close_contacts"
    __table_args__ = (Index("ix_close_contacts_incident_id", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    id_number: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_exposure: Mapped[datetime] = mapped_column(UTCDateTime())
    observation_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=ContactStatus.TRACED.value)
    isolation_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilities.id", ondelete="SET NULL"), nullable=True)
    isolated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
