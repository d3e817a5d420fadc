"""Input validation for duty-log entries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .models import Category

MAX_TEXT = 2000


class NewEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    category: Category = Category.INFO
    area: str | None = Field(default=None, max_length=12)

    @field_validator("area")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None
