"""The daily situation report (每日医疗保障情况报告) of a major event: pure data.

For one local day of an event it counts, from the incidents tagged with the
event (major_events/venues.py tags them at logging) and from the event log of that
day: calls, transports, dispatches, patients, by venue and by priority; the
response time from logging to the first unit dispatched; and what was still
open at the end of the day. Status "at the end of the day" is replayed from the
log (the last ``incident.status_changed`` before midnight), not read from the
incident row, so a report for yesterday does not change when today's calls
close.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from statistics import median
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..contexts import LIVE, context_row
from ..errors import NotFound, ValidationFailed
from ..events import Event
from ..extensions import db
from ..incidents.models import TERMINAL, Incident, IncidentStatus, Priority
from ..incidents.service import SUBJECT
from ..plans.registry import plans_dir
from .cover import EventCover, events_dir, load_events
from .venues import day_bounds, event_days, event_tz

TRANSPORT_STATUSES = frozenset({IncidentStatus.TRANSPORTING.value,
                                IncidentStatus.AT_HOSPITAL.value})
TERMINAL_VALUES = frozenset(s.value for s in TERMINAL)


def parse_day(value: str | None) -> date | None:
    """``YYYY-MM-DD`` from a query string; None when left out."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_l("Give the date as YYYY-MM-DD.")) from None


def _event(event_id: str, directory: Path | None) -> tuple[EventCover, str]:
    valid, _invalid = load_events(directory or events_dir(plans_dir()))
    hit = valid.get(event_id)
    if hit is None:
        raise NotFound(_l("No such event: %(event)s.", event=event_id))
    return hit.plan, hit.file_hash


def _minutes(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"count": 0, "median_min": None, "mean_min": None, "max_min": None}
    return {"count": len(seconds), "median_min": round(median(seconds) / 60, 1),
            "mean_min": round(sum(seconds) / len(seconds) / 60, 1),
            "max_min": round(max(seconds) / 60, 1)}


def _blank() -> dict[str, int]:
    return {"calls": 0, "patients": 0, "transports": 0, "dispatches": 0, "open": 0}


def sitrep(*, event_id: str, day: date | None = None, context: str = LIVE,
           directory: Path | None = None) -> dict[str, Any]:
    """The event's report for ``day`` (default: today on the context's clock)."""
    ev, file_hash = _event(event_id, directory)
    tz = event_tz(ev)
    with db.reading() as s:
        ctx = context_row(s, context)
        now = ctx.clock().now()
        day = day or now.astimezone(tz).date()
        start, end = day_bounds(ev, day)
        rows = list(s.scalars(
            select(Incident).where(Incident.context == context, Incident.event_ref == ev.id,
                                   Incident.logged_at >= start, Incident.logged_at < end)
            .order_by(Incident.logged_at, Incident.id)))
        log: dict[int, list[Event]] = {i.id: [] for i in rows}
        if rows:
            for e in s.scalars(
                    select(Event).where(Event.context == context,
                                        Event.subject_type == SUBJECT,
                                        Event.subject_id.in_([str(i.id) for i in rows]),
                                        Event.occurred_at < end)
                    .order_by(Event.seq)):
                log[int(e.subject_id or 0)].append(e)

    venue_names = {v.id: v.name.model_dump() for v in ev.venues}
    by_venue: dict[str, dict[str, Any]] = {
        v.id: {"venue": v.id, "name": venue_names[v.id]} | _blank() for v in ev.venues}
    by_priority: dict[int, dict[str, Any]] = {
        p.value: {"priority": p.value} | _blank() for p in Priority}
    totals = _blank()
    response_s: list[float] = []
    listing: list[dict[str, Any]] = []
    for i in rows:
        status = IncidentStatus.REPORTED.value
        first_dispatch: datetime | None = None
        dispatches = 0
        transported = False
        for e in log[i.id]:
            if e.type == "incident.status_changed":
                status = str(e.payload.get("status") or status)
                transported = transported or status in TRANSPORT_STATUSES
            elif e.type == "incident.unit_dispatched":
                dispatches += 1
                if first_dispatch is None:
                    first_dispatch = e.occurred_at
        response = (first_dispatch - i.logged_at).total_seconds() if first_dispatch else None
        if response is not None:
            response_s.append(response)
        is_open = status not in TERMINAL_VALUES
        venue_key = i.venue_ref if i.venue_ref in by_venue else None
        if venue_key is None:
            by_venue.setdefault("", {"venue": None, "name": None} | _blank())
        for bucket in (totals, by_venue[venue_key or ""], by_priority[i.priority]):
            bucket["calls"] += 1
            bucket["patients"] += i.patients
            bucket["transports"] += int(transported)
            bucket["dispatches"] += dispatches
            bucket["open"] += int(is_open)
        listing.append({
            "id": i.id, "logged_at": i.logged_at.isoformat(), "type": i.type,
            "priority": i.priority, "venue": i.venue_ref,
            "venue_name": venue_names.get(i.venue_ref or ""), "patients": i.patients,
            "address": i.address, "status_at_end": status, "open_at_end": is_open,
            "transported": transported, "dispatches": dispatches,
            "first_dispatch_at": first_dispatch.isoformat() if first_dispatch else None,
            "response_min": None if response is None else round(response / 60, 1),
        })
    first, last = event_days(ev)
    return {
        "event": {"id": ev.id, "title": ev.title.model_dump(), "version": ev.version,
                  "file_hash": file_hash, "first_day": first.isoformat(),
                  "last_day": last.isoformat()},
        "context": context, "date": day.isoformat(), "in_event": first <= day <= last,
        "from": start.isoformat(), "to": end.isoformat(), "generated_at": now.isoformat(),
        "totals": totals, "response": _minutes(response_s),
        "by_venue": list(by_venue.values()),
        "by_priority": [by_priority[p.value] for p in Priority],
        "sessions": [{"id": x.id, "venue": x.venue, "venue_name": venue_names[x.venue],
                      "title": x.title.model_dump(), "start": x.start.isoformat(),
                      "end": x.end.isoformat()}
                     for x in sorted(ev.sessions, key=lambda x: x.start)
                     if x.start < end and x.end > start],
        "incidents": listing,
        "open_at_end": [r for r in listing if r["open_at_end"]],
    }
