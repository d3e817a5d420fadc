"""The incident page's steps: confirm, destination, release, back in service, plan."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordination.errors import Conflict, ValidationFailed
from coordination.extensions import db
from coordination.incidents import confirm, service, steps, zones
from coordination.incidents.models import Case, Incident
from coordination.plans import for_incident
from coordination.plans import service as plans
from coordination.plans.schema import Level
from coordination.units.models import Unit

from . import map_factories as mf
from .roster_factories import crew
from .support import csrf_from
from .test_incidents import ACTOR, dispatch, events_of, log


def test_confirming_a_suspected_plague_case_draws_the_epidemic_point(app):
    inc = log(type="suspected_case", disease="plague")
    assert confirm.can_confirm(service.get_incident(incident_id=inc["id"]))
    body = confirm.confirm_case(incident_id=inc["id"], actor=ACTOR)
    assert body["type"] == "confirmed_case" and body["clocks"]["diagnosed"]
    [zone] = zones.list_zones()
    assert zone["disease"] == "plague"
    with db.reading() as s:
        case = s.scalars(select(Case)).one()
    assert case.confirmed and (case.lon, case.lat) == (inc["lon"], inc["lat"])
    assert steps.zones_of(case_ids=[case.id])[0]["id"] == zone["id"]
    [ev] = events_of("incident.case_confirmed")
    assert ev.payload["previous_type"] == "suspected_case"
    # Confirming twice is refused and changes nothing.
    with pytest.raises(Conflict):
        confirm.confirm_case(incident_id=inc["id"], actor=ACTOR)
    assert not confirm.can_confirm(service.get_incident(incident_id=inc["id"]))
    assert len(events_of("incident.case_confirmed")) == 1


def test_only_a_case_of_a_named_disease_can_be_confirmed(app):
    inc = log(type="mass_casualty", disease=None, patients=4)
    assert not confirm.can_confirm(service.get_incident(incident_id=inc["id"]))
    with pytest.raises(ValidationFailed):
        confirm.confirm_case(incident_id=inc["id"], actor=ACTOR)
    with db.reading() as s:
        assert s.get(Incident, inc["id"]).type == "mass_casualty"


def test_a_decontaminated_ambulance_goes_back_in_service(app):
    u = mf.unit(negative_pressure=True)
    other = mf.unit()
    inc = log(type="suspected_case", disease="plague")
    dispatch(inc["id"], u.id)
    service.release_unit(incident_id=inc["id"], unit_id=u.id, actor=ACTOR)
    assert mf.get(Unit, u.id).status == "decontaminating"
    assert [w["unit_id"] for w in steps.units_awaiting_service(incident_id=inc["id"])] == [u.id]
    with pytest.raises(Conflict):  # never on this incident
        steps.return_to_service(incident_id=inc["id"], unit_id=other.id, actor=ACTOR)
    steps.return_to_service(incident_id=inc["id"], unit_id=u.id, actor=ACTOR)
    assert mf.get(Unit, u.id).status == "available"
    assert steps.units_awaiting_service(incident_id=inc["id"]) == []
    with pytest.raises(Conflict):  # twice
        steps.return_to_service(incident_id=inc["id"], unit_id=u.id, actor=ACTOR)


def test_destinations_are_the_free_designated_beds_nearest_first(app):
    near = mf.facility(kind="designated_hospital", lon=mf.JINING[0] + 0.05,
                       lat=mf.JINING[1] + 0.02,
                       initial={"figures": {"negative_pressure_room": {"capacity": 4,
                                                                    "occupied": 0}}})
    mf.facility(kind="designated_hospital", lon=mf.JINING[0] + 0.5, lat=mf.JINING[1],
                initial={"figures": {"negative_pressure_room": {"capacity": 4, "occupied": 4}}})
    inc = log(type="suspected_case", disease="plague")
    assert [d["id"] for d in steps.destination_choices(incident_id=inc["id"])] == [near.id]


def test_plans_fitting_the_incident_come_first(app):
    inc = log(type="suspected_case", disease="plague")
    offers = for_incident.plans_for_incident(incident_id=inc["id"], disease="plague",
                                             incident_type="suspected_case")
    assert offers["plans"][0]["id"] == "plague-human-case" and offers["plans"][0]["fits"]
    assert offers["subject_ref"] == str(inc["id"]) and offers["active"] == []


def _page(auth, make_user, incident_id):
    make_user("operator", username="op")
    auth.login("op")
    return auth.client.get(f"/incidents/{incident_id}")


def test_the_page_offers_each_step_and_the_forms_take_it(app, auth, make_user):
    u = mf.unit(negative_pressure=True)
    inc = log(type="suspected_case", disease="plague")
    page = _page(auth, make_user, inc["id"])
    html = page.get_data(as_text=True)
    assert 'id="confirm-form"' in html and 'id="incident-plan-form"' in html
    token = csrf_from(html)
    client = auth.client
    dispatch(inc["id"], u.id)
    r = client.post(f"/incidents/{inc['id']}/units/{u.id}/release", data={"csrf_token": token})
    assert r.status_code == 302 and mf.get(Unit, u.id).status == "decontaminating"
    html = client.get(f"/incidents/{inc['id']}").get_data(as_text=True)
    assert 'id="awaiting-service"' in html
    r = client.post(f"/incidents/{inc['id']}/units/{u.id}/in-service", data={"csrf_token": token})
    assert r.status_code == 302 and mf.get(Unit, u.id).status == "available"
    r = client.post(f"/incidents/{inc['id']}/confirm", data={"csrf_token": token})
    assert r.status_code == 302 and zones.list_zones()
    form = {"csrf_token": token, "plan_id": "plague-human-case", "level": "IV"}
    r = client.post(f"/incidents/{inc['id']}/activate-plan", data=form)
    # No agency is on the roster here: told before activating, per task, where it goes.
    assert r.status_code == 409 and 'id="recipients-form"' in r.get_data(as_text=True)
    crew("live", "cdc", users=False)
    pre = plans.recipients_preview(plan_id="plague-human-case", level=Level.IV)
    chosen = {f"recipient.{t['task_id']}": f"officer:{pre['officers'][0]['id']}"
              for t in pre["tasks"] if not t["ok"]}
    r = client.post(f"/incidents/{inc['id']}/activate-plan", data=form | chosen)
    assert r.status_code == 302 and "/plans/activations/" in r.headers["Location"]
    html = client.get(f"/incidents/{inc['id']}").get_data(as_text=True)
    assert 'class="plan-active"' in html and 'id="incident-zones"' in html


def test_bad_step_input_is_a_message_not_a_500(app, auth, make_user):
    inc = log(type="suspected_case", disease="plague")
    token = csrf_from(_page(auth, make_user, inc["id"]).get_data(as_text=True))
    client = auth.client
    for path, data in [("destination", {"facility_id": "x"}),
                       ("destination", {"facility_id": "999999"}),
                       ("activate-plan", {"plan_id": "", "level": "IV"}),
                       ("activate-plan", {"plan_id": "plague-human-case", "level": "V"}),
                       ("activate-plan", {"plan_id": "no-such-plan", "level": "IV"}),
                       ("units/999/release", {}), ("units/999/in-service", {})]:
        r = client.post(f"/incidents/{inc['id']}/{path}", data={"csrf_token": token, **data},
                        follow_redirects=True)
        assert r.status_code == 200, (path, data)
        assert 'class="flash flash-error"' in r.get_data(as_text=True), (path, data)
    r = client.post(f"/incidents/{inc['id']}/confirm")  # no CSRF token
    assert r.status_code == 400
