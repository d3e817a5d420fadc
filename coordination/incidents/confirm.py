"""Suspected → confirmed: the one step that turns a case into an epidemic point.

Confirming a suspected case changes the incident's type, starts the early
diagnosis clock (早诊断) if no one set it, and records the incident's
location as a confirmed case, all in one transaction with one event. After
commit the disease's epidemic point and zone (疫点/疫区) are redrawn, in their
own transaction as ``record_case`` does: a failure there leaves the
confirmation standing and the zone to ``coordination zones refresh``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import events
from ..contexts import LIVE, Context
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from .lifecycle import early_warning
from .models import Case, Incident, IncidentType
from .service import AUDIENCE, SUBJECT, incident_props

log = logging.getLogger(__name__)

CONFIRMABLE = frozenset({IncidentType.SUSPECTED_CASE.value, IncidentType.CONFIRMED_CASE.value,
                         IncidentType.CLUSTER.value})


def can_confirm(body: dict[str, Any]) -> bool:
    """Whether the incident page offers the step: an open case of a named disease."""
    return bool(body.get("open") and body.get("disease") and body.get("type") in CONFIRMABLE
                and not any(c.get("confirmed") for c in body.get("cases", [])))


def confirm_case(*, context: str = LIVE, incident_id: int, actor: Actor,
                 note: str = "") -> dict[str, Any]:
    """Confirm the case of an incident; returns the incident as the API shows it."""
    with db.unit_of_work() as s:
        ctx = s.get(Context, context)
        i = s.get(Incident, incident_id, with_for_update=True)
        if ctx is None or i is None or i.context != context:
            raise NotFound(_l("No such incident."))
        now = ctx.clock().now()
        if i.type not in CONFIRMABLE or not i.disease:
            raise ValidationFailed(_l("Only a case of a named disease can be confirmed."))
        if s.scalar(select(Case.id).where(Case.incident_id == i.id,
                                          Case.confirmed.is_(True)).limit(1)) is not None:
            raise Conflict(str(_l("This case is already confirmed.")))
        previous = i.type
        if i.type == IncidentType.SUSPECTED_CASE.value:
            i.type = IncidentType.CONFIRMED_CASE.value
        if i.diagnosed_at is None:
            i.diagnosed_at = now
        i.version += 1
        case = Case(context=context, incident_id=i.id, label=i.address or f"#{i.id}",
                    lon=i.lon, lat=i.lat, confirmed=True, at=now, recorded_by=actor.name)
        s.add(case)
        s.flush()
        body = incident_props(i, now=now)
        events.append(s, context=context, type="incident.case_confirmed", actor=actor,
                      audience=AUDIENCE, subject=(SUBJECT, i.id),
                      payload=body | {"previous_type": previous, "case_id": case.id,
                                      "note": note[:1000]})
        disease = i.disease
    _refresh_zones(disease, actor=actor, context=context)
    early_warning(context, incident_id)  # confirmed: the plan's level may rise
    return body


def _refresh_zones(disease: str, *, actor: Actor, context: str) -> None:
    from ..geo import epidemic
    from . import zones

    if epidemic.rule_for(disease) is None:
        return
    try:
        zones.refresh_zones(disease=disease, actor=actor, context=context)
    except Exception:  # the confirmation is committed; the zone catches up on the next refresh
        log.exception("refreshing the %s epidemic zones failed", disease)
