"""Incidents: the only place their rows change, from the first call to the closed case.

Each function is one unit of work: it validates, changes rows and appends its
events in one transaction, so a refused change leaves nothing behind and every
map and board hears of an accepted one only after it committed.

Lock order, to keep concurrent changes free of deadlocks: the incident row,
then unit rows, then facility rows, then (through ``events.append``) the
context's counter row, which is always taken last.

The dispatch race: two operators sending the same ambulance at the same
moment. The unit is claimed with one conditional UPDATE (``status =
'available'``); the database lets exactly one transaction match it, and the
other learns from the committed assignment who got the unit (409).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import events
from ..contexts import LIVE, Context
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor, Event
from ..extensions import db
from ..facilities import service as facilities
from ..facilities.models import Facility, FacilityKind
from ..geo.region import BBox, check_position
from ..units import service as units
from ..units.models import Unit, UnitStatus
from . import diseases
from .models import (
    LIFECYCLE,
    OPEN_STATUSES,
    TERMINAL,
    Assignment,
    AssignmentStatus,
    Case,
    Clock,
    Contact,
    ContactStatus,
    Incident,
    IncidentStatus,
    IncidentType,
    Priority,
)
from .schemas import (
    CaseIn,
    ClockIn,
    ContactIn,
    DestinationIn,
    DispatchIn,
    IncidentIn,
    IsolateIn,
    StatusChangeIn,
)

log = logging.getLogger(__name__)
AUDIENCE = ["role:operator", "role:trainer"]
SUBJECT = "incident"
# Statuses that need a unit on the incident.
WITH_UNITS = frozenset({IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE,
                        IncidentStatus.TRANSPORTING, IncidentStatus.AT_HOSPITAL})
# What a unit does when its incident reaches a status.
UNIT_FOLLOWS = {
    IncidentStatus.ON_SCENE: (UnitStatus.ON_SCENE, AssignmentStatus.ON_SCENE),
    IncidentStatus.TRANSPORTING: (UnitStatus.TRANSPORTING, AssignmentStatus.TRANSPORTING),
    IncidentStatus.AT_HOSPITAL: (UnitStatus.AT_HOSPITAL, AssignmentStatus.AT_HOSPITAL),
}
DEFAULT_OBSERVATION_DAYS = 14


# --- configuration --------------------------------------------------------


def _settings() -> Any:
    return current_app.config["COORDINATION"] if has_app_context() else None


def _region(region: BBox | None) -> BBox | None:
    if region is not None:
        return region
    settings = _settings()
    return settings.region if settings is not None else None


def negative_pressure_diseases() -> frozenset[str] | None:
    settings = _settings()
    raw = getattr(settings, "negative_pressure_diseases", None)
    if not raw:
        return None
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def needs_negative_pressure(disease: str | None) -> bool:
    return diseases.needs_negative_pressure(disease, negative_pressure_diseases())


def report_deadline(*, disease: str | None, incident_type: str,
                    found_at: datetime) -> tuple[datetime | None, str]:
    """The deadline to report to the higher level, from the versioned rules.

    The rules (deadlines.py, data/reporting_rules.yaml) follow the law in force
    when the case was found; before the first rule set, the configured hours.
    """
    from . import deadlines

    try:
        return deadlines.report_deadline(disease=disease, incident_type=incident_type,
                                         found_at=found_at)
    except LookupError:
        settings = _settings()
        hours = getattr(settings, "report_deadline_hours", 2.0)
        return found_at + timedelta(hours=hours), "config"


def default_priority(data: IncidentIn) -> Priority:
    """Class-A-like diseases, outbreaks and mass casualties first; then crowds of patients."""
    severe = {"plague", "cholera", "pneumonic_anthrax", "sars", "hpai", "new_disease",
              "unexplained"}
    if data.disease in severe or data.type in (IncidentType.CLUSTER, IncidentType.MASS_CASUALTY):
        return Priority.CRITICAL
    if needs_negative_pressure(data.disease) or data.patients >= 3:
        return Priority.HIGH
    if data.type in (IncidentType.EVENT_MEDICAL, IncidentType.OTHER) and data.patients <= 1:
        return Priority.MEDIUM
    return Priority.MEDIUM if data.patients else Priority.LOW


# --- helpers --------------------------------------------------------------


def _context(s: Session, name: str) -> Context:
    ctx = s.get(Context, name)
    if ctx is None:
        raise NotFound(_l("No such context."))
    return ctx


def _incident(s: Session, incident_id: int, context: str, *, lock: bool = False) -> Incident:
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def incident_props(i: Incident, assigned: list[dict[str, Any]] | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """An incident as the API, the board, the map and its events see it."""
    body: dict[str, Any] = {
        "id": i.id,
        "type": i.type,
        "disease": i.disease,
        "disease_name": i.disease_name,
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
        "clocks": {c.name.lower(): _iso(getattr(i, c.value)) for c in Clock},
        "report_deadline": _iso(i.report_deadline),
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


def _assigned(s: Session, incident_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
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


def _props(s: Session, i: Incident, now: datetime) -> dict[str, Any]:
    return incident_props(i, _assigned(s, [i.id])[i.id], now)


def _event(s: Session, i: Incident, type: str, actor: Actor, payload: dict[str, Any]) -> None:
    events.append(s, context=i.context, type=type, actor=actor, audience=AUDIENCE,
                  subject=(SUBJECT, i.id), payload=payload)


def _touch(i: Incident, now: datetime) -> None:
    i.version += 1
    i.status_at = now


# --- incidents ------------------------------------------------------------


def create_incident(*, context: str = LIVE, data: IncidentIn, actor: Actor,
                    region: BBox | None = None) -> dict[str, Any]:
    """Log an incident: position inside the region, deadline from the rules in force.

    ``region`` defaults to the configured one (COORDINATION_REGION_BBOX).
    """
    check_position(data.lon, data.lat, _region(region))
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
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
        _event(s, i, "incident.reported", actor, body)
        return body


def _event_venue(data: IncidentIn, found: datetime) -> tuple[str | None, str | None]:
    """The event and venue given, checked; else the venue of an event in progress the
    position is at (plans/venues.py), so every call at a venue counts in its sitrep."""
    from ..plans import venues

    if data.event_ref is not None or data.venue_ref is not None:
        venues.check_refs(data.event_ref, data.venue_ref)
        return data.event_ref, data.venue_ref
    hit = venues.locate(data.lon, data.lat, found)
    return (hit.event, hit.venue) if hit else (None, None)


def get_incident(*, context: str = LIVE, incident_id: int,
                 with_timeline: bool = False) -> dict[str, Any]:
    """One incident with its units, destination, cases and contacts (IDs masked).

    ``with_timeline`` adds every event about it (the incident page shows both).
    """
    with db.reading() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context)
        body = _props(s, i, now)
        dest = s.get(Facility, i.destination_id) if i.destination_id else None
        body["destination"] = ({"id": dest.id, "name": dest.name, "kind": dest.kind,
                                "lon": dest.lon, "lat": dest.lat} if dest else None)
        body["history"] = [
            {"unit_id": a.unit_id, "call_sign": u.call_sign, "assignment": a.status,
             "active": a.active, "dispatched_at": a.dispatched_at.isoformat(),
             "dispatched_by": a.dispatched_by, "released_at": _iso(a.released_at)}
            for a, u in s.execute(
                select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)
                .where(Assignment.incident_id == i.id).order_by(Assignment.id))
        ]
        body["cases"] = [_case(c) for c in s.scalars(
            select(Case).where(Case.incident_id == i.id).order_by(Case.id))]
        body["contacts"] = [_contact(c, s, masked=True) for c in s.scalars(
            select(Contact).where(Contact.incident_id == i.id).order_by(Contact.id))]
        body["now"] = now.isoformat()
        if with_timeline:
            body["timeline"] = _timeline(s, context, i.id)
        return body


def list_incidents(*, context: str = LIVE, open_only: bool = True) -> list[dict[str, Any]]:
    """Incidents by priority, then oldest first (the board's order)."""
    with db.reading() as s:
        now = _context(s, context).clock().now()
        q = select(Incident).where(Incident.context == context)
        if open_only:
            q = q.where(Incident.status.in_(OPEN_STATUSES))
        rows = list(s.scalars(q.order_by(Incident.priority, Incident.logged_at, Incident.id)))
        assigned = _assigned(s, [i.id for i in rows])
        return [incident_props(i, assigned[i.id], now) for i in rows]


def incidents_geojson(*, context: str = LIVE) -> dict[str, Any]:
    """Open incidents as a layer for the live map."""
    features = [{"type": "Feature", "id": p["id"],
                 "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                 "properties": p} for p in list_incidents(context=context)]
    return {"type": "FeatureCollection", "features": features}


def _check_transition(i: Incident, target: IncidentStatus, has_units: bool) -> None:
    current = IncidentStatus(i.status)
    if current in TERMINAL:
        raise Conflict(str(_l("The incident is %(status)s; it changes no more.",
                              status=current.value)))
    if target == IncidentStatus.CANCELLED:
        return
    nxt = LIFECYCLE[LIFECYCLE.index(current) + 1]
    if target != nxt:
        raise Conflict(str(_l(
            "An incident goes from %(current)s to %(next)s (or cancelled), not to %(target)s.",
            current=current.value, next=nxt.value, target=target.value)))
    if target == IncidentStatus.DISPATCHED:
        raise Conflict(str(_l("Dispatch a unit to the incident; that makes it dispatched.")))
    if target in WITH_UNITS and not has_units:
        raise Conflict(str(_l("No unit is assigned to this incident.")))


def _active(s: Session, i: Incident) -> list[Assignment]:
    return list(s.scalars(select(Assignment).where(
        Assignment.incident_id == i.id, Assignment.active.is_(True)).order_by(Assignment.id)))


def _release(s: Session, i: Incident, a: Assignment, *, actor: Actor, now: datetime,
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


def change_status(*, context: str = LIVE, incident_id: int, data: StatusChangeIn,
                  actor: Actor) -> dict[str, Any]:
    """Move an incident one step along its lifecycle (or cancel it); units follow.

    Skipping a step is refused with the step that comes next (409).
    """
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
        if data.version is not None and data.version != i.version:
            raise Conflict(str(_l("The incident was changed meanwhile; reload it.")))
        active = _active(s, i)
        _check_transition(i, data.status, bool(active))
        previous = i.status
        i.status = data.status.value
        _touch(i, now)
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
                changed = _release(s, i, a, actor=actor, now=now, note=data.note)
                if changed:
                    unit_changes.append(changed)
        if data.status == IncidentStatus.AT_HOSPITAL and i.disease and i.isolated_at is None:
            i.isolated_at = now  # handed over to the designated hospital: isolated
        body = _props(s, i, now)
        _event(s, i, "incident.status_changed", actor, body | {
            "previous": previous, "note": data.note,
            "unit_changes": [{"unit_id": c["id"], "call_sign": c["call_sign"],
                              "status": c["status"], "previous": c["previous"]}
                             for c in unit_changes]})
        return body


def dispatch_unit(*, context: str = LIVE, incident_id: int, data: DispatchIn, actor: Actor,
                  eta_seconds: float | None = None) -> dict[str, Any]:
    """Send an available unit to an incident; exactly one of two racing operators wins.

    A reported incident is verified by its dispatch (both steps are logged).
    The loser gets 409 naming the incident and operator that got the unit.
    """
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
        current = IncidentStatus(i.status)
        if current in TERMINAL or current == IncidentStatus.AT_HOSPITAL:
            raise Conflict(str(_l("The incident is %(status)s; no unit can be sent to it.",
                                  status=current.value)))
        claimed = s.execute(
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
        _touch(i, now)
        s.flush()
        unit_body = units.change_status_in(
            s, u, UnitStatus.DISPATCHED, actor=actor, now=now, previous=UnitStatus.AVAILABLE,
            note=data.note, extra={"incident_id": i.id})
        body = _props(s, i, now)
        if current == IncidentStatus.REPORTED:
            _event(s, i, "incident.status_changed", actor, body | {
                "status": IncidentStatus.VERIFIED.value, "previous": previous,
                "note": str(_l("Verified by dispatching a unit.")), "unit_changes": []})
            previous = IncidentStatus.VERIFIED.value
        if i.status != previous:
            _event(s, i, "incident.status_changed", actor, body | {
                "previous": previous, "note": data.note, "unit_changes": []})
        _event(s, i, "incident.unit_dispatched", actor, body | {
            "unit": {"id": u.id, "call_sign": u.call_sign, "status": u.status,
                     "negative_pressure": u.negative_pressure,
                     "previous": (unit_body or {}).get("previous")},
            "eta_seconds": eta_seconds, "note": data.note})
        return body


def _straight_eta(u: Unit, i: Incident) -> float:
    import numpy as np

    from .recommend import EtaModel, straight_eta

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
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
        a = next((x for x in _active(s, i) if x.unit_id == unit_id), None)
        if a is None:
            raise NotFound(_l("That unit is not assigned to this incident."))
        changed = _release(s, i, a, actor=actor, now=now, note=note)
        _touch(i, now)
        body = _props(s, i, now)
        _event(s, i, "incident.unit_released", actor, body | {
            "unit": {"id": unit_id, "call_sign": (changed or {}).get("call_sign"),
                     "status": (changed or {}).get("status")}, "note": note})
        return body


def set_clock(*, context: str = LIVE, incident_id: int, data: ClockIn,
              actor: Actor) -> dict[str, Any]:
    """Set one of the five clocks (早发现 … 早治疗). Found cannot be cleared."""
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
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
        body = _props(s, i, now)
        _event(s, i, "incident.clock_set", actor, body | {
            "clock": data.clock.name.lower(), "at": _iso(data.at), "was": _iso(previous)})
        return body


def set_destination(*, context: str = LIVE, incident_id: int, data: DestinationIn,
                    actor: Actor) -> dict[str, Any]:
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
        name = None
        if data.facility_id is not None:
            f = s.get(Facility, data.facility_id)
            if f is None or f.context != context:
                raise NotFound(_l("No such facility."))
            name = f.name
        i.destination_id = data.facility_id
        i.version += 1
        body = _props(s, i, now)
        _event(s, i, "incident.destination_set", actor, body | {"destination_name": name})
        return body


# --- cases (for the epidemic point) ----------------------------------------


def _case(c: Case) -> dict[str, Any]:
    return {"id": c.id, "incident_id": c.incident_id, "label": c.label, "lon": c.lon,
            "lat": c.lat, "confirmed": c.confirmed, "at": c.at.isoformat(),
            "recorded_by": c.recorded_by}


def add_case(*, context: str = LIVE, incident_id: int, data: CaseIn, actor: Actor,
             region: BBox | None = None) -> dict[str, Any]:
    """Record where a case was; the epidemic point is drawn around these."""
    check_position(data.lon, data.lat, _region(region))
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
        c = Case(context=context, incident_id=i.id, label=data.label, lon=data.lon,
                 lat=data.lat, confirmed=data.confirmed, at=data.at or now,
                 recorded_by=actor.name)
        s.add(c)
        i.version += 1
        s.flush()
        body = _case(c)
        _event(s, i, "incident.case_added", actor, body | {"disease": i.disease})
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
        disease = _incident(s, incident_id, context).disease
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
        return [_case(c) for c in s.scalars(q.order_by(Case.id))]


# --- close contacts ------------------------------------------------------


def _contact(c: Contact, s: Session, *, masked: bool) -> dict[str, Any]:
    place = s.get(Facility, c.isolation_id) if c.isolation_id else None
    return {
        "id": c.id, "incident_id": c.incident_id, "name": c.name, "phone": c.phone,
        "id_number": mask_id(c.id_number) if masked else c.id_number,
        "address": c.address, "lon": c.lon, "lat": c.lat,
        "last_exposure": c.last_exposure.isoformat(),
        "observation_end": c.observation_end.isoformat(), "status": c.status,
        "isolation_id": c.isolation_id, "isolation_name": place.name if place else None,
        "isolated_at": _iso(c.isolated_at), "released_at": _iso(c.released_at),
        "notes": c.notes, "created_at": c.created_at.isoformat(), "created_by": c.created_by,
    }


def add_contact(*, context: str = LIVE, incident_id: int, data: ContactIn, actor: Actor,
                region: BBox | None = None) -> dict[str, Any]:
    """Record a close contact; observation ends the disease's days after last exposure."""
    if data.lon is not None and data.lat is not None:
        check_position(data.lon, data.lat, _region(region))
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        i = _incident(s, incident_id, context, lock=True)
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
        body = _contact(c, s, masked=True)
        _event(s, i, "incident.contact_added", actor, body)
        return body


def get_contact(*, context: str = LIVE, contact_id: int,
                with_suggestions: bool = False) -> dict[str, Any]:
    """The contact's own record: the one view with the full ID number.

    ``with_suggestions`` adds the isolation points with a free room, nearest first.
    """
    from .recommend import nearest_facilities

    with db.reading() as s:
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        body = _contact(c, s, masked=False)
        if with_suggestions:
            lon, lat = _origin(c, _incident(s, c.incident_id, context))
            body["suggestions"] = nearest_facilities(
                s, context=context, lon=lon, lat=lat, kinds=[FacilityKind.ISOLATION_POINT],
                beds=["isolation_room"], limit=5)
        return body


def _origin(c: Contact, i: Incident) -> tuple[float, float]:
    return (c.lon, c.lat) if c.lon is not None and c.lat is not None else (i.lon, i.lat)


def suggest_isolation(*, context: str = LIVE, contact_id: int,
                      limit: int = 5) -> list[dict[str, Any]]:
    """Isolation points with a free isolation room, nearest to the contact first."""
    from .recommend import nearest_facilities

    with db.reading() as s:
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        i = _incident(s, c.incident_id, context)
        lon, lat = _origin(c, i)
        return nearest_facilities(s, context=context, lon=lon, lat=lat,
                                  kinds=[FacilityKind.ISOLATION_POINT],
                                  beds=["isolation_room"], limit=limit)


def isolate_contact(*, context: str = LIVE, contact_id: int, data: IsolateIn,
                    actor: Actor) -> dict[str, Any]:
    """Send a contact to an isolation point and take one of its rooms."""
    from .recommend import nearest_facilities

    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        i = _incident(s, c.incident_id, context, lock=True)
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
        body = _contact(c, s, masked=True)
        _event(s, i, "incident.contact_isolated", actor, body)
        return body


def release_contact(*, context: str = LIVE, contact_id: int, actor: Actor) -> dict[str, Any]:
    """End a contact's observation; the isolation room becomes free again."""
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        c = s.get(Contact, contact_id)
        if c is None or c.context != context:
            raise NotFound(_l("No such contact."))
        i = _incident(s, c.incident_id, context, lock=True)
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
        body = _contact(c, s, masked=True)
        _event(s, i, "incident.contact_released", actor, body)
        return body


def list_contacts(*, context: str = LIVE, active_only: bool = True) -> list[dict[str, Any]]:
    """Every contact under observation (IDs masked), soonest observation end first."""
    with db.reading() as s:
        q = select(Contact).where(Contact.context == context)
        if active_only:
            q = q.where(Contact.status != ContactStatus.RELEASED.value)
        return [_contact(c, s, masked=True)
                for c in s.scalars(q.order_by(Contact.observation_end, Contact.id))]


# --- locations an operator can pick ----------------------------------------


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
            label = PLACE_LABELS.get(kind, kind)  # StrEnum keys match their values
            out.append({"name": name, "kind": str(label), "lon": lon, "lat": lat})
    return out


# --- timeline ------------------------------------------------------------


def timeline(*, context: str = LIVE, incident_id: int) -> list[dict[str, Any]]:
    """Every event about the incident from the log, oldest first."""
    with db.reading() as s:
        _incident(s, incident_id, context)
        return _timeline(s, context, incident_id)


def _timeline(s: Session, context: str, incident_id: int) -> list[dict[str, Any]]:
    rows = s.scalars(select(Event).where(
        Event.context == context, Event.subject_type == SUBJECT,
        Event.subject_id == str(incident_id)).order_by(Event.seq))
    return [e.as_message() for e in rows]
