"""Input validation for agencies, officers, rosters, escalation chains and tasks."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..timefields import RequiredRoomTime, RoomTime
from .models import AckMode, Layer, OverrideKind, RotationKind, StepTarget, TaskSource

CODE = r"^[a-z][a-z0-9_]{1,39}$"
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyIn(_In):
    code: str = Field(pattern=CODE)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    phone: str = Field(default="", max_length=40)
    webhook_url: str = Field(default="", max_length=500)
    webhook_secret: str = Field(default="", max_length=200)

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must start with http:// or https://")
        return v


class OfficerIn(_In):
    agency_code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=120)
    name_en: str = Field(default="", max_length=120)  # the name in English (pinyin), if any
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+() -]*$")
    email: str = Field(default="", max_length=200, pattern=r"^([^@\s]+@[^@\s]+)?$")
    agency_role: str = Field(default="liaison", min_length=1, max_length=80)
    languages: list[str] = Field(default_factory=list, max_length=10)
    may_be_primary: bool = True
    username: str | None = Field(default=None, max_length=64)
    is_head: bool = False


class RotationIn(_In):
    agency_code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=120)
    layer: Layer = Layer.PRIMARY
    role: str = Field(default="liaison", min_length=1, max_length=80)
    kind: RotationKind = RotationKind.DAILY
    handover: str = "08:00"
    shift_hours: int = Field(default=24, ge=1, le=24 * 28)
    timezone: str = "Asia/Shanghai"
    start_date: date
    end_date: date | None = None
    officer_ids: list[int] = Field(min_length=1, max_length=100)

    @field_validator("handover")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not HHMM.match(v):
            raise ValueError("the hand-over time must look like 08:00")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _order(self) -> RotationIn:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError("the rotation ends before it starts")
        return self


class OverrideIn(_In):
    kind: OverrideKind
    officer_id: int
    cover_officer_id: int | None = None
    starts_at: RequiredRoomTime
    ends_at: RequiredRoomTime
    note: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _order(self) -> OverrideIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("the shift ends before it starts")
        if self.kind == OverrideKind.SWAP and self.cover_officer_id is None:
            raise ValueError("a swap needs the officer who takes over")
        if self.cover_officer_id == self.officer_id:
            raise ValueError("an officer cannot cover for themselves")
        return self


class StepIn(_In):
    target: StepTarget
    wait_minutes: int = Field(ge=0, le=24 * 60)


class ChainIn(_In):
    steps: list[StepIn] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _no_loop(self) -> ChainIn:
        seen: set[str] = set()
        for n, step in enumerate(self.steps, start=1):
            if step.target in seen:
                raise ValueError(f"step {n} goes back to {step.target.value}: the chain loops")
            seen.add(step.target)
            if step.target == StepTarget.OFFICER:
                raise ValueError(f"step {n}: a named officer is chosen per task, not in the "
                                 "agency's chain")
            if step.target == StepTarget.COMMAND_ROOM and n != len(self.steps):
                raise ValueError("the command-room alert must be the last step")
        return self


class NewTask(_In):
    agency_code: str = Field(pattern=CODE)
    role: str | None = Field(default=None, max_length=80)
    title: str = Field(min_length=1, max_length=200)
    details: str = Field(default="", max_length=5000)
    # The English of a task written in both languages (title/details then hold the Chinese).
    title_en: str | None = Field(default=None, min_length=1, max_length=200)
    details_en: str | None = Field(default=None, max_length=5000)
    due_at: RoomTime = None
    ack_deadline: RoomTime = None
    source: TaskSource = TaskSource.MANUAL
    source_ref: str | None = Field(default=None, max_length=120)
    incident_ref: str | None = Field(default=None, max_length=120)
    ack_mode: AckMode = AckMode.SINGLE
    quorum: int = Field(default=1, ge=1, le=50)
    ack_expiry_minutes: int | None = Field(default=None, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _blank_role(self) -> NewTask:
        if self.role == "":
            self.role = None
        return self


class AckIn(_In):
    key: str = Field(min_length=8, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")


class NoteIn(_In):
    text: str = Field(default="", max_length=2000)


class DeclineIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class JumpIn(_In):
    step: int = Field(ge=0, le=9)
