"""Input of the report routes (JSON API and forms alike)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .models import ReportKind

Long = Annotated[str, Field(max_length=20000)]


class ReportDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ReportKind = ReportKind.PROGRESS
    summary: Long = ""
    measures: Long = ""


class ReportEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: Long | None = None
    measures: Long | None = None
    next_steps: Long | None = None

    def changes(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ReportIssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The issuer's position as it is printed under the name (应急办主任); default: the role.
    position: Annotated[str, Field(max_length=64)] = ""
