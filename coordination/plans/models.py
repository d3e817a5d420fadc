"""Plan activations and the tasks they created.

An activation keeps the plan exactly as it was activated (id, version, file
hash and a snapshot of the validated plan), so editing the YAML file later
never changes a running response or the after-action record. ``active_key``
holds the incident/zone/event reference while the activation is active and
NULL once stood down; a unique constraint on it makes "one active activation
of a plan per incident" hold even with two server processes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class ActivationStatus(StrEnum):
    ACTIVE = "active"
    STOOD_DOWN = "stood_down"


class SubjectKind(StrEnum):
    INCIDENT = "incident"
    ZONE = "zone"
    EVENT = "event"


ACTIVATION_LABELS = {
    ActivationStatus.ACTIVE: _l("Active"),
    ActivationStatus.STOOD_DOWN: _l("Stood down"),
}
SUBJECT_LABELS = {
    SubjectKind.INCIDENT: _l("Incident"),
    SubjectKind.ZONE: _l("Zone"),
    SubjectKind.EVENT: _l("Event"),
}


class PlanActivation(Base):
    __tablename__ = "plan_activations"
    __table_args__ = (
        UniqueConstraint("context", "plan_id", "active_key",
                         name="uq_plan_activations_context_plan_id"),
        Index("ix_plan_activations_context_status", "context", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    plan_id: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(40))
    file_hash: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(4))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_ref: Mapped[str] = mapped_column(String(120))
    active_key: Mapped[str | None] = mapped_column(String(140), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ActivationStatus.ACTIVE.value)
    note: Mapped[str] = mapped_column(String(1000), default="")
    level_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    shortfalls: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str] = mapped_column(String(120))
    stood_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    stood_down_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ActivationTask(Base):
    __tablename__ = "plan_activation_tasks"
    __table_args__ = (
        UniqueConstraint("activation_id", "plan_task_id",
                         name="uq_plan_activation_tasks_activation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    activation_id: Mapped[int] = mapped_column(
        ForeignKey("plan_activations.id", ondelete="CASCADE"))
    plan_task_id: Mapped[str] = mapped_column(String(64))
    phase_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    owner_role: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(40))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    added_at_level: Mapped[str] = mapped_column(String(4))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    roster_task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
