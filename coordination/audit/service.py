"""Filtering and exporting the event log for administrators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, or_, select

from .. import tabular
from ..events import Event
from ..extensions import db

PAGE_SIZE = 100
CSV_COLUMNS = ["context", "seq", "occurred_at", "recorded_at", "type", "actor_kind",
               "actor_id", "actor_name", "subject_type", "subject_id", "payload"]


class AuditFilter(BaseModel):
    """What an administrator may filter on; blank form fields mean 'any'."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    type: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, max_length=120)
    context: str | None = Field(default=None, max_length=64)
    subject: str | None = Field(default=None, max_length=110)
    date_from: date | None = None
    date_to: date | None = None
    page: int = Field(default=1, ge=1, le=100000)

    @field_validator("type", "actor", "context", "subject", "date_from", "date_to", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value


def _query(f: AuditFilter) -> Select[Any]:
    q = select(Event)
    if f.type:
        q = q.where(or_(Event.type == f.type, Event.type.startswith(f.type.rstrip(".") + ".")))
    if f.actor:
        q = q.where(func.lower(Event.actor_name).contains(f.actor.lower(), autoescape=True))
    if f.context:
        q = q.where(Event.context == f.context)
    if f.subject:
        kind, _, ident = f.subject.partition(":")
        q = q.where(Event.subject_type == kind)
        if ident:
            q = q.where(Event.subject_id == ident)
    if f.date_from:
        q = q.where(Event.occurred_at >= datetime.combine(f.date_from, time(), UTC))
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time(), UTC)
        q = q.where(Event.occurred_at < end)
    return q


def search(f: AuditFilter) -> tuple[list[Event], int]:
    with db.reading() as s:
        total = s.scalar(select(func.count()).select_from(_query(f).subquery())) or 0
        rows = s.scalars(
            _query(f).order_by(Event.id.desc()).offset((f.page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        )
        return list(rows), total


def event_types() -> list[str]:
    with db.reading() as s:
        return list(s.scalars(select(Event.type).distinct().order_by(Event.type)))


def export_csv(f: AuditFilter) -> Iterator[str]:
    """Stream every matching event, oldest first, in pages so memory stays flat."""
    out = tabular.CsvStream()
    yield out.write([CSV_COLUMNS])
    last_id = 0
    while True:
        with db.reading() as s:
            rows = list(
                s.scalars(_query(f).where(Event.id > last_id).order_by(Event.id).limit(1000))
            )
        if not rows:
            return
        yield out.write([
            e.context, e.seq, e.occurred_at.isoformat(), e.recorded_at.isoformat(), e.type,
            e.actor_kind, e.actor_id if e.actor_id is not None else "", e.actor_name,
            e.subject_type or "", e.subject_id or "",
            json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
        ] for e in rows)
        last_id = rows[-1].id
