"""Agencies, liaison officers, duty rosters, tasks, escalation and deliveries.

Every row carries a ``context`` (live or a drill run). Escalations are
persisted deadlines: ``roster_tasks.next_escalation_at`` (indexed) is what the
sweeper claims, so a restart or a second server process never loses or doubles
a step; ``roster_task_steps`` has one row per fired step with a unique
(task, seq) so the database itself refuses a second firing. Times are aware
UTC; hand-over times of rotations are wall-clock times in the rotation's zone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Layer(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


class RotationKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"


class OverrideKind(StrEnum):
    SWAP = "swap"
    LEAVE = "leave"
    SICK = "sick"


class StepTarget(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"
    HEAD = "head"
    COMMAND_ROOM = "command_room"
    # A named officer (``officer_id`` on the step), chosen by the operator when a plan
    # task's role has nobody on duty; never part of an agency's configured chain.
    OFFICER = "officer"


class TaskStatus(StrEnum):
    OPEN = "open"  # waiting for acknowledgement
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    CANCELLED = "cancelled"


CLOSED = frozenset({TaskStatus.DONE, TaskStatus.CANCELLED})


class AckMode(StrEnum):
    SINGLE = "single"
    QUORUM = "quorum"
    ROLL_CALL = "roll_call"


class TaskSource(StrEnum):
    PLAN = "plan"
    MANUAL = "manual"
    DRILL = "drill"


class AssigneeStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


LAYER_LABELS = {Layer.PRIMARY: _l("Primary"), Layer.BACKUP: _l("Backup")}
STEP_LABELS = {
    StepTarget.PRIMARY: _l("Primary on duty"),
    StepTarget.BACKUP: _l("Backup on duty"),
    StepTarget.HEAD: _l("Agency head"),
    StepTarget.COMMAND_ROOM: _l("Command-room alert"),
    StepTarget.OFFICER: _l("Named officer"),
}
STATUS_LABELS = {
    TaskStatus.OPEN: _l("Waiting for acknowledgement"),
    TaskStatus.ACKNOWLEDGED: _l("Acknowledged"),
    TaskStatus.DONE: _l("Done"),
    TaskStatus.CANCELLED: _l("Cancelled"),
}
OVERRIDE_LABELS = {
    OverrideKind.SWAP: _l("Swap"),
    OverrideKind.LEAVE: _l("Leave"),
    OverrideKind.SICK: _l("Sick day"),
}


class Agency(Base):
    __tablename__ = "roster_agencies"
    __table_args__ = (UniqueConstraint("context", "code", name="uq_roster_agencies_context_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    head_officer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(String(200), default="")


class Officer(Base):
    __tablename__ = "roster_officers"
    __table_args__ = (Index("ix_roster_officers_agency_id", "agency_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("roster_agencies.id"))
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    agency_role: Mapped[str] = mapped_column(String(80), default="liaison")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    may_be_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ical_token: Mapped[str] = mapped_column(String(64), unique=True)


class Rotation(Base):
    """Officers taking turns on one layer of an agency's roster.

    Shift n starts at ``start_date`` + ``handover`` (wall time in ``timezone``)
    plus n shift lengths, counted in calendar days for daily/weekly rotations
    (so a hand-over stays at 08:00 across a DST switch) and in hours for custom.
    """

    __tablename__ = "roster_rotations"
    __table_args__ = (Index("ix_roster_rotations_agency_id", "agency_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("roster_agencies.id"))
    name: Mapped[str] = mapped_column(String(120))
    layer: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(80), default="liaison")
    kind: Mapped[str] = mapped_column(String(16))
    handover: Mapped[str] = mapped_column(String(5))  # "08:00"
    shift_hours: Mapped[int] = mapped_column(Integer, default=24)  # custom only
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    officer_ids: Mapped[list[int]] = mapped_column(JSON)


class Override(Base):
    """A swap (``cover`` takes ``officer``'s duty), a leave or a sick day (with optional cover)."""

    __tablename__ = "roster_overrides"
    __table_args__ = (Index("ix_roster_overrides_agency_id_starts_at", "agency_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("roster_agencies.id"))
    kind: Mapped[str] = mapped_column(String(16))
    officer_id: Mapped[int] = mapped_column(ForeignKey("roster_officers.id"))
    cover_officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_officers.id"), nullable=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(300), default="")


class EscalationStep(Base):
    __tablename__ = "roster_escalation_steps"
    __table_args__ = (
        UniqueConstraint("agency_id", "position", name="uq_roster_escalation_steps_agency_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("roster_agencies.id"))
    position: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(20))
    wait_minutes: Mapped[int] = mapped_column(Integer)


class Task(Base):
    __tablename__ = "roster_tasks"
    __table_args__ = (
        Index("ix_roster_tasks_next_escalation_at", "next_escalation_at"),
        Index("ix_roster_tasks_context_status", "context", "status"),
        Index("ix_roster_tasks_agency_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("roster_agencies.id"))
    role: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # ``title``/``details`` as written; a task written in both languages (a plan's) keeps
    # its Chinese there and its English in ``title_en``/``details_en``, and each reader
    # gets their own (task_reads.py). A one-language task leaves these None.
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    incident_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    ack_mode: Mapped[str] = mapped_column(String(16), default=AckMode.SINGLE)
    quorum: Mapped[int] = mapped_column(Integer, default=1)
    ack_expiry_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chain: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # snapshot at creation
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    step_seq: Mapped[int] = mapped_column(Integer, default=0)
    # What the sweeper claims: the next escalation, or the ack-reminder expiry.
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))


class TaskStep(Base):
    """One fired escalation step: who was addressed, when, why."""

    __tablename__ = "roster_task_steps"
    __table_args__ = (UniqueConstraint("task_id", "seq", name="uq_roster_task_steps_task_id_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    task_id: Mapped[int] = mapped_column(ForeignKey("roster_tasks.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    step_index: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))  # created/timeout/declined/jump/expired
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    officer_ids: Mapped[list[int]] = mapped_column(JSON)


class Assignee(Base):
    __tablename__ = "roster_task_assignees"
    __table_args__ = (
        UniqueConstraint("task_id", "officer_id", "step_seq",
                         name="uq_roster_task_assignees_task_id"),
        Index("ix_roster_task_assignees_officer_id", "officer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    task_id: Mapped[int] = mapped_column(ForeignKey("roster_tasks.id", ondelete="CASCADE"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("roster_officers.id"))
    step_seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AssigneeStatus.PENDING)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")


class AckKey(Base):
    """Client-generated idempotency keys: a repeated acknowledgement is one."""

    __tablename__ = "roster_ack_keys"
    __table_args__ = (UniqueConstraint("task_id", "key", name="uq_roster_ack_keys_task_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    task_id: Mapped[int] = mapped_column(ForeignKey("roster_tasks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    officer_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaskNote(Base):
    __tablename__ = "roster_task_notes"
    __table_args__ = (Index("ix_roster_task_notes_task_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    task_id: Mapped[int] = mapped_column(ForeignKey("roster_tasks.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelConfig(Base):
    """Outbound channel settings per context (webhook defaults, SMS gateway, SMTP)."""

    __tablename__ = "roster_channels"
    __table_args__ = (UniqueConstraint("context", "kind", name="uq_roster_channels_context_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)


class Delivery(Base):
    """One message to send over one channel, retried with back-off until sent or given up."""

    __tablename__ = "roster_deliveries"
    __table_args__ = (
        Index("ix_roster_deliveries_next_attempt_at", "next_attempt_at"),
        Index("ix_roster_deliveries_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_tasks.id", ondelete="CASCADE"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")


class DeliveryAttempt(Base):
    __tablename__ = "roster_delivery_attempts"
    __table_args__ = (Index("ix_roster_delivery_attempts_delivery_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("roster_deliveries.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(500), default="")
