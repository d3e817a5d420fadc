"""Care capabilities: a stroke call goes to a stroke centre within its window, by road ETA.

The network is built by hand (metres east/north of a point near Jining): the
nearest hospital lacks the capability, another has it but reports it
unavailable, a third is nearer by straight line but across a river whose
bridge is 10 km north, and the capable one down the fast road is the answer.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordination.events import Event
from coordination.extensions import db
from coordination.facilities import service as facilities
from coordination.facilities.capabilities import (
    CapabilitiesIn,
    CapabilityTextError,
    Condition,
    capability_text,
    parse_capabilities,
)
from coordination.facilities.models import Facility
from coordination.geo import layers
from coordination.geo.layer_export import export_layer
from coordination.geo.routing import RoadNetwork, Segment
from coordination.incidents import recommend, service
from coordination.incidents.schemas import ConditionIn, IncidentIn

from . import map_factories as mf
from .support import csrf_from
from .test_incidents_recommend import MODEL, ll

BEDS = {"figures": {"general_bed": {"capacity": 20, "occupied": 5},
                    "icu_bed": {"capacity": 4, "occupied": 1}}}


def caps(text: str) -> CapabilitiesIn:
    return parse_capabilities(text)


def hospital(name: str, at: tuple[float, float], services: str | None, **kw):
    lon, lat = ll(*at)
    return mf.facility(name=name, kind="designated_hospital", lon=lon, lat=lat,
                       initial=kw.pop("initial", BEDS),
                       capabilities=caps(services) if services is not None else None, **kw)


def network() -> RoadNetwork:
    """Scene at (0, 0). East along y=0 to 2 km; west on a 90 km/h road to 8 km; north
    10 km to a bridge, across to x = 3 km and back south to (3000, 500); south 100 km."""
    def seg(*pts, speed=60):
        return Segment([ll(*p) for p in pts], speed, 0, "primary")

    return RoadNetwork.from_segments([
        seg((0, 0), (2000, 0)), seg((0, 0), (-8000, 0), speed=90),
        seg((0, 0), (0, 10_000)), seg((0, 10_000), (3000, 10_000)),
        seg((3000, 10_000), (3000, 500)), seg((0, 0), (0, -100_000)),
    ])


def log(at=(0, 0), **kw):
    lon, lat = ll(*at)
    data = {"type": "other", "lon": lon, "lat": lat, "patients": 1} | kw
    return service.create_incident(data=IncidentIn.model_validate(data), actor=mf.ACTOR,
                                   region=mf.REGION)


@pytest.fixture
def town(app):
    return {
        "general": hospital("镇医院（无卒中中心）", (2000, 0), "儿科"),
        "ct_down": hospital("东区医院", (1000, 150), "卒中!;胸痛"),
        "across": hospital("河东医院", (3000, 500), "卒中;创伤:3"),
        "west": hospital("市中心医院", (-8000, 0), "胸痛;卒中;创伤:1"),
        "far_south": hospital("南部妇幼", (0, -100_000), "危重孕产妇;危重新生儿"),
    }


def test_stroke_goes_past_the_nearest_hospital_to_the_stroke_centre_by_road(town):
    inc = log()
    rec = recommend.recommend(incident_id=inc["id"], model=MODEL, network=network(),
                              condition="stroke")
    care = rec["care"]
    assert rec["condition"] == "stroke" and care["method"] == "network"
    assert care["window_minutes"] == 60
    # By road the west centre (8 km at 90 km/h) beats the one across the river (23 km).
    assert [d["id"] for d in care["destinations"]] == [town["west"].id, town["across"].id]
    assert rec["destinations"] == care["destinations"]
    west = care["destinations"][0]
    assert west["eta_seconds"] == pytest.approx(8000 / 25, rel=0.05)
    assert west["within_window"] and west["via"] == "network"
    assert care["destinations"][1]["eta_seconds"] == pytest.approx(23_000 / (60 / 3.6),
                                                                   rel=0.05)
    # The nearer ones are listed with why they were skipped.
    skipped = {k["id"]: k for k in care["skipped"]}
    assert set(skipped) == {town["general"].id, town["ct_down"].id}
    assert skipped[town["general"].id]["reason"] == "missing"
    assert skipped[town["ct_down"].id]["reason"] == "unavailable"
    assert all(k["why"] for k in care["skipped"])
    assert all(k["eta_seconds"] < west["eta_seconds"] for k in care["skipped"])


def test_by_straight_line_the_river_hospital_would_have_been_first(town):
    inc = log()
    rec = recommend.recommend(incident_id=inc["id"], model=MODEL, use_network=False,
                              condition="stroke")
    assert rec["care"]["method"] == "straight"
    assert [d["id"] for d in rec["care"]["destinations"]][:2] == [town["across"].id,
                                                                   town["west"].id]


def test_trauma_level_and_window_are_checked(town):
    inc = log()
    care = recommend.recommend(incident_id=inc["id"], model=MODEL, network=network(),
                               condition="major_trauma")["care"]
    assert [d["id"] for d in care["destinations"]] == [town["west"].id]
    # The across-river hospital is a level 3 centre but it is farther than the west one,
    # so it is not "nearer and skipped"; a level-3 centre nearer than every capable one is.
    obstetric = recommend.recommend(incident_id=inc["id"], model=MODEL, network=network(),
                                    condition="obstetric_emergency")["care"]
    [south] = obstetric["destinations"]
    assert south["id"] == town["far_south"].id and not south["within_window"]
    assert south["over_window_minutes"] == pytest.approx(100 - 60, abs=3)
    assert obstetric["none_within_window"]
    reasons = {k["id"]: k["reason"] for k in obstetric["skipped"]}
    assert reasons[town["west"].id] == "missing" and len(reasons) == 3  # the nearest three


def test_level_three_centre_nearer_than_the_level_one_is_skipped_for_its_level(app):
    l3 = hospital("县医院", (2000, 0), "创伤:3")
    l1 = hospital("市医院", (-8000, 0), "创伤:1")
    care = recommend.recommend(incident_id=log()["id"], model=MODEL, network=network(),
                               condition="major_trauma")["care"]
    assert [d["id"] for d in care["destinations"]] == [l1.id]
    assert [(k["id"], k["reason"]) for k in care["skipped"]] == [(l3.id, "level")]


def test_no_free_bed_or_diverting_is_skipped_too(app):
    hospital("满员", (2000, 0), "卒中", initial={"figures": {
        "general_bed": {"capacity": 2, "occupied": 2}}})
    hospital("分流", (1000, 0), "卒中", initial={"status": "diverting", **BEDS})
    ok = hospital("市医院", (-8000, 0), "卒中")
    care = recommend.recommend(incident_id=log()["id"], model=MODEL, network=network(),
                               condition="stroke")["care"]
    assert [d["id"] for d in care["destinations"]] == [ok.id]
    assert sorted(k["reason"] for k in care["skipped"]) == ["no_bed", "status"]


def test_live_availability_change_reranks_and_is_logged(town):
    inc = log()
    facilities.set_capabilities(facility_id=town["ct_down"].id, data=caps("卒中;胸痛"),
                                actor=mf.ACTOR)
    care = recommend.recommend(incident_id=inc["id"], model=MODEL, network=network(),
                               condition="stroke")["care"]
    assert care["destinations"][0]["id"] == town["ct_down"].id
    assert care["skipped"] == []  # it is the nearest of all
    with db.reading() as s:
        ev = s.scalars(select(Event).where(Event.type == "facility.capabilities_changed")).one()
        assert ev.payload["capabilities"]["stroke"] == {"available": True}
        assert ev.payload["previous"]["stroke"] == {"available": False}


def test_the_picked_condition_is_recorded_and_the_type_implies_one(town):
    inc = log()
    assert recommend.recommend(incident_id=inc["id"], use_network=False)["care"] is None
    body = service.set_condition(incident_id=inc["id"], data=ConditionIn(condition="stemi"),
                                 actor=mf.ACTOR)
    assert body["condition"] == "stemi"
    rec = recommend.recommend(incident_id=inc["id"], model=MODEL, network=network())
    assert rec["care"]["capability"] == "chest_pain"
    assert [d["id"] for d in rec["destinations"]] == [town["ct_down"].id, town["west"].id]
    mci = log(type="mass_casualty", patients=12)
    assert recommend.recommend(incident_id=mci["id"], use_network=False)["condition"] == \
        "major_trauma"


def test_type_implied_condition_falls_back_to_free_beds_where_none_is_recorded(app):
    plain = hospital("无能力记录", (2000, 0), None)
    rec = recommend.recommend(incident_id=log(type="mass_casualty")["id"], use_network=False)
    assert rec["care"]["fallback"] and rec["care"]["notice"]
    assert [d["id"] for d in rec["destinations"]] == [plain.id]
    # A condition the dispatcher picks is never overridden by the fallback.
    rec = recommend.recommend(incident_id=log()["id"], use_network=False, condition="stroke")
    assert not rec["care"]["fallback"] and rec["destinations"] == []


def test_capability_text_parses_and_round_trips():
    got = parse_capabilities("胸痛、卒中; 创伤:1, dialysis nicu!")
    stored = got.stored()
    assert stored == {"chest_pain": {"available": True}, "stroke": {"available": True},
                      "trauma": {"available": True, "level": 1},
                      "dialysis": {"available": True},
                      "neonatal_icu": {"available": False}}
    assert parse_capabilities(capability_text(stored)).stored() == stored
    assert parse_capabilities("创伤2级").stored()["trauma"]["level"] == 2
    for bad in ("心脏移植", "卒中:1", "trauma:7"):
        with pytest.raises(CapabilityTextError):
            parse_capabilities(bad)
    with pytest.raises(ValueError):
        CapabilitiesIn.model_validate({"capabilities": {"stroke": {"level": 1}}})


def test_layer_import_reads_capabilities_and_export_writes_them(app, tmp_path):
    csv = ("code,name,kind,longitude,latitude,救治能力\n"
           "DH-A,市医院,定点医院,113.12,41.0,胸痛;卒中;创伤:1\n"
           "DH-B,县医院,定点医院,113.2,41.1,\n").encode()
    report = layers.import_layer(content=csv, filename="h.csv", kind="designated_hospital",
                                 actor=mf.ACTOR, region=mf.REGION)
    assert report["columns"]["used"]["救治能力"] == "capabilities"
    with db.reading() as s:
        got = {f.code: f.capabilities for f in s.scalars(select(Facility))}
    assert got["DH-A"]["trauma"] == {"available": True, "level": 1}
    assert got["DH-B"] == {}
    # A layer without the column leaves the stored services alone.
    layers.import_layer(content=("code,name,kind,longitude,latitude\n"
                                 "DH-A,市医院(新),定点医院,113.12,41.0\n").encode(),
                        filename="h.csv", kind="designated_hospital", actor=mf.ACTOR,
                        region=mf.REGION)
    with db.reading() as s:
        a = s.scalars(select(Facility).where(Facility.code == "DH-A")).one()
        assert a.name == "市医院(新)" and "stroke" in a.capabilities
    exported = {f["id"]: f["properties"] for f in
                export_layer(kind="designated_hospital")["features"]}
    assert parse_capabilities(exported["DH-A"]["capabilities"]).stored() == a.capabilities
    # A bad cell is a row error naming the column; nothing is written.
    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Facility))
    bad = "code,name,longitude,latitude,capabilities\nDH-C,X,113.1,41.0,卒中;心脏移植\n"
    with pytest.raises(layers.LayerRejected) as exc:
        layers.import_layer(content=bad.encode(), filename="h.csv",
                            kind="designated_hospital", actor=mf.ACTOR, region=mf.REGION)
    assert any(d["field"] == "capabilities" for d in exc.value.details)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Facility)) == before


def test_pages_and_api_set_capabilities_and_condition_role_checked(app, auth, make_user):
    h = hospital("<b>市医院</b>", (-8000, 0), "卒中")
    near = hospital("镇医院", (2000, 0), "儿科")
    inc = log()
    make_user("trainer", username="tr")
    auth.login("tr")
    assert auth.post_json(f"/api/facilities/{h.id}/capabilities",
                          {"capabilities": {}}).status_code == 403
    assert auth.post_json(f"/api/incidents/{inc['id']}/condition",
                          {"condition": "stroke"}).status_code == 403
    auth.client.get("/logout")
    make_user("operator", username="op")
    auth.login("op")
    r = auth.post_json(f"/api/facilities/{h.id}/capabilities",
                       {"capabilities": {"stroke": {"available": True},
                                         "trauma": {"available": False, "level": 2}}})
    assert r.status_code == 200, r.text
    assert r.get_json()["capabilities"]["trauma"] == {"available": False, "level": 2}
    for body in ({"capabilities": {"heart": {}}}, {"capabilities": {"stroke": {"level": 1}}},
                 []):
        assert auth.post_json(f"/api/facilities/{h.id}/capabilities", body).status_code in (
            400, 422)
    assert auth.post_json(f"/api/incidents/{inc['id']}/condition",
                          {"condition": "gout"}).status_code in (400, 422)
    assert auth.client.get(f"/api/incidents/{inc['id']}/recommendation?condition=gout"
                           ).status_code == 400
    r = auth.post_json(f"/api/incidents/{inc['id']}/condition", {"condition": "stroke"})
    assert r.status_code == 200 and r.get_json()["condition"] == "stroke"
    rec = auth.client.get(f"/api/incidents/{inc['id']}/recommendation").get_json()
    assert rec["care"]["skipped"][0]["id"] == near.id
    # The incident page lists the centre, the skipped one and why, escaped.
    html = auth.client.get(f"/incidents/{inc['id']}").get_data(as_text=True)
    assert 'id="care-skipped"' in html and "镇医院" in html
    assert "&lt;b&gt;市医院&lt;/b&gt;" in html and "<b>市医院</b>" not in html
    token = csrf_from(html)
    r = auth.client.post(f"/incidents/{inc['id']}/condition",
                         data={"csrf_token": token, "condition": "nonsense"},
                         follow_redirects=True)
    assert 'class="flash flash-error"' in r.get_data(as_text=True)
    r = auth.client.post(f"/incidents/{inc['id']}/condition",
                         data={"csrf_token": token, "condition": ""})
    assert r.status_code == 302
    with db.reading() as s:
        from coordination.incidents.models import Incident
        assert s.get(Incident, inc["id"]).condition is None
    # The facility form: provided + available checkboxes, trauma level.
    r = auth.client.post(f"/facilities/{h.id}/capabilities", data={
        "csrf_token": token, "stroke-provided": "1", "trauma-provided": "1",
        "trauma-available": "1", "trauma-level": "1"})
    assert r.status_code == 302
    assert mf.get(Facility, h.id).capabilities == {
        "stroke": {"available": False}, "trauma": {"available": True, "level": 1}}
    r = auth.client.post(f"/facilities/{h.id}/capabilities", data={
        "csrf_token": token, "trauma-provided": "1", "trauma-level": "9"},
        follow_redirects=True)
    assert 'class="flash flash-error"' in r.get_data(as_text=True)
    assert mf.get(Facility, h.id).capabilities["trauma"]["level"] == 1
    page = auth.client.get(f"/facilities/{h.id}/report").get_data(as_text=True)
    assert 'id="capabilities-form"' in page
    listing = auth.client.get("/facilities").get_data(as_text=True)
    assert 'data-capability="trauma"' in listing


def test_condition_set_is_one_event_with_the_previous(app):
    inc = log()
    service.set_condition(incident_id=inc["id"], data=ConditionIn(condition=Condition.STROKE),
                          actor=mf.ACTOR)
    service.set_condition(incident_id=inc["id"], data=ConditionIn(condition=None),
                          actor=mf.ACTOR)
    with db.reading() as s:
        evs = list(s.scalars(select(Event).where(Event.type == "incident.condition_set")
                             .order_by(Event.seq)))
    assert [(e.payload["previous"], e.payload["condition"]) for e in evs] == [
        (None, "stroke"), ("stroke", None)]
