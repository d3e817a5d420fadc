"""Posting to and reading the duty log; the only place its rows change."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import events
from ..contexts import LIVE, context_row
from ..errors import ValidationFailed
from ..events import Actor
from ..extensions import db
from ..geo.models import AdminArea
from .models import DutyLogEntry
from .schemas import NewEntry

AUDIENCE = ["role:operator", "role:trainer"]


def entry_dict(entry: DutyLogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "category": entry.category,
        "text": entry.text,
        "area": entry.area_code,
        "author": entry.author_name,
        "logged_at": entry.logged_at.isoformat(),
    }


def post_entry(*, data: NewEntry, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    with db.unit_of_work() as s:
        ctx = context_row(s, context)
        if data.area is not None and s.get(AdminArea, data.area) is None:
            raise ValidationFailed(_l("Unknown area %(code)s.", code=data.area))
        entry = DutyLogEntry(
            context=context, category=data.category.value, text=data.text,
            area_code=data.area, author_kind=actor.kind, author_id=actor.id,
            author_name=actor.shown, logged_at=ctx.clock().now(),
        )
        s.add(entry)
        s.flush()
        body = entry_dict(entry)
        events.append(
            s, context=context, type="dutylog.posted", actor=actor, audience=AUDIENCE,
            subject=("dutylog", entry.id), payload=body,
        )
        return body


def recent_entries(*, context: str = LIVE, limit: int = 50) -> list[dict[str, Any]]:
    with db.reading() as s:
        rows = s.scalars(
            select(DutyLogEntry)
            .where(DutyLogEntry.context == context)
            .order_by(DutyLogEntry.id.desc())
            .limit(limit)
        )
        return [entry_dict(e) for e in rows]
