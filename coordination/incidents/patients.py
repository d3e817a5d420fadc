"""Patients at a mass-casualty incident: register, triage, distribute, load, hand over.

The rule of distribution is the one MCI plans state: no hospital is flooded.
Patients leave in START order (immediate first); each goes to the hospital
whose share of its free capacity would be lowest after taking the patient
(ties: the nearer by road), among hospitals reachable within the category's
time window when any are. Capacity is the free general and ICU beds a hospital
reports less the patients already on their way to it (from any incident).
Immediate patients go to trauma centres of level 1 or 2 where the context
records any with room. The result is distribution in proportion to capacity:
40 patients over hospitals with 20, 12 and 8 free beds land 20, 12 and 8.

Every change is one service call, one transaction and one ``incident.*``
event on the incident, so the incident timeline, the command room's counts and
every open board follow. Events carry tags and categories, never names or ID
numbers; the boards show both masked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..facilities import service as facilities
from ..facilities.capabilities import NEEDS, Condition, lacks
from ..facilities.models import BedKind, Facility, FacilityStatus
from ..units.models import Unit
from .care import HOSPITAL_KINDS, facility_etas
from .common import context_row, incident_row, iso, mask_id, record_event
from .models import Assignment, Incident
from .patient_models import (
    EN_ROUTE,
    TRIAGE_ORDER,
    Patient,
    PatientStatus,
    Triage,
)

# Minutes within which a category should reach hospital (a preference, not a refusal).
WINDOW_MINUTES = {Triage.IMMEDIATE: 60, Triage.DELAYED: 120, Triage.MINOR: 240,
                  Triage.EXPECTANT: 120}
SEXES = ("", "female", "male")


class PatientIn(BaseModel):
    """A patient as registered at the scene from the triage card."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tag: str = Field(min_length=1, max_length=40)
    triage: Triage
    name: str = Field(default="", max_length=120)
    id_number: str = Field(default="", max_length=40)
    sex: str = Field(default="", pattern=r"^(|female|male)$")
    age: int | None = Field(default=None, ge=0, le=130)
    note: str = Field(default="", max_length=1000)


def mask_name(name: str) -> str:
    """A name as every view shows it: the first character, the rest starred (张伟 → 张*)."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def patient_body(p: Patient, unit: str | None = None,
                 destination: str | None = None) -> dict[str, Any]:
    return {
        "id": p.id, "incident_id": p.incident_id, "tag": p.tag, "triage": p.triage,
        "status": p.status, "name": mask_name(p.name), "id_number": mask_id(p.id_number),
        "sex": p.sex, "age": p.age, "note": p.note, "unit_id": p.unit_id, "unit": unit,
        "destination_id": p.destination_id, "destination": destination,
        "version": p.version, "registered_at": iso(p.registered_at),
        "registered_by": p.registered_by, "status_at": iso(p.status_at),
        "handed_over_at": iso(p.handed_over_at),
    }


def _event_payload(p: Patient, **extra: Any) -> dict[str, Any]:
    """What the log keeps of a patient: no name, no ID number."""
    return {"id": p.incident_id, "patient_id": p.id, "tag": p.tag, "triage": p.triage,
            "status": p.status, "destination_id": p.destination_id, "unit_id": p.unit_id} | extra


def _patient(s: Session, patient_id: int, context: str, *, lock: bool = False) -> Patient:
    p = s.get(Patient, patient_id, with_for_update=lock or None)
    if p is None or p.context != context:
        raise NotFound(_l("No such patient."))
    return p


def _open_incident(s: Session, incident_id: int, context: str) -> Incident:
    i = incident_row(s, incident_id, context, lock=True)
    if i.status in ("closed", "cancelled"):
        raise Conflict(str(_l("The incident is closed; its patients cannot change.")))
    return i


def _current(s: Session, patient_id: int, context: str,
             version: int) -> tuple[Patient, Incident]:
    """The patient, locked, at an open incident, as the caller last saw it (else 409)."""
    p = _patient(s, patient_id, context, lock=True)
    i = _open_incident(s, p.incident_id, context)
    if p.version != version:
        raise Conflict(str(_l("The patient was changed by someone else; reload.")))
    return p, i


def _still_at_scene(p: Patient) -> None:
    if p.status not in (PatientStatus.AT_SCENE.value, PatientStatus.ASSIGNED.value):
        raise Conflict(str(_l("The patient has left the scene.")))


def register_patient(*, context: str = LIVE, incident_id: int, data: PatientIn,
                     actor: Actor) -> dict[str, Any]:
    """Register one patient by triage tag; a tag used twice on the incident is refused."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = _open_incident(s, incident_id, context)
        taken = s.scalar(select(Patient.id).where(Patient.incident_id == i.id,
                                                  Patient.tag == data.tag))
        if taken is not None:
            raise Conflict(str(_l("Tag %(tag)s is already registered on this incident.",
                                  tag=data.tag)))
        p = Patient(context=context, incident_id=i.id, tag=data.tag, triage=data.triage.value,
                    status=PatientStatus.AT_SCENE.value, name=data.name,
                    id_number=data.id_number, sex=data.sex, age=data.age, note=data.note,
                    version=1, registered_at=now, registered_by=actor.name, status_at=now)
        s.add(p)
        s.flush()
        count = s.scalar(select(func.count()).select_from(Patient)
                         .where(Patient.incident_id == i.id)) or 0
        if count > i.patients:  # the incident's patient count follows the register
            i.patients = count
            i.version += 1
        record_event(s, i, "incident.patient_registered", actor,
                     _event_payload(p, registered=count))
        return patient_body(p)


def retriage(*, context: str = LIVE, patient_id: int, triage: Triage, version: int,
             actor: Actor) -> dict[str, Any]:
    """Re-triage (START is repeated): refused once the patient has left the scene."""
    with db.unit_of_work() as s:
        p, i = _current(s, patient_id, context, version)
        _still_at_scene(p)
        previous, p.triage = p.triage, triage.value
        p.version += 1
        p.status_at = context_row(s, context).clock().now()
        record_event(s, i, "incident.patient_retriaged", actor,
                     _event_payload(p, previous=previous))
        return patient_body(p)


# --- distribution ---------------------------------------------------------------------------


@dataclass
class Slot:
    """One hospital as the distribution sees it."""

    id: int
    name: str
    eta_seconds: float
    capacity: int          # free beds less patients already on their way
    trauma: bool           # a trauma centre able to take major trauma now
    taken: int = 0


def plan(patients: Sequence[tuple[int, str]], slots: Sequence[Slot]) -> dict[int, int]:
    """patient id → hospital id, immediate first, each to the least-filled hospital.

    Pure: the service reads the rows, this decides. A patient with no hospital
    left with room is not in the answer (the caller reports them unplaced).
    """
    order = sorted(patients, key=lambda t: (TRIAGE_ORDER[Triage(t[1])], t[0]))
    out: dict[int, int] = {}
    for pid, triage in order:
        cat = Triage(triage)
        room = [h for h in slots if h.taken < h.capacity]
        if not room:
            continue
        if cat is Triage.IMMEDIATE and any(h.trauma for h in room):
            room = [h for h in room if h.trauma]
        window = WINDOW_MINUTES[cat] * 60
        near = [h for h in room if h.eta_seconds <= window]
        room = near or room
        best = min(room, key=lambda h: ((h.taken + 1) / h.capacity, h.eta_seconds, h.id))
        best.taken += 1
        out[pid] = best.id
    return out


def free_beds(f: Facility) -> int:
    figures = f.figures or {}
    total = 0
    for bed in (BedKind.GENERAL_BED.value, BedKind.ICU_BED.value):
        b = figures.get(bed) or {}
        total += max(int(b.get("capacity", 0)) - int(b.get("occupied", 0)), 0)
    return total


def _slots(s: Session, context: str, i: Incident, network: Any) -> list[Slot]:
    from .recommend import EtaModel, straight_eta

    rows = list(s.scalars(select(Facility).where(
        Facility.context == context, Facility.kind.in_(HOSPITAL_KINDS),
        Facility.status == FacilityStatus.OPEN.value).order_by(Facility.id)))
    if not rows:
        return []
    pending = dict(s.execute(
        select(Patient.destination_id, func.count()).where(
            Patient.context == context, Patient.status.in_(EN_ROUTE),
            Patient.destination_id.in_([f.id for f in rows]))
        .group_by(Patient.destination_id)).all())
    model = EtaModel.configured()
    eta, _via, _notice = facility_etas(i.lon, i.lat, rows, network=network,
                               straight=lambda lon, lat, lons, lats: straight_eta(
                                   lon, lat, lons, lats, model))
    need = NEEDS[Condition.MAJOR_TRAUMA]
    out = []
    for n, f in enumerate(rows):
        capacity = free_beds(f) - int(pending.get(f.id, 0))
        if capacity <= 0 or not eta[n] < float("inf"):
            continue
        out.append(Slot(id=f.id, name=f.name, eta_seconds=float(eta[n]), capacity=capacity,
                        trauma=lacks(f.capabilities, need) is None))
    return out


def distribute(*, context: str = LIVE, incident_id: int, actor: Actor,
               network: Any = None, use_network: bool = True) -> dict[str, Any]:
    """Give every patient still at the scene without a destination a hospital, by the plan.

    Minor patients released at the scene and patients already assigned keep
    theirs. One ``incident.patients_distributed`` event lists how many went where.
    """
    from .recommend import network_or_none

    net, notice = network_or_none(context, network, use_network)
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        i = _open_incident(s, incident_id, context)
        waiting = list(s.scalars(select(Patient).where(
            Patient.incident_id == i.id, Patient.status == PatientStatus.AT_SCENE.value)
            .order_by(Patient.id).with_for_update()))
        if not waiting:
            raise Conflict(str(_l("No patient at the scene is waiting for a destination.")))
        slots = _slots(s, context, i, net)
        chosen = plan([(p.id, p.triage) for p in waiting], slots)
        names = {h.id: h.name for h in slots}
        for p in waiting:
            hid = chosen.get(p.id)
            if hid is None:
                continue
            p.destination_id, p.status, p.status_at = hid, PatientStatus.ASSIGNED.value, now
            p.version += 1
        per = Counter(chosen.values())
        body = {"id": i.id, "assigned": len(chosen), "unplaced": len(waiting) - len(chosen),
                "notice": notice,
                "hospitals": [{"facility_id": hid, "name": names[hid], "count": n}
                              for hid, n in sorted(per.items(), key=lambda t: -t[1])]}
        record_event(s, i, "incident.patients_distributed", actor, body)
        return body


def set_destination(*, context: str = LIVE, patient_id: int, facility_id: int, version: int,
                    actor: Actor) -> dict[str, Any]:
    """The dispatcher overrides the plan for one patient (before hand-over)."""
    with db.unit_of_work() as s:
        p, i = _current(s, patient_id, context, version)
        if p.status not in (PatientStatus.AT_SCENE.value, PatientStatus.ASSIGNED.value,
                            PatientStatus.TRANSPORTING.value):
            raise Conflict(str(_l("The patient has already been handed over or released.")))
        f = s.get(Facility, facility_id)
        if f is None or f.context != context or f.kind not in HOSPITAL_KINDS:
            raise NotFound(_l("No such hospital."))
        p.destination_id = f.id
        if p.status == PatientStatus.AT_SCENE.value:
            p.status = PatientStatus.ASSIGNED.value
        p.status_at = context_row(s, context).clock().now()
        p.version += 1
        record_event(s, i, "incident.patient_destination_set", actor,
                     _event_payload(p, destination_name=f.name))
        return patient_body(p, destination=f.name)


def load(*, context: str = LIVE, patient_id: int, unit_id: int, version: int,
         actor: Actor) -> dict[str, Any]:
    """The patient leaves in an ambulance working this incident, for the assigned hospital."""
    with db.unit_of_work() as s:
        p, i = _current(s, patient_id, context, version)
        if p.status != PatientStatus.ASSIGNED.value or p.destination_id is None:
            raise Conflict(str(_l("Assign a destination before loading the patient.")))
        on_incident = s.scalar(select(Assignment.id).where(
            Assignment.incident_id == i.id, Assignment.unit_id == unit_id,
            Assignment.active.is_(True)))
        if on_incident is None:
            raise ValidationFailed(str(_l("That ambulance is not working this incident.")))
        unit = s.get(Unit, unit_id)
        p.unit_id, p.status = unit_id, PatientStatus.TRANSPORTING.value
        p.status_at = context_row(s, context).clock().now()
        p.version += 1
        sign = unit.call_sign if unit else None
        record_event(s, i, "incident.patient_loaded", actor, _event_payload(p, unit=sign))
        return patient_body(p, unit=sign)


def hand_over(*, context: str = LIVE, patient_id: int, version: int,
              actor: Actor) -> dict[str, Any]:
    """The hospital takes the patient over: a bed there is taken (recorded as a report)."""
    with db.unit_of_work() as s:
        now = context_row(s, context).clock().now()
        p = _patient(s, patient_id, context, lock=True)
        i = incident_row(s, p.incident_id, context, lock=True)
        if p.version != version:
            raise Conflict(str(_l("The patient was changed by someone else; reload.")))
        if p.status not in EN_ROUTE or p.destination_id is None:
            raise Conflict(str(_l("Only a patient on the way to a hospital can be handed "
                                  "over.")))
        f = s.get(Facility, p.destination_id, with_for_update=True)
        p.status, p.status_at, p.handed_over_at = PatientStatus.HANDED_OVER.value, now, now
        p.version += 1
        bed = None
        if f is not None:
            wanted = ([BedKind.ICU_BED.value, BedKind.GENERAL_BED.value]
                      if p.triage == Triage.IMMEDIATE.value else
                      [BedKind.GENERAL_BED.value, BedKind.ICU_BED.value])
            for kind in wanted:
                b = (f.figures or {}).get(kind) or {}
                if int(b.get("capacity", 0)) > int(b.get("occupied", 0)):
                    facilities.adjust_occupancy(
                        s, f, bed=kind, delta=1, actor=actor, at=now,
                        note=str(_l("MCI patient %(tag)s of incident #%(id)s",
                                    tag=p.tag, id=i.id)))
                    bed = kind
                    break
        record_event(s, i, "incident.patient_handed_over", actor,
                     _event_payload(p, destination_name=f.name if f else None, bed=bed))
        return patient_body(p, destination=f.name if f else None)


def release(*, context: str = LIVE, patient_id: int, version: int,
            actor: Actor) -> dict[str, Any]:
    """A minor patient treated at the scene and sent home."""
    with db.unit_of_work() as s:
        p, i = _current(s, patient_id, context, version)
        _still_at_scene(p)
        p.status, p.destination_id = PatientStatus.RELEASED.value, None
        p.status_at = context_row(s, context).clock().now()
        p.version += 1
        record_event(s, i, "incident.patient_released", actor, _event_payload(p))
        return patient_body(p)
