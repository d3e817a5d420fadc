"""Case locations of an incident: what the epidemic point and zones are drawn from.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from ..contexts import LIVE
from ..events import Actor
from ..extensions import db
from ..geo.region import BBox, check_position
from .common import context_row, incident_row, record_event
from .models import (
    Case,
    Incident,
)
from .schemas import (
    CaseIn,
)
from .settings import configured_region

log = logging.getLogger(__name__)


def case_props(c: Case) -> dict[str, Any]:
    return {"id": c.id, "incident_id": c.incident_id, "label": c.label, "lon": c.lon,
            "lat": c.lat, "confirmed": c.confirmed, "at": c.at.isoformat(),
            "recorded_by": c.recorded_by}


def add_case(*, context: str = LIVE, incident_id: int, data: CaseIn, actor: Actor,
             region: BBox | None = None) -> dict[str, Any]:
    """Record where a case was; the epidemic point is drawn around these."""
    check_position(data.lon, data.lat, configured_region(region))
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        c = Case(context=context, incident_id=i.id, label=data.label, lon=data.lon,
                 lat=data.lat, confirmed=data.confirmed, at=data.at or now,
                 recorded_by=actor.name)
        s.add(c)
        i.version += 1
        s.flush()
        body = case_props(c)
        record_event(s, i, "incident.case_added", actor, body | {"disease": i.disease})
    return body


def record_case(*, context: str = LIVE, incident_id: int, data: CaseIn, actor: Actor,
                region: BBox | None = None) -> dict[str, Any]:
    """Record a case location and, if confirmed, redraw its disease's epidemic zones.

    What the API and pages call: the zone updates as cases are added.
    ``add_case`` alone leaves the zones to ``coordination zones refresh``.
    """
    body = add_case(context=context, incident_id=incident_id, data=data, actor=actor,
                    region=region)
    with db.reading() as s:
        disease = incident_row(s, incident_id, context).disease
    _refresh_zones(disease, confirmed=data.confirmed, actor=actor, context=context)
    return body


def _refresh_zones(disease: str | None, *, confirmed: bool, actor: Actor, context: str) -> None:
    """Redraw the epidemic point/zone of a disease that has a rule, after a confirmed case.

    Its own transaction, after the case committed: a failure here leaves the
    case recorded and the zone to ``coordination zones refresh``.
    """
    from ..geo import epidemic

    if not confirmed or disease is None or epidemic.rule_for(disease) is None:
        return
    from . import zones

    try:
        zones.refresh_zones(disease=disease, actor=actor, context=context)
    except Exception:  # the case is committed; the zone catches up on the next refresh
        log.exception("refreshing the %s epidemic zones failed", disease)


def list_cases(*, context: str = LIVE, incident_id: int | None = None,
               disease: str | None = None, confirmed_only: bool = True) -> list[dict[str, Any]]:
    """Case locations of one incident, or of every incident of a disease."""
    with db.reading() as s:
        q = select(Case).join(Incident, Incident.id == Case.incident_id).where(
            Case.context == context)
        if incident_id is not None:
            q = q.where(Case.incident_id == incident_id)
        if disease is not None:
            q = q.where(Incident.disease == disease)
        if confirmed_only:
            q = q.where(Case.confirmed.is_(True))
        return [case_props(c) for c in s.scalars(q.order_by(Case.id))]
