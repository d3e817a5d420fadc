"""Close contacts: traced, isolated at an isolation point, released.

The ID number is masked everywhere but the contact's own record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..facilities import service as facilities
from ..facilities.models import Facility, FacilityKind
from ..geo.region import BBox, check_position
from . import diseases
from .common import context_row, incident_row, iso, mask_id, record_event
from .models import (
    Contact,
    ContactStatus,
    Incident,
)
from .recommend import nearest_facilities
from .schemas import (
    ContactIn,
    IsolateIn,
)
from .settings import configured_region

DEFAULT_OBSERVATION_DAYS = 14


def contact_props(c: Contact, s: Session, *, masked: bool) -> dict[str, Any]:
    place = s.get(Facility, c.isolation_id) if c.isolation_id else None
    return {
        "id": c.id, "incident_id": c.incident_id, "name": c.name, "phone": c.phone,
        "id_number": mask_id(c.id_number) if masked else c.id_number,
        "address": c.address, "lon": c.lon, "lat": c.lat,
        "last_exposure": c.last_exposure.isoformat(),
        "observation_end": c.observation_end.isoformat(), "status": c.status,
        "isolation_id": c.isolation_id, "isolation_name": place.name if place else None,
        "isolated_at": iso(c.isolated_at), "released_at": iso(c.released_at),
        "notes": c.notes, "created_at": c.created_at.isoformat(), "created_by": c.created_by,
    }


def add_contact(*, context: str = LIVE, incident_id: int, data: ContactIn, actor: Actor,
                region: BBox | None = None) -> dict[str, Any]:
    """Record a close contact; observation ends the disease's days after last exposure."""
    if data.lon is not None and data.lat is not None:
        check_position(data.lon, data.lat, configured_region(region))
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        if data.last_exposure > now + timedelta(minutes=5):
            raise ValidationFailed(_l("The last exposure is in the future."))
        found = diseases.get(i.disease)
        days = data.observation_days or (found.observation_days if found
                                         else DEFAULT_OBSERVATION_DAYS)
        c = Contact(context=context, incident_id=i.id, name=data.name, phone=data.phone,
                    id_number=data.id_number.upper(), address=data.address, lon=data.lon,
                    lat=data.lat, last_exposure=data.last_exposure,
                    observation_end=data.last_exposure + timedelta(days=days),
                    status=ContactStatus.TRACED.value, notes=data.notes, created_at=now,
                    created_by=actor.name)
        s.add(c)
        i.version += 1
        s.flush()
        body = contact_props(c, s, masked=True)
        record_event(s, i, "incident.contact_added", actor, body)
        return body


def get_contact(*, context: str = LIVE, contact_id: int,
                with_suggestions: bool = False) -> dict[str, Any]:
    """The contact's own record: the one view with the full ID number.

    ``with_suggestions`` adds the isolation points with a free room, nearest first.
    """
    with db.reading() as s:
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        body = contact_props(c, s, masked=False)
        if with_suggestions:
            lon, lat = _origin(c, incident_row(s, c.incident_id, context))
            body["suggestions"] = nearest_facilities(
                s, context=context, lon=lon, lat=lat, kinds=[FacilityKind.ISOLATION_POINT],
                beds=["isolation_room"], limit=5)
        return body


def _origin(c: Contact, i: Incident) -> tuple[float, float]:
    return (c.lon, c.lat) if c.lon is not None and c.lat is not None else (i.lon, i.lat)


def suggest_isolation(*, context: str = LIVE, contact_id: int,
                      limit: int = 5) -> list[dict[str, Any]]:
    """Isolation points with a free isolation room, nearest to the contact first."""
    with db.reading() as s:
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        i = incident_row(s, c.incident_id, context)
        lon, lat = _origin(c, i)
        return nearest_facilities(s, context=context, lon=lon, lat=lat,
                                  kinds=[FacilityKind.ISOLATION_POINT],
                                  beds=["isolation_room"], limit=limit)


def isolate_contact(*, context: str = LIVE, contact_id: int, data: IsolateIn,
                    actor: Actor) -> dict[str, Any]:
    """Send a contact to an isolation point and take one of its rooms."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        i = incident_row(s, c.incident_id, context, lock=True)
        if c.status != ContactStatus.TRACED.value:
            raise Conflict(str(_l("This contact is already %(status)s.", status=c.status)))
        facility_id = data.facility_id
        if facility_id is None:
            lon, lat = _origin(c, i)
            found = nearest_facilities(s, context=context, lon=lon, lat=lat,
                                       kinds=[FacilityKind.ISOLATION_POINT],
                                       beds=["isolation_room"], limit=1)
            if not found:
                raise Conflict(str(_l("No isolation point has a free room.")))
            facility_id = found[0]["id"]
        f = s.get(Facility, facility_id, with_for_update=True)
        if f is None or f.context != context:
            raise NotFound(_l("No such facility."))
        if f.kind != FacilityKind.ISOLATION_POINT.value:
            raise ValidationFailed(str(_l("%(name)s is not an isolation point.", name=f.name)))
        facilities.adjust_occupancy(s, f, bed="isolation_room", delta=1, actor=actor, at=now,
                                    note=str(_l("Close contact of incident #%(id)s",
                                                id=i.id)))
        c.isolation_id, c.status, c.isolated_at = f.id, ContactStatus.ISOLATED.value, now
        i.version += 1
        body = contact_props(c, s, masked=True)
        record_event(s, i, "incident.contact_isolated", actor, body)
        return body


def release_contact(*, context: str = LIVE, contact_id: int, actor: Actor) -> dict[str, Any]:
    """End a contact's observation; the isolation room becomes free again."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        i = incident_row(s, c.incident_id, context, lock=True)
        if c.status == ContactStatus.RELEASED.value:
            raise Conflict(str(_l("This contact is already released.")))
        if c.isolation_id is not None:
            f = s.get(Facility, c.isolation_id, with_for_update=True)
            if f is not None:
                facilities.adjust_occupancy(
                    s, f, bed="isolation_room", delta=-1, actor=actor, at=now,
                    note=str(_l("Close contact of incident #%(id)s released", id=i.id)))
        c.status, c.released_at = ContactStatus.RELEASED.value, now
        i.version += 1
        body = contact_props(c, s, masked=True)
        record_event(s, i, "incident.contact_released", actor, body)
        return body


def list_contacts(*, context: str = LIVE, active_only: bool = True) -> list[dict[str, Any]]:
    """Every contact under observation (IDs masked), soonest observation end first."""
    with db.reading() as s:
        q = select(Contact).where(Contact.context == context)
        if active_only:
            q = q.where(Contact.status != ContactStatus.RELEASED.value)
        return [contact_props(c, s, masked=True)
                for c in s.scalars(q.order_by(Contact.observation_end, Contact.id))]
