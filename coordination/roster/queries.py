"""Read-side views: the duty board, gaps ahead, iCalendar feeds and command-room stats.

Stats come from the event log (``task.acknowledged`` events carry the seconds
from creation to acknowledgement), so they are the same numbers a drill's
after-action report replays.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..events import Event
from ..extensions import db
from . import schedule
from .models import Agency, Layer, Officer, Task, TaskStatus
from .service import context_row, load_specs, on_duty_in

LOOKAHEAD = timedelta(days=14)


def _agencies(s: Session, context: str) -> list[Agency]:
    return list(s.scalars(select(Agency).where(Agency.context == context).order_by(Agency.id)))


def _next_change(s: Session, agency: Agency, layer: str, at: datetime) -> dict[str, Any] | None:
    rots, ovs = load_specs(s, agency.id, layer=layer)
    now = {g.officer_id for g in schedule.at_time(rots, ovs, at)}
    for g in schedule.segments(rots, ovs, at, at + LOOKAHEAD):
        if g.start > at and g.officer_id not in now:
            person = s.get(Officer, g.officer_id) if g.officer_id else None
            return {"at": g.start.isoformat(), "officer_id": g.officer_id,
                    "name": person.name if person else None,
                    "name_en": person.name_en if person else None}
    return None


def board(*, context: str, at: datetime | None = None, gap_days: int = 7) -> dict[str, Any]:
    """Per agency: who is on duty now on each layer, who is next, and gaps ahead."""
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        at = at or now
        rows = []
        for a in _agencies(s, context):
            rots, ovs = load_specs(s, a.id, layer=Layer.PRIMARY)
            holes = schedule.gaps(rots, ovs, at, at + timedelta(days=gap_days),
                                  minimum=timedelta(hours=1)) if rots else []
            rows.append({
                "code": a.code, "name_zh": a.name_zh, "name_en": a.name_en,
                "primary": on_duty_in(s, a, layer=Layer.PRIMARY, at=at),
                "backup": on_duty_in(s, a, layer=Layer.BACKUP, at=at),
                "next": {"primary": _next_change(s, a, Layer.PRIMARY, at),
                         "backup": _next_change(s, a, Layer.BACKUP, at)},
                "has_roster": bool(rots),
                "gaps": [{"start": g0.isoformat(), "end": g1.isoformat()} for g0, g1 in holes],
            })
        return {"at": at.isoformat(), "now": now.isoformat(), "agencies": rows}


def on_duty_view(*, context: str, agency_code: str, at: datetime | None) -> dict[str, Any]:
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        at = at or now
        a = s.scalar(select(Agency).where(Agency.context == context,
                                          Agency.code == agency_code))
        if a is None:
            raise NotFound(_l("No such agency: %(code)s.", code=agency_code))
        return {
            "agency": a.code, "at": at.isoformat(),
            "primary": on_duty_in(s, a, layer=Layer.PRIMARY, at=at),
            "backup": on_duty_in(s, a, layer=Layer.BACKUP, at=at),
            "next": {"primary": _next_change(s, a, Layer.PRIMARY, at),
                     "backup": _next_change(s, a, Layer.BACKUP, at)},
        }


def gaps(*, context: str, start: datetime, end: datetime,
         minimum: timedelta = timedelta(hours=1)) -> list[dict[str, Any]]:
    """Stretches of at least ``minimum`` with no primary, per agency that keeps a roster."""
    with db.reading() as s:
        out = []
        for a in _agencies(s, context):
            rots, ovs = load_specs(s, a.id, layer=Layer.PRIMARY)
            if not rots:
                continue
            for g0, g1 in schedule.gaps(rots, ovs, start, end, minimum=minimum):
                out.append({"agency_code": a.code, "name_zh": a.name_zh, "name_en": a.name_en,
                            "start": g0.isoformat(), "end": g1.isoformat(),
                            "hours": round((g1 - g0).total_seconds() / 3600, 1)})
        return out


def upcoming_gaps(*, context: str, days: int = 7) -> list[dict[str, Any]]:
    with db.reading() as s:
        now = context_row(s, context).clock().now()
    return gaps(context=context, start=now, end=now + timedelta(days=days))


def officer_shifts(*, token: str, past_days: int = 7,
                   ahead_days: int = 60) -> tuple[Officer, Agency, list[schedule.Segment]]:
    """The shifts of the officer whose secret feed token this is."""
    with db.reading() as s:
        o = s.scalar(select(Officer).where(Officer.ical_token == token))
        if o is None:
            raise NotFound(_l("No such calendar."))
        a = s.get(Agency, o.agency_id)
        assert a is not None
        now = context_row(s, o.context).clock().now()
        rots, ovs = load_specs(s, a.id)
        segs = [g for g in schedule.segments(rots, ovs, now - timedelta(days=past_days),
                                             now + timedelta(days=ahead_days))
                if g.officer_id == o.id]
        return o, a, segs


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def stats(*, context: str, incident_ref: str | None = None, days: int = 30) -> dict[str, Any]:
    """Per agency: open tasks, overdue acknowledgements, time to acknowledge (median, p90)."""
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        agencies = _agencies(s, context)
        open_by = dict(s.execute(
            select(Task.agency_id, func.count()).where(
                Task.context == context,
                Task.status.in_([TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED]))
            .group_by(Task.agency_id)).all())
        overdue_by = dict(s.execute(
            select(Task.agency_id, func.count()).where(
                Task.context == context, Task.status == TaskStatus.OPEN,
                Task.ack_deadline.is_not(None), Task.ack_deadline < now)
            .group_by(Task.agency_id)).all())
        since = now - timedelta(days=days)
        recent: dict[str, list[float]] = {}
        incident: dict[str, list[float]] = {}
        for ev in s.scalars(select(Event).where(Event.context == context,
                                                Event.type == "task.acknowledged")):
            ack = (ev.payload or {}).get("ack") or {}
            if not ack.get("complete") or ack.get("agency") is None:
                continue
            if ev.occurred_at >= since:
                recent.setdefault(ack["agency"], []).append(float(ack["seconds"]))
            if incident_ref and ev.payload.get("incident_ref") == incident_ref:
                incident.setdefault(ack["agency"], []).append(float(ack["seconds"]))
        rows = []
        for a in agencies:
            r, i = recent.get(a.code, []), incident.get(a.code, [])
            rows.append({
                "code": a.code, "name_zh": a.name_zh, "name_en": a.name_en,
                "open": open_by.get(a.id, 0), "overdue": overdue_by.get(a.id, 0),
                "recent": {"count": len(r), "median": _pct(r, 50), "p90": _pct(r, 90)},
                "incident": {"count": len(i), "median": _pct(i, 50), "p90": _pct(i, 90)},
            })
        return {"now": now.isoformat(), "days": days, "incident_ref": incident_ref,
                "agencies": rows}
