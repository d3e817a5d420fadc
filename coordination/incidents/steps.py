"""The steps an operator takes on one incident's page that the lifecycle form does not.

Choosing the destination from the recommended hospitals, releasing a unit,
putting a decontaminated ambulance back in service and finding the epidemic
zone a confirmed case belongs to: each reads here and changes state through
the service that owns it (incidents.service, units.service), so the page, the
API and a drill inject take the same path.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..contexts import LIVE
from ..errors import Conflict, NotFound
from ..events import Actor
from ..extensions import db
from ..facilities.capabilities import condition_for
from ..units import service as units
from ..units.models import Unit, UnitStatus
from ..units.schemas import StatusIn
from .models import Assignment, Incident
from .recommend import EtaModel, beds_needed, care_choices, nearest_facilities
from .zone_models import EpidemicZone

# After a patient the unit is cleaned before it serves again; these are the
# states the incident page offers to end.
AWAITING_SERVICE = frozenset({UnitStatus.DECONTAMINATING.value})


def destination_choices(*, context: str = LIVE, incident_id: int,
                        limit: int = 5) -> list[dict[str, Any]]:
    """The designated hospitals or clinics with a free bed of the needed kind, nearest first."""
    return care_or_beds(context=context, incident_id=incident_id, limit=limit)["destinations"]


def care_or_beds(*, context: str = LIVE, incident_id: int, limit: int = 5) -> dict[str, Any]:
    """What the incident page offers as destinations.

    With a condition (picked, or implied by the type): the capable centres by
    road ETA, and ``care`` says the window and which nearer hospitals were
    skipped and why. Without: the nearest with a free bed of the needed kind.
    """
    with db.reading() as s:
        i = s.get(Incident, incident_id)
        if i is None or i.context != context:
            raise NotFound(_l("No such incident."))
        picked = condition_for(i.type, i.condition)
        if picked is not None:
            care = care_choices(s, context=context, i=i, condition=picked, limit=limit,
                                model=EtaModel.configured(), network=None, use_network=True,
                                explicit=bool(i.condition))
            if not care["fallback"]:
                return {"destinations": care["destinations"], "care": care}
        else:
            care = None
        kinds, beds = beds_needed(i.disease)
        return {"destinations": nearest_facilities(s, context=context, lon=i.lon, lat=i.lat,
                                                   kinds=kinds, beds=beds, limit=limit),
                "care": care}


def units_awaiting_service(*, context: str = LIVE, incident_id: int) -> list[dict[str, Any]]:
    """Units released from this incident and still being decontaminated (not yet available).

    A unit that has since been sent to another incident is that incident's business.
    """
    with db.reading() as s:
        served = select(Assignment.unit_id).where(Assignment.incident_id == incident_id,
                                                  Assignment.active.is_(False))
        busy = select(Assignment.unit_id).where(Assignment.active.is_(True))
        rows = s.scalars(select(Unit).where(
            Unit.context == context, Unit.id.in_(served), Unit.id.notin_(busy),
            Unit.status.in_(AWAITING_SERVICE)).order_by(Unit.call_sign))
        return [{"unit_id": u.id, "call_sign": u.call_sign, "status": u.status,
                 "status_at": u.status_at.isoformat() if u.status_at else None,
                 "negative_pressure": u.negative_pressure} for u in rows]


def return_to_service(*, context: str = LIVE, incident_id: int, unit_id: int, actor: Actor,
                      note: str = "") -> dict[str, Any]:
    """Decontamination done: the unit is available again (and recommended again)."""
    waiting = {u["unit_id"] for u in units_awaiting_service(context=context,
                                                            incident_id=incident_id)}
    if unit_id not in waiting:
        raise Conflict(str(_l("That unit is not waiting to go back in service after this "
                              "incident.")))
    return units.set_status(unit_id=unit_id, context=context, actor=actor,
                            data=StatusIn(status=UnitStatus.AVAILABLE,
                                          note=note or str(_l("Decontaminated"))))


def zones_of(*, context: str = LIVE, case_ids: list[int]) -> list[dict[str, Any]]:
    """The epidemic zones (疫点/疫区) drawn around any of these cases."""
    if not case_ids:
        return []
    wanted = set(case_ids)
    with db.reading() as s:
        rows = s.scalars(select(EpidemicZone).where(EpidemicZone.context == context)
                         .order_by(EpidemicZone.id))
        return [{"id": z.id, "disease": z.disease, "status": z.status, "version": z.version}
                for z in rows if wanted & set(z.case_ids or [])]
