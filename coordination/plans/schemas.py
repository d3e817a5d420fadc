"""Input of the activation routes (JSON API and forms alike)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .models import SubjectKind
from .schema import Level


class ActivationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level
    subject_kind: SubjectKind = SubjectKind.INCIDENT
    subject_ref: Annotated[str, Field(min_length=1, max_length=120)]
    note: Annotated[str, Field(max_length=1000)] = ""
    # Plan task id -> where it goes when its role has nobody on duty: "head",
    # "command_room" or "officer:<id>" (plans/recipients.py).
    recipients: dict[Annotated[str, Field(max_length=64)],
                     Annotated[str, Field(max_length=40)]] = Field(default_factory=dict)

    @field_validator("subject_ref", "note")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("subject_ref")
    @classmethod
    def _non_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("name the incident, zone or event")
        return value


class LevelChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level
    reason: Annotated[str, Field(max_length=1000)] = ""
    recipients: dict[Annotated[str, Field(max_length=64)],
                     Annotated[str, Field(max_length=40)]] = Field(default_factory=dict)


class StandDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=1000)]
