"""The incidents JSON API and pages: status codes, bad input changes nothing, masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from coordination.events import Event
from coordination.extensions import db
from coordination.incidents.models import Assignment, Incident
from coordination.units.models import Unit

from . import map_factories as mf

GOOD = {"type": "suspected_case", "disease": "plague", "lon": 113.15, "lat": 41.02,
        "patients": 1, "reporter": "张伟", "phone": "13800000000", "address": "集宁区某村"}


@pytest.fixture
def operator(make_user, auth):
    make_user("operator", username="op1")
    auth.login("op1")
    return auth


def count(model, *where):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_log_list_read_over_the_api(operator):
    resp = operator.post_json("/api/incidents", GOOD)
    assert resp.status_code == 201, resp.text
    inc = resp.get_json()
    assert inc["status"] == "reported" and inc["priority"] == 1
    listed = operator.client.get("/api/incidents").get_json()["incidents"]
    assert [i["id"] for i in listed] == [inc["id"]]
    one = operator.client.get(f"/api/incidents/{inc['id']}").get_json()
    assert one["address"] == "集宁区某村" and one["units"] == []
    layer = operator.client.get("/api/map/incidents").get_json()
    assert layer["features"][0]["geometry"]["coordinates"] == [113.15, 41.02]
    timeline = operator.client.get(f"/api/incidents/{inc['id']}/timeline").get_json()
    assert [e["type"] for e in timeline["events"]] == ["incident.reported"]


@pytest.mark.parametrize("change, word", [
    ({"lon": 2.35, "lat": 48.85}, "outside the configured region"),
    ({"lon": 41.02, "lat": 113.15}, "swapped"),
    ({"disease": "dragonpox"}, "unknown disease"),
    ({"type": "earthquake"}, "type"),
    ({"patients": -1}, "patients"),
    ({"found_at": "2026-11-30T08:00:00"}, "found_at"),  # no zone
])
def test_bad_incidents_are_4xx_and_change_nothing(operator, change, word):
    before = count(Event)
    with_locale = operator.client.post("/api/incidents", json=GOOD | change,
                                       headers={"X-CSRFToken": operator.csrf,
                                                "Accept-Language": "en"})
    assert 400 <= with_locale.status_code < 500
    assert with_locale.get_json()["error"]
    assert count(Incident) == 0 and count(Event) == before


def test_dispatch_and_lifecycle_over_the_api(operator):
    np_unit = mf.unit(negative_pressure=True, lon=113.3, lat=41.1)
    plain = mf.unit(lon=113.151, lat=41.021)
    inc = operator.post_json("/api/incidents", GOOD).get_json()
    rec = operator.client.get(f"/api/incidents/{inc['id']}/recommendation").get_json()
    # Plague: only the negative-pressure ambulance is offered, though the other is closer.
    assert [u["unit_id"] for u in rec["units"]] == [np_unit.id]
    resp = operator.post_json(f"/api/incidents/{inc['id']}/dispatch", {"unit_id": plain.id})
    assert resp.status_code == 400
    resp = operator.post_json(f"/api/incidents/{inc['id']}/dispatch", {"unit_id": np_unit.id})
    assert resp.status_code == 201 and resp.get_json()["status"] == "dispatched"
    skip = operator.post_json(f"/api/incidents/{inc['id']}/status", {"status": "closed"})
    # The refusal names the statuses as a person reads them, never their codes.
    assert skip.status_code == 409 and "已到达现场" in skip.get_json()["error"]
    assert "on_scene" not in skip.get_json()["error"]
    again = operator.post_json(f"/api/incidents/{inc['id']}/dispatch", {"unit_id": np_unit.id})
    assert again.status_code == 409
    assert again.get_json()["details"]["dispatched_by"] == "op1"
    ok = operator.post_json(f"/api/incidents/{inc['id']}/status", {"status": "on_scene"})
    assert ok.status_code == 200 and mf.get(Unit, np_unit.id).status == "on_scene"
    assert count(Assignment) == 1


def test_closing_a_plague_case_with_empty_clocks_asks_for_them_or_a_reason(operator):
    unit = mf.unit(negative_pressure=True, lon=113.3, lat=41.1)
    inc = operator.post_json("/api/incidents", GOOD).get_json()
    operator.post_json(f"/api/incidents/{inc['id']}/dispatch", {"unit_id": unit.id})
    for status in ("on_scene", "transporting", "at_hospital"):
        assert operator.post_json(f"/api/incidents/{inc['id']}/status",
                                  {"status": status}).status_code == 200
    before = count(Event)
    refused = operator.post_json(f"/api/incidents/{inc['id']}/status", {"status": "closed"})
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    # The user's language (zh-CN): the clocks by their display names, never their codes.
    assert "诊断（早诊断）" in error and "治疗（早治疗）" in error and "原因" in error
    assert "diagnosed" not in error and "treated" not in error
    assert [m["clock"] for m in refused.get_json()["details"]["missing"]] == [
        "reported", "diagnosed", "treated"]
    assert count(Event) == before
    page = operator.client.get(f"/incidents/{inc['id']}").get_data(as_text=True)
    assert 'name="reason"' in page and 'data-clock="treated"' in page
    ok = operator.post_json(f"/api/incidents/{inc['id']}/status",
                            {"status": "closed", "reason": "患者转院 <script>"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "closed"
    timeline = operator.client.get(f"/api/incidents/{inc['id']}/timeline").get_json()["events"]
    assert timeline[-1]["type"] == "incident.closed_incomplete"
    assert timeline[-1]["payload"]["reason"] == "患者转院 <script>"
    page = operator.client.get(f"/incidents/{inc['id']}").get_data(as_text=True)
    assert "患者转院 <script>" not in page


def test_clock_cases_and_contacts_over_the_api(operator):
    mf.facility(kind="isolation_point", name="隔离点甲",
                initial={"figures": {"isolation_room": {"capacity": 3, "occupied": 0}}})
    found = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    inc = operator.post_json("/api/incidents", GOOD | {"type": "confirmed_case",
                                                       "found_at": found}).get_json()
    at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    resp = operator.post_json(f"/api/incidents/{inc['id']}/clocks",
                              {"clock": "diagnosed_at", "at": at})
    assert resp.status_code == 200 and resp.get_json()["clocks"]["diagnosed"]
    resp = operator.post_json(f"/api/incidents/{inc['id']}/cases", {"lon": 113.2, "lat": 41.0})
    assert resp.status_code == 201
    resp = operator.post_json(f"/api/incidents/{inc['id']}/contacts", {
        "name": "李娜", "id_number": "150902199001011234",
        "last_exposure": (datetime.now(UTC) - timedelta(days=2)).isoformat()})
    assert resp.status_code == 201
    contact = resp.get_json()
    assert contact["id_number"] == "150***********1234"
    assert operator.client.get(f"/api/contacts/{contact['id']}").get_json()[
        "id_number"] == "150902199001011234"
    listed = operator.client.get("/api/contacts").get_json()["contacts"]
    assert listed[0]["id_number"] == "150***********1234"
    resp = operator.post_json(f"/api/contacts/{contact['id']}/isolate", {})
    assert resp.status_code == 200 and resp.get_json()["isolation_name"] == "隔离点甲"
    page = operator.client.get(f"/incidents/{inc['id']}").text
    assert "150***********1234" in page and "150902199001011234" not in page
    record = operator.client.get(f"/contacts/{contact['id']}").text
    assert "150902199001011234" in record


def test_board_and_incident_pages_render(operator):
    inc = operator.post_json("/api/incidents", GOOD | {"notes": "<script>x</script>"}).get_json()
    board = operator.client.get("/incidents")
    assert board.status_code == 200 and f"#{inc['id']}" in board.text
    page = operator.client.get(f"/incidents/{inc['id']}")
    assert page.status_code == 200
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
    ops = operator.client.get("/ops").text
    assert 'id="incident-form"' in ops and "js/incidents.js" in ops


def test_page_forms_change_status_and_clocks(operator):
    inc = operator.post_json("/api/incidents", GOOD).get_json()
    page = operator.client.get(f"/incidents/{inc['id']}")
    from .support import csrf_from

    token = csrf_from(page.text)
    resp = operator.client.post(f"/incidents/{inc['id']}/status", data={
        "csrf_token": token, "status": "verified", "version": inc["version"]})
    assert resp.status_code == 302
    assert mf.get(Incident, inc["id"]).status == "verified"
    operator.client.post(f"/incidents/{inc['id']}/status", data={
        "csrf_token": token, "status": "at_hospital"})
    assert mf.get(Incident, inc["id"]).status == "verified"  # skipping refused
    resp = operator.client.post(f"/incidents/{inc['id']}/clocks", data={
        "csrf_token": token, "clock": "treated_at", "at": "2099-01-01T10:00"})
    assert mf.get(Incident, inc["id"]).treated_at is None  # future refused
    shanghai = ZoneInfo("Asia/Shanghai")
    when = (datetime.now(UTC) + timedelta(minutes=1)).astimezone(shanghai).replace(
        second=0, microsecond=0)
    operator.client.post(f"/incidents/{inc['id']}/clocks", data={
        "csrf_token": token, "clock": "diagnosed_at", "at": when.strftime("%Y-%m-%dT%H:%M")})
    # Interpreted in the command room's zone (Asia/Shanghai), stored in UTC.
    assert mf.get(Incident, inc["id"]).diagnosed_at == when.astimezone(UTC)


def test_trainer_reads_but_cannot_log(make_user, auth):
    make_user("trainer", username="tr1")
    auth.login("tr1")
    assert auth.client.get("/incidents").status_code == 200
    assert auth.post_json("/api/incidents", GOOD).status_code == 403
    assert count(Incident) == 0


def test_places_to_pick_travel_as_json_not_inline(operator):
    mf.facility(name="集宁区发热门诊", lon=113.11, lat=41.01)
    body = operator.client.get("/api/incident-places").get_json()
    [clinic] = [p for p in body["places"] if p["name"] == "集宁区发热门诊"]
    assert (clinic["lon"], clinic["lat"]) == (113.11, 41.01)
    assert "集宁区发热门诊" not in operator.client.get("/ops").text


def test_the_ops_dialog_offers_each_datum_and_the_api_converts_it(operator):
    """Coordinates copied from Baidu or AMap are typed into the command room's dialog with
    their datum; the incident lands where WGS-84 puts it, not ~500 m off."""
    from coordination.geo.datums import Datum, to_wgs84

    page = operator.client.get("/ops")
    assert page.status_code == 200 and '<select name="crs">' in page.text
    for value in ("wgs84", "gcj02", "bd09"):
        assert f'<option value="{value}"' in page.text
    assert "BD-09（百度地图）" in page.text  # the zh-CN default names it
    inc = operator.post_json("/api/incidents", GOOD | {"crs": "bd09"}).get_json()
    lon, lat = to_wgs84(GOOD["lon"], GOOD["lat"], Datum.BD09)
    assert abs(inc["lon"] - lon) < 1e-6 and abs(inc["lat"] - lat) < 1e-6
    assert abs(inc["lon"] - GOOD["lon"]) > 1e-3
