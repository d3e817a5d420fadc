"""Filtering and exporting the event log for administrators."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, or_, select

from .. import tabular
from ..events import Event
from ..extensions import db

PAGE_SIZE = 100
# Past this many matches the page says "more than N": counting a million-event log on
# every view costs what the log costs, not what the answer costs (issue 19).
COUNT_CAP = 10_000
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
        # Equality, so the actor index answers it; usernames are stored lower-case, so
        # "OP" finds "op". The form offers every recorded name to pick from.
        q = q.where(Event.actor_name.in_({f.actor, f.actor.lower()}))
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


@dataclass(frozen=True)
class AuditPage:
    """One page of matches; ``total`` is exact unless ``capped`` (then it is the cap)."""

    rows: list[Event]
    total: int
    capped: bool
    has_older: bool


def search(f: AuditFilter) -> AuditPage:
    with db.reading() as s:
        counted = s.scalar(select(func.count()).select_from(
            _query(f).with_only_columns(Event.id).limit(COUNT_CAP + 1).subquery())) or 0
        rows = list(s.scalars(
            _query(f).order_by(Event.id.desc()).offset((f.page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        ))
    return AuditPage(rows=rows[:PAGE_SIZE], total=min(counted, COUNT_CAP),
                     capped=counted > COUNT_CAP, has_older=len(rows) > PAGE_SIZE)


@dataclass
class _Seen:
    """Distinct types and actors up to an event id, grown by what is newer."""

    upto: int = 0
    types: set[str] = field(default_factory=set)
    actors: set[str] = field(default_factory=set)


_seen: dict[str, _Seen] = {}
_seen_lock = threading.Lock()


def _distinct() -> _Seen:
    """The filter's suggestions without a DISTINCT over the whole log on every view:
    the first view of a process reads them once, later ones only the events since."""
    engine = db.engine
    key = str(engine.url) if engine is not None else ""
    with db.reading() as s:
        head = s.scalar(select(func.max(Event.id))) or 0
        with _seen_lock:
            seen = _seen.get(key)
            if seen is None or head < seen.upto:  # a fresh or rebuilt database
                seen = _seen[key] = _Seen()
            if head > seen.upto:
                newer = s.execute(select(Event.type, Event.actor_name).distinct()
                                  .where(Event.id > seen.upto, Event.id <= head))
                for type_, actor in newer:
                    seen.types.add(type_)
                    seen.actors.add(actor)
                seen.upto = head
            return _Seen(upto=seen.upto, types=set(seen.types), actors=set(seen.actors))


def event_types() -> list[str]:
    return sorted(_distinct().types)


def actor_names() -> list[str]:
    return sorted(_distinct().actors)


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
