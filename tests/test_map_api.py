"""The live map's JSON API and pages: GeoJSON layers, reports, positions, bad input → 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coordination.auth import service as auth
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.facilities.models import CapacityReport
from coordination.geo.places import PlaceIn, upsert_places
from coordination.units.models import PositionReport, Unit

from . import map_factories as mf
from .support import csrf_from


def _token(role):
    _t, secret = auth.create_token(name=f"tracker-{role}", roles=[role], actor=Actor.system("t"))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def tracker(app):
    return _token("operator")


def _count(model):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def _iso(dt):
    return dt.isoformat().replace("+00:00", "Z")


def test_layers_are_geojson_feature_collections(client, tracker):
    mf.area()
    f = mf.facility(name="凉城县医院发热门诊", area="150902",
                    initial={"figures": {"icu_bed": {"capacity": 4, "occupied": 1}}})
    u = mf.unit(negative_pressure=True)
    upsert_places(places=[
        PlaceIn(code="V1", name="岱海村", kind="village", population=820, lon=112.5, lat=40.5),
        PlaceIn(code="M1", name="铁矿", kind="mine", population=300, lon=112.6, lat=41.3,
                geometry={"type": "Polygon", "coordinates": [[[112.59, 41.29], [112.61, 41.29],
                                                               [112.61, 41.31], [112.59, 41.29]]]}),
    ], actor=mf.ACTOR, region=mf.REGION)
    fac = client.get("/api/map/facilities", headers=tracker).get_json()
    assert fac["type"] == "FeatureCollection"
    feat = fac["features"][0]
    assert feat["geometry"] == {"type": "Point", "coordinates": [f.lon, f.lat]}  # lon, lat
    assert feat["properties"]["figures"] == {"icu_bed": {"capacity": 4, "occupied": 1}}
    assert feat["properties"]["shown_status"] == "open"
    units = client.get("/api/map/units", headers=tracker).get_json()
    assert units["features"][0]["properties"]["negative_pressure"] is True
    assert units["features"][0]["id"] == u.id
    places = client.get("/api/map/places", headers=tracker).get_json()
    kinds = {p["properties"]["name"]: p["geometry"]["type"] for p in places["features"]}
    assert kinds == {"岱海村": "Point", "铁矿": "Polygon"}
    points = client.get("/api/map/places?points=1", headers=tracker).get_json()
    assert {p["geometry"]["type"] for p in points["features"]} == {"Point"}
    assert client.get("/api/map/facilities?kind=sofa", headers=tracker).status_code == 400
    only = client.get("/api/map/facilities?kind=cdc_lab", headers=tracker).get_json()
    assert only["features"] == []


def test_capacity_report_over_the_api(client, tracker):
    f = mf.facility()
    resp = client.post(f"/api/facilities/{f.id}/capacity", headers=tracker, json={
        "status": "full", "figures": {"isolation_room": {"capacity": 8, "occupied": 8}},
        "note": "满员"})
    assert resp.status_code == 201, resp.get_json()
    detail = client.get(f"/api/facilities/{f.id}", headers=tracker).get_json()
    assert detail["status"] == "full" and detail["history"][0]["note"] == "满员"


@pytest.mark.parametrize("body", [
    None, [], {"status": "closed"},
    {"figures": {"isolation_room": {"capacity": 2, "occupied": 3}}},
    {"figures": {"isolation_room": {"capacity": 2, "occupied": -1}}},
    {"figures": {"isolation_room": {"capacity": "many", "occupied": 1}}},
    {"figures": {"beds": {"capacity": 2, "occupied": 1}}},
    {"extra": 1},
])
def test_bad_capacity_reports_are_400_and_change_nothing(client, tracker, body):
    f = mf.facility()
    before = (_count(CapacityReport), _count(Event))
    resp = client.post(f"/api/facilities/{f.id}/capacity", headers=tracker, json=body)
    assert resp.status_code == 400 and resp.get_json()["error"]
    assert (_count(CapacityReport), _count(Event)) == before


def test_unknown_facility_or_unit_is_404(client, tracker):
    assert client.post("/api/facilities/999/capacity", headers=tracker,
                       json={"status": "open"}).status_code == 404
    assert client.get("/api/facilities/999", headers=tracker).status_code == 404
    assert client.get("/api/units/999", headers=tracker).status_code == 404
    resp = client.post("/api/positions", headers=tracker,
                       json={"unit": "ghost", "lon": 113.1, "lat": 41.0})
    assert resp.status_code == 404 and "ghost" in resp.get_json()["error"]


def test_positions_single_and_batch(client, tracker):
    t = datetime.now(UTC) - timedelta(minutes=10)
    u = mf.unit(at=t - timedelta(minutes=10))
    one = client.post(f"/api/units/{u.id}/positions", headers=tracker,
                      json={"lon": 113.2, "lat": 41.05, "at": _iso(t)})
    assert one.status_code == 201 and one.get_json()["moved"] == [u.id]
    batch = client.post("/api/positions", headers=tracker, json={"positions": [
        {"unit": u.call_sign, "lon": 113.21, "lat": 41.06, "at": _iso(t + timedelta(seconds=5))},
        {"unit": u.id, "lon": 113.22, "lat": 41.07, "at": _iso(t + timedelta(seconds=10))},
    ]})
    assert batch.status_code == 201 and batch.get_json()["stored"] == 2
    late = client.post("/api/positions", headers=tracker, json={
        "unit": u.id, "lon": 113.0, "lat": 41.0, "at": _iso(t - timedelta(minutes=1))})
    assert late.get_json() == {"stored": 1, "moved": [], "late": 1}
    detail = client.get(f"/api/units/{u.id}", headers=tracker).get_json()
    assert (detail["lon"], detail["lat"]) == (113.22, 41.07)
    assert len(detail["track"]["points"]) == 4
    assert client.get(f"/api/units/{u.id}?minutes=0", headers=tracker).status_code == 400
    status = client.post(f"/api/units/{u.id}/status", headers=tracker,
                         json={"status": "dispatched"})
    assert status.status_code == 200 and status.get_json()["status"] == "dispatched"


@pytest.mark.parametrize("body", [
    {"positions": []},
    {"positions": "x"},
    {"positions": [{"lon": 113.1, "lat": 41.0}]},                       # no unit
    {"unit": 1, "lon": 200, "lat": 41.0},                                # out of range
    {"unit": 1, "lon": 41.0, "lat": 113.1},                              # swapped
    {"unit": 1, "lon": 2.35, "lat": 48.85},                              # outside the region
    {"unit": 1, "lon": 113.1, "lat": 41.0, "at": "2026-01-01T08:00:00"},  # no time zone
    {"unit": 1, "lon": 113.1, "lat": 41.0, "at": "2999-01-01T00:00:00Z"},  # future
    {"unit": 1, "lon": "east", "lat": 41.0},
])
def test_bad_positions_are_4xx_with_a_message_and_change_nothing(client, tracker, body):
    u = mf.unit()
    assert u.id == 1
    before = (_count(PositionReport), _count(Event), mf.get(Unit, u.id).position_at)
    resp = client.post("/api/positions", headers=tracker, json=body)
    assert 400 <= resp.status_code < 500 and resp.get_json()["error"], resp.get_json()
    assert (_count(PositionReport), _count(Event), mf.get(Unit, u.id).position_at) == before


def test_roles_without_the_permission_are_refused(client, app):
    u = mf.unit()
    liaison = _token("liaison")
    assert client.get("/api/map/units", headers=liaison).status_code == 403
    assert client.post("/api/positions", headers=liaison,
                       json={"unit": u.id, "lon": 113.1, "lat": 41.0}).status_code == 403
    assert client.get("/api/map/units").status_code == 401


def test_the_report_page_records_a_report(client, auth, make_user):
    f = mf.facility(name="<b>卓资县</b>医院")
    make_user("operator", username="staff")
    auth.login("staff")
    page = client.get(f"/facilities/{f.id}/report")
    assert page.status_code == 200 and "<b>卓资县</b>" not in page.text
    resp = client.post(f"/facilities/{f.id}/report", data={
        "csrf_token": csrf_from(page.text), "status": "diverting",
        "general_bed-capacity": "30", "general_bed-occupied": "12", "note": "分流"})
    assert resp.status_code == 302
    bad = client.post(f"/facilities/{f.id}/report", data={
        "csrf_token": csrf_from(page.text), "status": "open",
        "general_bed-capacity": "3", "general_bed-occupied": "12"})
    assert bad.status_code == 400
    with db.reading() as s:
        reports = s.scalars(select(CapacityReport).where(CapacityReport.facility_id == f.id)).all()
    assert [r.status for r in reports] == ["diverting"]
    assert reports[0].figures == {"general_bed": {"capacity": 30, "occupied": 12}}
    listing = client.get("/facilities")
    assert listing.status_code == 200 and "&lt;b&gt;卓资县&lt;/b&gt;医院" in listing.text


def test_ops_page_carries_the_map_with_a_nonce_and_no_inline_markers(client, auth, make_user):
    mf.area()
    for i in range(30):
        mf.facility(name=f"卫生院{i}", kind="township_health_centre")
    make_user("operator", username="op")
    auth.login("op")
    page = client.get("/ops")
    assert page.status_code == 200
    for ident in ("feed-list", "conn-state", "dutylog-form", "dutylog-list", "livemap",
                  "livemap-config"):
        assert f'id="{ident}"' in page.text
    assert "卫生院29" not in page.text  # features travel as GeoJSON, not inline
    assert "style=" not in page.text.replace('rel="stylesheet"', "")
    assert "http://" not in page.text and "https://" not in page.text
