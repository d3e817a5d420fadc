"""Drill runs, their injects, the trainer's observations, evaluations and improvement plan.

A run owns one context (``drill-…``): everything players do in it lands in
that context's rows and event log, never in live. The run row keeps the
scenario's id, version and content hash so a report says exactly which
scenario text was exercised.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class RunStatus(StrEnum):
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class InjectStatus(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    FIRED = "fired"
    FAILED = "failed"
    CANCELLED = "cancelled"


class InjectOrigin(StrEnum):
    SCENARIO = "scenario"
    CONTINGENCY = "contingency"
    ADHOC = "adhoc"


class DrillRun(Base):
    __tablename__ = "drill_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"), unique=True)
    scenario_id: Mapped[str] = mapped_column(String(80))
    scenario_version: Mapped[str] = mapped_column(String(40))
    scenario_hash: Mapped[str] = mapped_column(String(64))
    scenario_file: Mapped[str] = mapped_column(String(300))
    # The whole scenario as run (hundreds of injects): loaded only when asked for,
    # so the scheduler's many small reads of a run stay small.
    scenario: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.READY.value)
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    sim_start: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sim_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seeded: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DrillInject(Base):
    __tablename__ = "drill_injects"
    __table_args__ = (Index("ix_drill_injects_due", "status", "due_sim"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(16), default=InjectOrigin.SCENARIO.value)
    type: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_sim: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=InjectStatus.PENDING.value)
    fired_sim: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fired_real: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    early: Mapped[bool] = mapped_column(default=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class DrillObservation(Base):
    __tablename__ = "drill_observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"))
    at_sim: Mapped[datetime] = mapped_column(UTCDateTime())
    player: Mapped[str] = mapped_column(String(120))
    inject_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))


class DrillEvaluation(Base):
    """A P/S/M/U rating of one critical task by an evaluator."""

    __tablename__ = "drill_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(80))
    rating: Mapped[str] = mapped_column(String(1))
    notes: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImprovementItem(Base):
    __tablename__ = "drill_improvements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"))
    issue: Mapped[str] = mapped_column(Text)
    corrective_action: Mapped[str] = mapped_column(Text)
    capability_element: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str] = mapped_column(String(120))
    owner: Mapped[str] = mapped_column(String(120))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)


class DrillParticipant(Base):
    """Someone who joined a run (or a token bound to it): who may act in its context.

    Keyed by the context, so deleting a run's context rows removes them with it.
    ``left_at`` is set when they leave; the row stays, so the after-action report
    still names everyone who took part.
    """

    __tablename__ = "drill_participants"
    __table_args__ = (Index("ix_drill_participants_who", "context", "actor_kind", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    display: Mapped[str] = mapped_column(String(120), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
