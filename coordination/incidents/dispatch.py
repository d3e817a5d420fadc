"""Sending units to an incident and standing them down.

The dispatch race: two operators sending the same ambulance at the same
moment. The unit is claimed with one conditional UPDATE (``status =
'available'``); the database lets exactly one transaction match it, and the
other learns from the committed assignment who got the unit (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..units import service as units
from ..units.models import Unit, UnitStatus
from .common import context_row, incident_body, incident_row, record_event, touch
from .models import (
    STATUS_LABELS,
    TERMINAL,
    Assignment,
    AssignmentStatus,
    Incident,
    IncidentStatus,
)
from .recommend import EtaModel, straight_eta
from .schemas import (
    DispatchIn,
)
from .settings import needs_negative_pressure


def active_assignments(s: Session, i: Incident) -> list[Assignment]:
    return list(s.scalars(select(Assignment).where(
        Assignment.incident_id == i.id, Assignment.active.is_(True)).order_by(Assignment.id)))


def release_assignment(s: Session, i: Incident, a: Assignment, *, actor: Actor, now: datetime,
             note: str) -> dict[str, Any] | None:
    """End an assignment; the unit is decontaminated after an infectious patient."""
    carried = a.status != AssignmentStatus.DISPATCHED.value
    a.active, a.status, a.released_at = False, AssignmentStatus.RELEASED.value, now
    u = s.get(Unit, a.unit_id, with_for_update=True)
    if u is None:
        return None
    infectious = needs_negative_pressure(i.disease) or i.disease is not None
    after = UnitStatus.DECONTAMINATING if infectious and (carried or u.negative_pressure) \
        else UnitStatus.AVAILABLE
    return units.change_status_in(s, u, after, actor=actor, now=now, note=note,
                                  extra={"incident_id": i.id})


def dispatch_unit(*, context: str = LIVE, incident_id: int, data: DispatchIn, actor: Actor,
                  eta_seconds: float | None = None) -> dict[str, Any]:
    """Send an available unit to an incident; exactly one of two racing operators wins.

    A reported incident is verified by its dispatch (both steps are logged).
    The loser gets 409 naming the incident and operator that got the unit.
    """
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        current = IncidentStatus(i.status)
        if current in TERMINAL or current == IncidentStatus.AT_HOSPITAL:
            raise Conflict(str(_l("The incident is %(status)s; no unit can be sent to it.",
                                  status=STATUS_LABELS[current])))
        claimed = s.execute(  # type: ignore[attr-defined]
            update(Unit)
            .where(Unit.id == data.unit_id, Unit.context == context,
                   Unit.status == UnitStatus.AVAILABLE.value)
            .values(status=UnitStatus.DISPATCHED.value, status_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        u = s.get(Unit, data.unit_id, populate_existing=True)
        if u is None or u.context != context:
            raise NotFound(_l("No such unit."))
        if claimed != 1:
            raise _unavailable(s, u)
        if needs_negative_pressure(i.disease) and not u.negative_pressure:
            raise ValidationFailed(str(_l(
                "%(unit)s is not a negative-pressure ambulance; this disease needs one.",
                unit=u.call_sign)))
        if eta_seconds is None and u.lon is not None and u.lat is not None:
            eta_seconds = _straight_eta(u, i)
        a = Assignment(context=context, incident_id=i.id, unit_id=u.id,
                       status=AssignmentStatus.DISPATCHED.value, active=True,
                       eta_seconds=eta_seconds, dispatched_at=now, dispatched_by=actor.name)
        s.add(a)
        previous = i.status
        if current in (IncidentStatus.REPORTED, IncidentStatus.VERIFIED):
            i.status = IncidentStatus.DISPATCHED.value
        touch(i, now)
        s.flush()
        unit_body = units.change_status_in(
            s, u, UnitStatus.DISPATCHED, actor=actor, now=now, previous=UnitStatus.AVAILABLE,
            note=data.note, extra={"incident_id": i.id})
        body = incident_body(s, i, now)
        if current == IncidentStatus.REPORTED:
            record_event(s, i, "incident.status_changed", actor, body | {
                "status": IncidentStatus.VERIFIED.value, "previous": previous,
                "note": str(_l("Verified by dispatching a unit.")), "unit_changes": []})
            previous = IncidentStatus.VERIFIED.value
        if i.status != previous:
            record_event(s, i, "incident.status_changed", actor, body | {
                "previous": previous, "note": data.note, "unit_changes": []})
        record_event(s, i, "incident.unit_dispatched", actor, body | {
            "unit": {"id": u.id, "call_sign": u.call_sign, "status": u.status,
                     "negative_pressure": u.negative_pressure,
                     "previous": (unit_body or {}).get("previous")},
            "eta_seconds": eta_seconds, "note": data.note})
        return body


def _straight_eta(u: Unit, i: Incident) -> float:
    eta = straight_eta(i.lon, i.lat, np.array([u.lon]), np.array([u.lat]),
                       EtaModel.configured())
    return round(float(eta[0]), 1)


def _unavailable(s: Session, u: Unit) -> Conflict:
    """Why a unit could not be claimed; who has it, if an incident does."""
    holder = s.execute(
        select(Assignment).where(Assignment.unit_id == u.id, Assignment.active.is_(True))
        .order_by(Assignment.id.desc()).limit(1)).scalar_one_or_none()
    if holder is not None:
        return Conflict(str(_l(
            "%(unit)s was dispatched to incident #%(incident)s by %(who)s.",
            unit=u.call_sign, incident=holder.incident_id, who=holder.dispatched_by)),
            details={"unit_id": u.id, "incident_id": holder.incident_id,
                     "dispatched_by": holder.dispatched_by, "status": u.status})
    return Conflict(str(_l("%(unit)s is not available (status: %(status)s).",
                           unit=u.call_sign, status=u.status)),
                    details={"unit_id": u.id, "status": u.status})


def release_unit(*, context: str = LIVE, incident_id: int, unit_id: int, actor: Actor,
                 note: str = "") -> dict[str, Any]:
    """Stand one unit down from an incident (not needed, or handed over)."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        a = next((x for x in active_assignments(s, i) if x.unit_id == unit_id), None)
        if a is None:
            raise NotFound(_l("That unit is not assigned to this incident."))
        changed = release_assignment(s, i, a, actor=actor, now=now, note=note)
        touch(i, now)
        body = incident_body(s, i, now)
        record_event(s, i, "incident.unit_released", actor, body | {
            "unit": {"id": unit_id, "call_sign": (changed or {}).get("call_sign"),
                     "status": (changed or {}).get("status")}, "note": note})
        return body
