"""Incident routes that had no functional test: a close contact's isolation points and
release over the API; recording, isolating and releasing a contact from the pages;
setting a patient's destination over the API and from the incident page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from coordination.events import Event
from coordination.extensions import db
from coordination.incidents.models import Contact, Incident

from . import map_factories as mf

CASE = {"type": "confirmed_case", "disease": "plague", "lon": 113.15, "lat": 41.02,
        "patients": 1, "address": "集宁区某村"}
ROOMS = {"figures": {"isolation_room": {"capacity": 2, "occupied": 0}}}


def _events(type_: str) -> list[Event]:
    with db.reading() as s:
        return list(s.scalars(select(Event).where(Event.type == type_)))


def _contact(contact_id: int) -> Contact:
    with db.reading() as s:
        c = s.get(Contact, contact_id)
        assert c is not None
        return c


def test_isolation_points_and_release_of_a_contact_over_the_api(make_user, auth):
    near = mf.facility(kind="isolation_point", name="隔离点近", lon=113.16, lat=41.03,
                       initial=ROOMS)
    far = mf.facility(kind="isolation_point", name="隔离点远", lon=113.6, lat=41.3,
                      initial=ROOMS)
    mf.facility(kind="fever_clinic", name="发热门诊", lon=113.15, lat=41.02)
    make_user("operator", username="op-contact")
    auth.login("op-contact")
    inc = auth.post_json("/api/incidents", CASE).get_json()
    contact = auth.post_json(f"/api/incidents/{inc['id']}/contacts", {
        "name": "李娜", "last_exposure": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    assert contact.status_code == 201, contact.text
    cid = contact.get_json()["id"]
    points = auth.client.get(f"/api/contacts/{cid}/isolation-points").get_json()["suggestions"]
    assert [p["id"] for p in points] == [near.id, far.id]  # nearest first; no clinic
    assert auth.client.get("/api/contacts/999999/isolation-points").status_code == 404

    released = auth.post_json(f"/api/contacts/{cid}/release", {})
    assert released.status_code == 200, released.text
    assert _contact(cid).status == "released"
    assert auth.post_json(f"/api/contacts/{cid}/release", {}).status_code == 409
    assert auth.post_json("/api/contacts/999999/release", {}).status_code == 404


def test_a_contact_recorded_isolated_and_released_from_the_pages(make_user, auth):
    point = mf.facility(kind="isolation_point", name="隔离点甲", lon=113.16, lat=41.03,
                        initial=ROOMS)
    make_user("operator", username="op-cpage")
    auth.login("op-cpage")
    inc = auth.post_json("/api/incidents", CASE).get_json()
    form = {"csrf_token": auth.csrf}
    missing = auth.client.post(f"/incidents/{inc['id']}/contacts", data=form | {"name": "王芳"})
    assert missing.status_code == 302  # no exposure time: refused, flashed
    with db.reading() as s:
        assert list(s.scalars(select(Contact))) == []
    r = auth.client.post(f"/incidents/{inc['id']}/contacts", data=form | {
        "name": "王芳", "phone": "13900000000", "last_exposure": "2026-11-30T08:00",
        "observation_days": "9"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/incidents/{inc['id']}")
    with db.reading() as s:
        (c,) = s.scalars(select(Contact))
    assert c.name == "王芳" and c.incident_id == inc["id"]

    r = auth.client.post(f"/contacts/{c.id}/isolate", data=form | {"facility_id": str(point.id)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/contacts/{c.id}")
    assert _contact(c.id).status == "isolated"
    assert "隔离点甲" in auth.client.get(r.headers["Location"]).text
    r = auth.client.post(f"/contacts/{c.id}/release", data=form)
    assert r.status_code == 302
    assert _contact(c.id).status == "released"
    again = auth.client.post(f"/contacts/{c.id}/release", data=form)
    assert again.status_code == 302 and _contact(c.id).status == "released"
    assert len(_events("incident.contact_released")) == 1


def test_the_contact_forms_need_the_contact_managers_role(make_user, auth):
    make_user("logistics", username="lg-contact")
    auth.login("lg-contact")
    for url in ("/incidents/1/contacts", "/contacts/1/isolate", "/contacts/1/release"):
        assert auth.client.post(url, data={"csrf_token": auth.csrf}).status_code == 403, url


def test_a_destination_set_over_the_api_and_from_the_page(make_user, auth):
    hospital = mf.facility(kind="designated_hospital", name="定点医院")
    make_user("operator", username="op-dest")
    auth.login("op-dest")
    inc = auth.post_json("/api/incidents", CASE).get_json()
    r = auth.post_json(f"/api/incidents/{inc['id']}/destination", {"facility_id": hospital.id})
    assert r.status_code == 200, r.text
    assert r.get_json()["destination_id"] == hospital.id
    assert auth.post_json(f"/api/incidents/{inc['id']}/destination",
                          {"facility_id": 999999}).status_code == 404
    assert auth.post_json(f"/api/incidents/{inc['id']}/destination",
                          {"facility": 1}).status_code == 400
    cleared = auth.post_json(f"/api/incidents/{inc['id']}/destination", {"facility_id": None})
    assert cleared.status_code == 200 and cleared.get_json()["destination_id"] is None

    form = {"csrf_token": auth.csrf}
    bad = auth.client.post(f"/incidents/{inc['id']}/destination", data=form | {"facility_id": ""})
    assert bad.status_code == 302
    with db.reading() as s:
        assert s.get(Incident, inc["id"]).destination_id is None
    r = auth.client.post(f"/incidents/{inc['id']}/destination",
                         data=form | {"facility_id": str(hospital.id)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/incidents/{inc['id']}")
    with db.reading() as s:
        assert s.get(Incident, inc["id"]).destination_id == hospital.id
    assert len(_events("incident.destination_set")) == 3  # the refusals wrote nothing
