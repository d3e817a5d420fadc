"""Incidents at the service level: logging, lifecycle, dispatch, clocks, contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from pydantic import ValidationError
from sqlalchemy import func, select

from coordination.errors import Conflict, NotFound, ValidationFailed
from coordination.events import Event
from coordination.extensions import db
from coordination.facilities.models import Facility
from coordination.incidents import service
from coordination.incidents.models import Assignment, Clock, Contact, Incident
from coordination.incidents.schemas import (
    CaseIn,
    ClockIn,
    ContactIn,
    DispatchIn,
    IncidentIn,
    IsolateIn,
    StatusChangeIn,
)
from coordination.units.models import Unit, UnitStatusChange

from . import map_factories as mf

ACTOR = mf.ACTOR


def incident_in(**kw):
    data = {"type": "suspected_case", "disease": "fever", "lon": mf.JINING[0] + 0.05,
            "lat": mf.JINING[1] + 0.02, "patients": 1, "reporter": "张伟",
            "phone": "13800000000", "notes": "发热 39℃"}
    data.update(kw)
    return IncidentIn.model_validate(data)


def log(**kw):
    return service.create_incident(context="live", data=incident_in(**kw), actor=ACTOR,
                                   region=mf.REGION)


def count(model, *where):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def events_of(type_):
    with db.reading() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.seq)))


def to(incident_id, status, **kw):
    return service.change_status(incident_id=incident_id, actor=ACTOR,
                                 data=StatusChangeIn(status=status, **kw))


def dispatch(incident_id, unit_id):
    return service.dispatch_unit(incident_id=incident_id, actor=ACTOR,
                                 data=DispatchIn(unit_id=unit_id))


def test_logging_an_incident_stores_it_with_deadline_and_event(app):
    found = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    body = log(disease="plague", found_at=found.isoformat())
    assert body["status"] == "reported" and body["priority"] == 1
    assert body["negative_pressure"] is True
    # Plague is class A: report to the higher level within 2 h of discovery.
    assert datetime.fromisoformat(body["report_deadline"]) == found + timedelta(hours=2)
    assert body["deadline_rule"].endswith("class-a")
    [ev] = events_of("incident.reported")
    assert ev.subject_type == "incident" and ev.subject_id == str(body["id"])
    assert ev.payload["disease"] == "plague"
    listed = service.list_incidents()
    assert [i["id"] for i in listed] == [body["id"]]
    assert service.get_incident(incident_id=body["id"])["reporter"] == "张伟"


def test_board_orders_by_priority_then_age(app):
    low = log(type="event_medical", disease=None)
    high = log(disease="plague")
    mid = log(disease="covid19")
    assert [i["id"] for i in service.list_incidents()] == [high["id"], mid["id"], low["id"]]


@pytest.mark.parametrize("bad", [
    {"lon": 2.35, "lat": 48.85},          # Paris: outside the region
    {"lon": 41.0, "lat": 113.1},           # swapped
])
def test_positions_outside_the_region_are_refused(app, bad):
    with pytest.raises(ValidationFailed):
        log(**bad)
    assert count(Incident) == 0 and count(Event, Event.type == "incident.reported") == 0


def test_unknown_disease_and_missing_disease_are_refused():
    with pytest.raises(ValidationError, match="unknown disease"):
        incident_in(disease="dragon pox")
    with pytest.raises(ValidationError, match="must name its disease"):
        incident_in(disease=None)
    with pytest.raises(ValidationError, match="disease_name"):
        incident_in(disease="other")
    assert incident_in(disease="other", disease_name="布鲁氏菌病").disease == "other"


def test_lifecycle_cannot_be_skipped_and_units_follow(app):
    u = mf.unit(negative_pressure=True)
    inc = log(disease="plague")
    with force_locale("en"), pytest.raises(Conflict, match="to Verified .* not to On scene"):
        to(inc["id"], "on_scene")
    body = dispatch(inc["id"], u.id)
    assert body["status"] == "dispatched"
    assert [x["call_sign"] for x in body["units"]] == [u.call_sign]
    assert mf.get(Unit, u.id).status == "dispatched"
    # Dispatching a reported incident verifies it: both steps are on the timeline.
    steps = [(e.payload["previous"], e.payload["status"])
             for e in events_of("incident.status_changed")]
    assert steps == [("reported", "verified"), ("verified", "dispatched")]
    with pytest.raises(Conflict):
        to(inc["id"], "transporting")
    for status, unit_status in [("on_scene", "on_scene"), ("transporting", "transporting"),
                                ("at_hospital", "at_hospital")]:
        to(inc["id"], status)
        assert mf.get(Unit, u.id).status == unit_status
    closed = to(inc["id"], "closed", reason="演练：时钟在别处记录 (drill: clocks kept elsewhere)")
    assert closed["open"] is False and closed["units"] == []
    # An ambulance that carried a plague patient is decontaminated before its next call.
    assert mf.get(Unit, u.id).status == "decontaminating"
    assert service.list_incidents() == []
    with pytest.raises(Conflict):
        to(inc["id"], "cancelled")
    timeline = service.timeline(incident_id=inc["id"])
    assert timeline[0]["type"] == "incident.reported"
    assert timeline[-2]["payload"]["status"] == "closed"
    assert timeline[-1]["type"] == "incident.closed_incomplete"
    changes = [c.status for c in _unit_history(u.id)]
    assert changes == ["available", "dispatched", "on_scene", "transporting", "at_hospital",
                       "decontaminating"]
    # The incident got an isolation time when it reached the designated hospital.
    assert service.get_incident(incident_id=inc["id"])["clocks"]["isolated"] is not None


def _unit_history(unit_id):
    with db.reading() as s:
        return list(s.scalars(select(UnitStatusChange).where(UnitStatusChange.unit_id == unit_id)
                              .order_by(UnitStatusChange.id)))


def test_cancel_releases_units_to_available(app):
    u = mf.unit()
    inc = log(type="mass_casualty", disease=None, patients=6)
    dispatch(inc["id"], u.id)
    to(inc["id"], "cancelled", note="false alarm")
    assert mf.get(Unit, u.id).status == "available"
    with db.reading() as s:
        a = s.scalars(select(Assignment)).one()
    assert a.active is False and a.released_at is not None


def test_dispatch_of_unavailable_unit_names_who_has_it_and_changes_nothing(app):
    u = mf.unit()
    busy = mf.unit(status="out_of_service")
    first = log()
    second = log()
    dispatch(first["id"], u.id)
    before = count(Event)
    with force_locale("en"), pytest.raises(Conflict) as err:
        dispatch(second["id"], u.id)
    assert f"incident #{first['id']}" in err.value.message and "test" in err.value.message
    assert err.value.details["incident_id"] == first["id"]
    with force_locale("en"), pytest.raises(Conflict, match="not available"):
        dispatch(second["id"], busy.id)
    assert count(Event) == before
    assert service.get_incident(incident_id=second["id"])["status"] == "reported"
    assert count(Assignment) == 1


def test_a_negative_pressure_disease_refuses_an_ordinary_ambulance(app):
    u = mf.unit(negative_pressure=False)
    inc = log(disease="covid19")
    with pytest.raises(ValidationFailed):
        dispatch(inc["id"], u.id)
    assert mf.get(Unit, u.id).status == "available" and count(Assignment) == 0


def test_stale_version_is_refused(app):
    inc = log()
    with pytest.raises(Conflict):
        to(inc["id"], "verified", version=inc["version"] + 1)
    assert to(inc["id"], "verified", version=inc["version"])["status"] == "verified"


def test_clocks_are_editable_and_found_moves_the_deadline(app):
    inc = log(disease="plague")
    found = datetime.now(UTC) - timedelta(hours=3)
    body = service.set_clock(incident_id=inc["id"], actor=ACTOR,
                             data=ClockIn(clock="found_at", at=found))
    assert datetime.fromisoformat(body["report_deadline"]) == found + timedelta(hours=2)
    assert body["deadline_missed"] is True
    body = service.set_clock(incident_id=inc["id"], actor=ACTOR,
                             data=ClockIn(clock="reported_up_at", at=datetime.now(UTC)))
    assert body["deadline_missed"] is False and body["clocks"]["reported"]
    with pytest.raises(ValidationFailed):
        service.set_clock(incident_id=inc["id"], actor=ACTOR,
                          data=ClockIn(clock="diagnosed_at", at=found - timedelta(hours=1)))
    with pytest.raises(ValidationFailed):
        service.set_clock(incident_id=inc["id"], actor=ACTOR,
                          data=ClockIn(clock="found_at", at=None))
    assert [e.payload["clock"] for e in events_of("incident.clock_set")] == ["found", "reported"]


def test_cases_are_recorded_for_the_epidemic_point(app):
    inc = log(type="confirmed_case", disease="plague")
    service.add_case(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                     data=CaseIn(lon=113.2, lat=41.05, label="患者家"))
    with pytest.raises(ValidationFailed):
        service.add_case(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                         data=CaseIn(lon=0.0, lat=0.0))
    assert [(c["lon"], c["lat"]) for c in service.list_cases(disease="plague")] == [
        (113.2, 41.05)]


def test_a_confirmed_plague_case_draws_and_grows_the_epidemic_zone(app):
    from coordination.incidents import zones

    inc = log(type="confirmed_case", disease="plague")
    service.add_case(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                     data=CaseIn(lon=113.21, lat=41.05))
    assert zones.list_zones() == []  # add_case alone leaves zones to a refresh
    service.record_case(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                        data=CaseIn(lon=113.2, lat=41.05))
    [zone] = zones.list_zones()
    assert zone["disease"] == "plague"
    service.record_case(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                        data=CaseIn(lon=113.25, lat=41.06))
    [grown] = zones.list_zones()
    assert grown["id"] == zone["id"] and grown["version"] == zone["version"] + 1
    # A suspected (unconfirmed) case location draws nothing new.
    service.record_case(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                        data=CaseIn(lon=113.3, lat=41.07, confirmed=False))
    assert zones.list_zones()[0]["version"] == grown["version"]


def test_contacts_are_masked_isolated_nearest_and_released(app):
    far = mf.facility(kind="isolation_point", lon=113.9, lat=41.5,
                      initial={"figures": {"isolation_room": {"capacity": 5, "occupied": 0}}})
    near = mf.facility(kind="isolation_point", lon=113.15, lat=41.0,
                       initial={"figures": {"isolation_room": {"capacity": 1, "occupied": 0}}})
    inc = log(disease="plague")
    exposed = datetime.now(UTC) - timedelta(days=1)
    c = service.add_contact(incident_id=inc["id"], actor=ACTOR, region=mf.REGION, data=ContactIn(
        name="李娜", phone="13900000000", id_number="150902199001011234",
        address="集宁区", lon=113.13, lat=41.0, last_exposure=exposed))
    assert c["id_number"] == "150***********1234"
    # Plague: nine days of medical observation after the last exposure.
    assert datetime.fromisoformat(c["observation_end"]) == exposed + timedelta(days=9)
    assert service.get_contact(contact_id=c["id"])["id_number"] == "150902199001011234"
    assert "150902199001011234" not in str([e.payload for e in events_of(
        "incident.contact_added")])
    assert [f["id"] for f in service.suggest_isolation(contact_id=c["id"])] == [near.id, far.id]
    done = service.isolate_contact(contact_id=c["id"], actor=ACTOR, data=IsolateIn())
    assert done["isolation_id"] == near.id and done["status"] == "isolated"
    assert mf.get(Facility, near.id).figures["isolation_room"]["occupied"] == 1
    # The near one is now full: a second contact is sent to the far one.
    c2 = service.add_contact(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                             data=ContactIn(name="王芳", last_exposure=exposed))
    assert service.isolate_contact(contact_id=c2["id"], actor=ACTOR,
                                   data=IsolateIn())["isolation_id"] == far.id
    with pytest.raises(Conflict):
        service.isolate_contact(contact_id=c2["id"], actor=ACTOR, data=IsolateIn())
    service.release_contact(contact_id=c["id"], actor=ACTOR)
    assert mf.get(Facility, near.id).figures["isolation_room"]["occupied"] == 0
    masked = service.get_incident(incident_id=inc["id"])["contacts"]
    assert [m["id_number"] for m in masked] == ["150***********1234", ""]


def test_isolating_into_a_full_point_changes_nothing(app):
    full = mf.facility(kind="isolation_point",
                       initial={"figures": {"isolation_room": {"capacity": 1, "occupied": 1}}})
    inc = log()
    c = service.add_contact(incident_id=inc["id"], actor=ACTOR, region=mf.REGION,
                            data=ContactIn(name="赵敏", last_exposure=datetime.now(UTC)))
    with pytest.raises(Conflict):
        service.isolate_contact(contact_id=c["id"], actor=ACTOR,
                                data=IsolateIn(facility_id=full.id))
    with pytest.raises(Conflict):
        service.isolate_contact(contact_id=c["id"], actor=ACTOR, data=IsolateIn())
    with db.reading() as s:
        assert s.get(Contact, c["id"]).status == "traced"


def test_unknown_incident_is_404(app):
    with pytest.raises(NotFound):
        service.get_incident(incident_id=999)
    with pytest.raises(NotFound):
        dispatch(999, 1)


def _plague_at_hospital():
    u = mf.unit(negative_pressure=True)
    inc = log(disease="plague")
    dispatch(inc["id"], u.id)
    for status in ("on_scene", "transporting", "at_hospital"):
        to(inc["id"], status)
    return inc


def test_a_class_a_case_does_not_close_with_empty_clocks_without_a_reason(app):
    inc = _plague_at_hospital()
    # At hospital: isolated is set by the hand-over; reported, diagnosed and treated are empty.
    detail = service.get_incident(incident_id=inc["id"])
    assert [g["clock"] for g in detail["close_gaps"]] == ["reported", "diagnosed", "treated"]
    with force_locale("en"), pytest.raises(ValidationFailed) as err:
        to(inc["id"], "closed")
    with force_locale("en"):
        message = str(err.value.message)
    # Named by their display names, never by their codes.
    assert "Diagnosed (早诊断)" in message and "Treated (早治疗)" in message
    assert "Reported to higher level" in message
    assert "diagnosed_at" not in message and "treated_at" not in message
    assert [m["clock"] for m in err.value.details["missing"]] == ["reported", "diagnosed",
                                                                  "treated"]
    with force_locale("zh_CN"), pytest.raises(ValidationFailed) as err:
        to(inc["id"], "closed", reason="   ")
    with force_locale("zh_CN"):
        message = str(err.value.message)
    assert "诊断（早诊断）" in message and "治疗（早治疗）" in message
    assert "diagnosed" not in message
    # A refused close leaves nothing: still at hospital, no event.
    assert service.get_incident(incident_id=inc["id"])["status"] == "at_hospital"
    assert events_of("incident.closed_incomplete") == []
    # Filling two clocks narrows what is asked; the reason covers the last.
    now = datetime.now(UTC)
    for clock in ("reported", "diagnosed"):
        service.set_clock(incident_id=inc["id"], actor=ACTOR,
                          data=ClockIn(clock=getattr(Clock, clock.upper()), at=now))
    with force_locale("en"), pytest.raises(ValidationFailed) as err:
        to(inc["id"], "closed")
    assert [m["clock"] for m in err.value.details["missing"]] == ["treated"]
    closed = to(inc["id"], "closed",
                reason="转省级定点医院治疗 (transferred to the provincial hospital)")
    assert closed["status"] == "closed"
    [gap] = events_of("incident.closed_incomplete")
    assert gap.payload["missing"] == ["treated"]
    assert gap.payload["reason"].startswith("转省级定点医院")
    assert gap.payload["missing_names"] == {"zh": "治疗（早治疗）", "en": "Treated (早治疗)"}
    timeline = [e["type"] for e in service.timeline(incident_id=inc["id"])]
    assert timeline[-2:] == ["incident.status_changed", "incident.closed_incomplete"]


def test_a_full_record_closes_without_a_reason_and_non_class_a_needs_only_the_report(app):
    inc = _plague_at_hospital()
    now = datetime.now(UTC)
    for clock in (Clock.REPORTED, Clock.DIAGNOSED, Clock.TREATED):
        service.set_clock(incident_id=inc["id"], actor=ACTOR, data=ClockIn(clock=clock, at=now))
    assert to(inc["id"], "closed")["status"] == "closed"
    assert events_of("incident.closed_incomplete") == []
    # Fever (not class A): only the report upward is required; cancelling needs nothing.
    fever = log(disease="fever")
    assert [g["clock"] for g in service.get_incident(incident_id=fever["id"])["close_gaps"]] \
        == ["reported"]
    assert to(fever["id"], "cancelled")["status"] == "cancelled"
