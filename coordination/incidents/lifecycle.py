"""An incident's lifecycle: logged, verified … closed, and what it records on the way.

Each function is one unit of work: it validates, changes rows and appends its
events in one transaction, so a refused change leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from ..contexts import LIVE
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..facilities.models import Facility
from ..geo.region import BBox, check_position
from ..incident_reports import service as reports
from ..units import service as units
from ..units.models import Unit, UnitStatus
from .closing import check_close
from .common import (
    context_row,
    incident_body,
    incident_props,
    incident_row,
    iso,
    record_event,
    touch,
)
from .dispatch import active_assignments, release_assignment
from .models import (
    LIFECYCLE,
    STATUS_LABELS,
    TERMINAL,
    AssignmentStatus,
    Clock,
    Incident,
    IncidentStatus,
)
from .schemas import (
    ClockIn,
    ConditionIn,
    DestinationIn,
    IncidentIn,
    StatusChangeIn,
)
from .settings import configured_region, default_priority, report_deadline

# Statuses that need a unit on the incident.
WITH_UNITS = frozenset({IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE,
                        IncidentStatus.TRANSPORTING, IncidentStatus.AT_HOSPITAL})

# What a unit does when its incident reaches a status.
UNIT_FOLLOWS = {
    IncidentStatus.ON_SCENE: (UnitStatus.ON_SCENE, AssignmentStatus.ON_SCENE),
    IncidentStatus.TRANSPORTING: (UnitStatus.TRANSPORTING, AssignmentStatus.TRANSPORTING),
    IncidentStatus.AT_HOSPITAL: (UnitStatus.AT_HOSPITAL, AssignmentStatus.AT_HOSPITAL),
}


def create_incident(*, context: str = LIVE, data: IncidentIn, actor: Actor,
                    region: BBox | None = None) -> dict[str, Any]:
    """Log an incident: position inside the region, deadline from the rules in force.

    ``region`` defaults to the configured one (COORDINATION_REGION_BBOX). After the
    commit the early-warning rules run on the new case (alerts/early_warning.py).
    """
    check_position(data.lon, data.lat, configured_region(region))
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        found = data.found_at or now
        if found > now + timedelta(minutes=5):
            raise ValidationFailed(_l("The time found is in the future."))
        deadline, rule = report_deadline(disease=data.disease, incident_type=data.type.value,
                                         found_at=found)
        event_ref, venue_ref = _event_venue(data, found)
        i = Incident(
            context=context, type=data.type.value, disease=data.disease,
            disease_name=data.disease_name,
            priority=(data.priority or default_priority(data)).value,
            status=IncidentStatus.REPORTED.value, status_at=now, version=1,
            lon=data.lon, lat=data.lat, address=data.address, patients=data.patients,
            reporter=data.reporter, phone=data.phone, notes=data.notes,
            external_ref=data.external_ref, source=data.source, logged_at=now,
            logged_by=actor.name, found_at=found, report_deadline=deadline,
            deadline_rule=rule, event_ref=event_ref, venue_ref=venue_ref,
        )
        s.add(i)
        s.flush()
        body = incident_props(i, [], now)
        record_event(s, i, "incident.reported", actor, body)
        reports.draft_initial_on_logging(s, i, actor=actor, now=now)  # 初次报告, same unit
    early_warning(context, body["id"])
    return body


def early_warning(context: str, incident_id: int) -> None:
    """Run the early-warning rules on a logged or reclassified case, after its commit."""
    from ..alerts import early_warning as ew

    ew.evaluate(context=context, incident_id=incident_id)


def _event_venue(data: IncidentIn, found: datetime) -> tuple[str | None, str | None]:
    """The event and venue given, checked; else the venue of an event in progress the
    position is at (major_events/venues.py), so every call at a venue counts in its sitrep."""
    from ..major_events import venues

    if data.event_ref is not None or data.venue_ref is not None:
        venues.check_refs(data.event_ref, data.venue_ref)
        return data.event_ref, data.venue_ref
    hit = venues.locate(data.lon, data.lat, found)
    return (hit.event, hit.venue) if hit else (None, None)


def _check_transition(i: Incident, target: IncidentStatus, has_units: bool) -> None:
    current = IncidentStatus(i.status)
    if current in TERMINAL:
        raise Conflict(str(_l("The incident is %(status)s; it changes no more.",
                              status=STATUS_LABELS[current])))
    if target == IncidentStatus.CANCELLED:
        return
    nxt = LIFECYCLE[LIFECYCLE.index(current) + 1]
    if target != nxt:
        raise Conflict(str(_l(
            "An incident goes from %(current)s to %(next)s (or cancelled), not to %(target)s.",
            current=STATUS_LABELS[current], next=STATUS_LABELS[nxt],
            target=STATUS_LABELS[target])))
    if target == IncidentStatus.DISPATCHED:
        raise Conflict(str(_l("Dispatch a unit to the incident; that makes it dispatched.")))
    if target in WITH_UNITS and not has_units:
        raise Conflict(str(_l("No unit is assigned to this incident.")))


def change_status(*, context: str = LIVE, incident_id: int, data: StatusChangeIn,
                  actor: Actor) -> dict[str, Any]:
    """Move an incident one step along its lifecycle (or cancel it); units follow.

    Skipping a step is refused with the step that comes next (409). Closing a
    public-health incident with required clocks empty needs ``reason`` (closing.py).
    """
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        if data.version is not None and data.version != i.version:
            raise Conflict(str(_l("The incident was changed meanwhile; reload it.")))
        active = active_assignments(s, i)
        _check_transition(i, data.status, bool(active))
        incomplete = check_close(i, data.reason) if data.status == IncidentStatus.CLOSED else None
        previous = i.status
        i.status = data.status.value
        touch(i, now)
        unit_changes: list[dict[str, Any]] = []
        follow = UNIT_FOLLOWS.get(data.status)
        for a in active:
            if follow is not None:
                u = s.get(Unit, a.unit_id, with_for_update=True)
                a.status = follow[1].value
                if u is not None:
                    changed = units.change_status_in(s, u, follow[0], actor=actor, now=now,
                                                     note=data.note,
                                                     extra={"incident_id": i.id})
                    if changed:
                        unit_changes.append(changed)
            elif data.status in TERMINAL:
                changed = release_assignment(s, i, a, actor=actor, now=now, note=data.note)
                if changed:
                    unit_changes.append(changed)
        if data.status == IncidentStatus.AT_HOSPITAL and i.disease and i.isolated_at is None:
            i.isolated_at = now  # handed over to the designated hospital: isolated
        body = incident_body(s, i, now)
        record_event(s, i, "incident.status_changed", actor, body | {
            "previous": previous, "note": data.note,
            "unit_changes": [{"unit_id": c["id"], "call_sign": c["call_sign"],
                              "status": c["status"], "previous": c["previous"]}
                             for c in unit_changes]})
        if incomplete is not None:
            record_event(s, i, "incident.closed_incomplete", actor, incomplete)
        if data.status == IncidentStatus.CLOSED:  # 结案报告 drafted at close
            reports.draft_final_on_close(s, i, actor=actor, now=now, trigger="closed")
        return body


def set_clock(*, context: str = LIVE, incident_id: int, data: ClockIn,
              actor: Actor) -> dict[str, Any]:
    """Set one of the five clocks (早发现 … 早治疗). Found cannot be cleared."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        if data.at is not None and data.at > now + timedelta(minutes=5):
            raise ValidationFailed(_l("That time is in the future."))
        if data.clock == Clock.FOUND:
            if data.at is None:
                raise ValidationFailed(_l("The time found cannot be cleared."))
            i.report_deadline, i.deadline_rule = report_deadline(
                disease=i.disease, incident_type=i.type, found_at=data.at)
        elif data.at is not None and data.at < i.found_at:
            raise ValidationFailed(_l("That time is before the case was found."))
        previous = getattr(i, data.clock.value)
        setattr(i, data.clock.value, data.at)
        i.version += 1
        body = incident_body(s, i, now)
        record_event(s, i, "incident.clock_set", actor, body | {
            "clock": data.clock.name.lower(), "at": iso(data.at), "was": iso(previous)})
        return body


def set_destination(*, context: str = LIVE, incident_id: int, data: DestinationIn,
                    actor: Actor) -> dict[str, Any]:
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        name = None
        if data.facility_id is not None:
            f = s.get(Facility, data.facility_id)
            if f is None or f.context != context:
                raise NotFound(_l("No such facility."))
            name = f.name
        i.destination_id = data.facility_id
        i.version += 1
        body = incident_body(s, i, now)
        record_event(s, i, "incident.destination_set", actor, body | {"destination_name": name})
        return body


def set_condition(*, context: str = LIVE, incident_id: int, data: ConditionIn,
                  actor: Actor) -> dict[str, Any]:
    """Record what the patient needs (STEMI, stroke …): the destinations rerank on it."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = incident_row(s, incident_id, context, lock=True)
        previous = i.condition
        i.condition = data.condition.value if data.condition else None
        i.version += 1
        body = incident_body(s, i, now)
        record_event(s, i, "incident.condition_set", actor, body | {"previous": previous})
        return body
