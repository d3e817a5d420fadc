"""Patients of a mass-casualty incident: triage tag, ambulance, destination, hand-over.

At a stand collapse the command room must know, per patient, the START
category (immediate / delayed / minor / expectant), the tag number written on
the triage card, which ambulance took the patient where, and when the
hospital took them over; a family-liaison desk answers from the same rows.
Names and ID numbers are stored for that desk and shown masked everywhere
(like close contacts' ID numbers).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Triage(StrEnum):
    """START categories, in the order patients leave the scene."""

    IMMEDIATE = "immediate"
    DELAYED = "delayed"
    MINOR = "minor"
    EXPECTANT = "expectant"


TRIAGE_ORDER = {t: n for n, t in enumerate(Triage)}
TRIAGE_LABELS = {
    Triage.IMMEDIATE: _l("Immediate (red)"),
    Triage.DELAYED: _l("Delayed (yellow)"),
    Triage.MINOR: _l("Minor (green)"),
    Triage.EXPECTANT: _l("Expectant (black)"),
}


# The colour words a command-room tag shows (红/黄/绿/黑).
TRIAGE_SHORT = {
    Triage.IMMEDIATE: _l("Red"),
    Triage.DELAYED: _l("Yellow"),
    Triage.MINOR: _l("Green"),
    Triage.EXPECTANT: _l("Black"),
}


class PatientStatus(StrEnum):
    AT_SCENE = "at_scene"
    ASSIGNED = "assigned"          # a destination is chosen
    TRANSPORTING = "transporting"  # in an ambulance
    HANDED_OVER = "handed_over"    # the hospital took the patient over
    RELEASED = "released"          # treated at the scene and sent home


PATIENT_STATUS_LABELS = {
    PatientStatus.AT_SCENE: _l("At the scene"),
    PatientStatus.ASSIGNED: _l("Destination assigned"),
    PatientStatus.TRANSPORTING: _l("Being transported"),
    PatientStatus.HANDED_OVER: _l("Handed over"),
    PatientStatus.RELEASED: _l("Released at the scene"),
}
# A patient in these states still needs (or holds) a place at the destination.
EN_ROUTE = frozenset({PatientStatus.ASSIGNED.value, PatientStatus.TRANSPORTING.value})


class Patient(Base):
    __tablename__ = "incident_patients"
    __table_args__ = (
        UniqueConstraint("incident_id", "tag", name="uq_incident_patients_tag"),
        Index("ix_incident_patients_destination", "destination_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                             index=True)
    tag: Mapped[str] = mapped_column(String(40))
    triage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PatientStatus.AT_SCENE.value)
    name: Mapped[str] = mapped_column(String(120), default="")
    id_number: Mapped[str] = mapped_column(String(40), default="")
    sex: Mapped[str] = mapped_column(String(8), default="")
    age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"),
                                                nullable=True)
    destination_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilities.id", ondelete="SET NULL"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(120))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
