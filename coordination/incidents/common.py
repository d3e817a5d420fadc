"""The rows, dicts and events every incident service shares.

One lookup of an incident (scoped to its context, 404 otherwise), one dict
of it as the API, the board and its events see it, and one way to append
its events, so the lifecycle, dispatch, cases and contacts cannot drift
apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..contexts import context_row as context_row  # one helper; modules here import it from common
from ..errors import NotFound
from ..events import Actor
from ..units.models import Unit
from .models import (
    TERMINAL,
    Assignment,
    Clock,
    Incident,
)
from .settings import needs_negative_pressure

AUDIENCE = ["role:operator", "role:trainer"]

SUBJECT = "incident"


def incident_row(s: Session, incident_id: int, context: str, *, lock: bool = False) -> Incident:
    i = s.get(Incident, incident_id, with_for_update=lock or None)
    if i is None or i.context != context:
        raise NotFound(_l("No such incident."))
    return i


def mask_id(value: str) -> str:
    """An ID number as every view but the contact's own record shows it."""
    if not value:
        return ""
    if len(value) <= 6:
        return "*" * (len(value) - 1) + value[-1]
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def incident_props(i: Incident, assigned: list[dict[str, Any]] | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """An incident as the API, the board, the map and its events see it."""
    body: dict[str, Any] = {
        "id": i.id,
        "type": i.type,
        "disease": i.disease,
        "disease_name": i.disease_name,
        "condition": i.condition,
        "negative_pressure": needs_negative_pressure(i.disease),
        "priority": i.priority,
        "status": i.status,
        "status_at": i.status_at.isoformat(),
        "version": i.version,
        "lon": i.lon,
        "lat": i.lat,
        "address": i.address,
        "patients": i.patients,
        "reporter": i.reporter,
        "phone": i.phone,
        "notes": i.notes,
        "external_ref": i.external_ref,
        "source": i.source,
        "destination_id": i.destination_id,
        "logged_at": i.logged_at.isoformat(),
        "logged_by": i.logged_by,
        "clocks": {c.name.lower(): iso(getattr(i, c.value)) for c in Clock},
        "report_deadline": iso(i.report_deadline),
        "deadline_rule": i.deadline_rule,
        "open": i.status not in {s.value for s in TERMINAL},
        "event_ref": i.event_ref,
        "venue_ref": i.venue_ref,
    }
    if assigned is not None:
        body["units"] = assigned
    if now is not None:
        body["deadline_missed"] = bool(
            i.report_deadline and i.reported_up_at is None and now > i.report_deadline)
    return body


def assigned_units(s: Session, incident_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Active assignments of these incidents, with their units."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return out
    rows = s.execute(
        select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.incident_id.in_(incident_ids), Assignment.active.is_(True))
        .order_by(Assignment.dispatched_at, Assignment.id))
    for a, u in rows:
        out[a.incident_id].append({
            "unit_id": u.id, "call_sign": u.call_sign, "unit_status": u.status,
            "negative_pressure": u.negative_pressure, "assignment": a.status,
            "dispatched_at": a.dispatched_at.isoformat(), "dispatched_by": a.dispatched_by,
            "eta_seconds": a.eta_seconds,
        })
    return out


def incident_body(s: Session, i: Incident, now: datetime) -> dict[str, Any]:
    return incident_props(i, assigned_units(s, [i.id])[i.id], now)


def record_event(s: Session, i: Incident, type: str, actor: Actor, payload: dict[str, Any]) -> None:
    events.append(s, context=i.context, type=type, actor=actor, audience=AUDIENCE,
                  subject=(SUBJECT, i.id), payload=payload)


def touch(i: Incident, now: datetime) -> None:
    i.version += 1
    i.status_at = now
