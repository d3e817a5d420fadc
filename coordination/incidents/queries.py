"""Reading incidents: one with everything about it, the board's list, the map layer,
the timeline and the places an operator can pick.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..events import Event
from ..extensions import db
from ..facilities.models import Facility, FacilityKind
from ..units.models import Unit
from .cases import case_props
from .closing import describe_gaps
from .common import (
    SUBJECT,
    assigned_units,
    context_row,
    incident_body,
    incident_props,
    incident_row,
    iso,
)
from .contacts import contact_props
from .models import (
    OPEN_STATUSES,
    Assignment,
    Case,
    Contact,
    Incident,
)


def get_incident(*, context: str = LIVE, incident_id: int,
                 with_timeline: bool = False) -> dict[str, Any]:
    """One incident with its units, destination, cases and contacts (IDs masked).

    ``with_timeline`` adds the latest page of events about it (the incident page shows
    both; earlier pages come from ``timeline``).
    """
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context)
        body = incident_body(s, i, now)
        dest = s.get(Facility, i.destination_id) if i.destination_id else None
        body["destination"] = ({"id": dest.id, "name": dest.name, "kind": dest.kind,
                                "lon": dest.lon, "lat": dest.lat} if dest else None)
        body["history"] = [
            {"unit_id": a.unit_id, "call_sign": u.call_sign, "assignment": a.status,
             "active": a.active, "dispatched_at": a.dispatched_at.isoformat(),
             "dispatched_by": a.dispatched_by, "released_at": iso(a.released_at)}
            for a, u in s.execute(
                select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)
                .where(Assignment.incident_id == i.id).order_by(Assignment.id))
        ]
        # What closing would ask for (closing.py): the page and the drawer show it.
        body["close_gaps"] = describe_gaps(i)
        body["cases"] = [case_props(c) for c in s.scalars(
            select(Case).where(Case.incident_id == i.id).order_by(Case.id))]
        body["contacts"] = [contact_props(c, s, masked=True) for c in s.scalars(
            select(Contact).where(Contact.incident_id == i.id).order_by(Contact.id))]
        body["now"] = now.isoformat()
        if with_timeline:
            body["timeline"], body["timeline_earlier"] = timeline_page(s, context, i.id)
        return body


def list_incidents(*, context: str = LIVE, open_only: bool = True) -> list[dict[str, Any]]:
    """Incidents by priority, then oldest first (the board's order)."""
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        q = select(Incident).where(Incident.context == context)
        if open_only:
            q = q.where(Incident.status.in_(OPEN_STATUSES))
        rows = list(s.scalars(q.order_by(Incident.priority, Incident.logged_at, Incident.id)))
        assigned = assigned_units(s, [i.id for i in rows])
        return [incident_props(i, assigned[i.id], now) for i in rows]


def incidents_geojson(*, context: str = LIVE) -> dict[str, Any]:
    """Open incidents as a layer for the live map."""
    features = [{"type": "Feature", "id": p["id"],
                 "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                 "properties": p} for p in list_incidents(context=context)]
    return {"type": "FeatureCollection", "features": features}


def location_choices(*, context: str = LIVE, limit: int = 5000) -> list[dict[str, Any]]:
    """Facilities, then populated places: the logging form's "pick a place" list."""
    from ..facilities.models import KIND_LABELS
    from ..geo.places import PLACE_LABELS, PopulatedPlace

    out: list[dict[str, Any]] = []
    with db.reading() as s:
        for name, kind, lon, lat in s.execute(
                select(Facility.name, Facility.kind, Facility.lon, Facility.lat)
                .where(Facility.context == context).order_by(Facility.name).limit(limit)):
            out.append({"name": name, "kind": str(KIND_LABELS[FacilityKind(kind)]),
                        "lon": lon, "lat": lat})
        for name, kind, lon, lat in s.execute(
                select(PopulatedPlace.name, PopulatedPlace.kind, PopulatedPlace.lon,
                       PopulatedPlace.lat).order_by(PopulatedPlace.name)
                .limit(max(limit - len(out), 0))):
            labels = cast("dict[str, Any]", PLACE_LABELS)  # StrEnum keys match their values
            label = labels.get(kind, kind)
            out.append({"name": name, "kind": str(label), "lon": lon, "lat": lat})
    return out


TIMELINE_PAGE = 200


def timeline(*, context: str = LIVE, incident_id: int) -> list[dict[str, Any]]:
    """Every event about the incident from the log, oldest first."""
    with db.reading() as s:
        incident_row(s, incident_id, context)
        return timeline_rows(s, context, incident_id)


def timeline_window(*, context: str = LIVE, incident_id: int, before: int | None = None,
                    limit: int = TIMELINE_PAGE) -> dict[str, Any]:
    """The latest ``limit`` events about the incident (before seq ``before`` if given),
    oldest first, and whether earlier ones exist: a 5,000-event timeline is read a page
    at a time, newest page first, with "load earlier" for the rest (issue 19)."""
    with db.reading() as s:
        incident_row(s, incident_id, context)
        rows, earlier = timeline_page(s, context, incident_id, before=before, limit=limit)
        return {"events": rows, "earlier": earlier}


def timeline_page(s: Session, context: str, incident_id: int, *, before: int | None = None,
                  limit: int | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Served by the (context, subject_type, subject_id, seq) index, newest first."""
    limit = limit or TIMELINE_PAGE
    q = select(Event).where(Event.context == context, Event.subject_type == SUBJECT,
                            Event.subject_id == str(incident_id))
    if before is not None:
        q = q.where(Event.seq < before)
    rows = list(s.scalars(q.order_by(Event.seq.desc()).limit(limit + 1)))
    earlier = len(rows) > limit
    return [e.as_message() for e in reversed(rows[:limit])], earlier


def timeline_rows(s: Session, context: str, incident_id: int) -> list[dict[str, Any]]:
    """Every event about the incident, oldest first (reports and exports read it whole)."""
    rows = s.scalars(select(Event).where(
        Event.context == context, Event.subject_type == SUBJECT,
        Event.subject_id == str(incident_id)).order_by(Event.seq))
    return [e.as_message() for e in rows]
