"""The live map in headless Chromium against a real demo server: layers, moves, popups."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from ..support import login_session, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">发热门诊'


@pytest.fixture(scope="module")
def map_server(tmp_path_factory: Any, databases: Any) -> Any:
    if os.environ.get("COORDINATION_TEST_DATABASE_URL"):
        url = databases.postgres()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('map') / 'db.sqlite'}"
    server = start_server(database_url=url, instance=tmp_path_factory.mktemp("map-inst"),
                          demo=True)
    server.database_url = url  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def xss_facility(map_server: Any, tmp_path_factory: Any) -> int:
    """A facility whose name is markup, written straight into the server's database."""
    from sqlalchemy import select

    from coordination import create_app
    from coordination.events import Actor
    from coordination.extensions import db
    from coordination.facilities.models import Facility
    from coordination.facilities.schemas import NewFacility
    from coordination.facilities.service import create_facilities

    app = create_app({"instance_path": tmp_path_factory.mktemp("xss-inst"),
                      "database_url": map_server.database_url, "secret_key": "t",
                      "redis_url": None})
    with app.app_context():
        create_facilities(items=[NewFacility(
            code="XSS-1", name=XSS, kind="fever_clinic", lon=113.2, lat=41.1,
            contact_name="<b>王</b>", initial={"figures": {"general_bed": {"capacity": 3,
                                                                          "occupied": 1}}})],
            actor=Actor.system("test"), region=None)
        with db.reading() as s:
            ident = s.scalars(select(Facility.id).where(Facility.code == "XSS-1")).one()
    db.dispose()
    return ident


def _open_map(browser: Any, base: str, requests_seen: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requests_seen.attach(context)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "operator-demo")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=20000)
    page.wait_for_selector("#conn-state[data-state=live]", timeout=20000)
    return context, page


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def test_map_renders_every_layer_and_asks_no_other_host(browser, map_server, requests_seen,
                                                         xss_facility):
    context, page = _open_map(browser, map_server.url, requests_seen)
    counts = page.evaluate("Coordination.livemap.counts()")
    assert counts["facilities"] >= 100 and counts["units"] == 20 and counts["places"] >= 300
    # One toggle per facility kind, populated places, ambulances, the area seats and
    # the administrative boundaries, and the venues of major events in progress.
    page.hover(".leaflet-control-layers")
    overlays = page.locator(".leaflet-control-layers-overlays label")
    assert overlays.count() == 13
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator(".unit-icon.unit-np").count() == 4  # negative pressure stands out
    assert page.locator(".seat-tooltip").count() == 12      # no tiles: the seats still show
    assert page.locator(".leaflet-tile").count() == 0
    for ident in ("feed-list", "dutylog-form", "dutylog-list"):
        assert page.locator(f"#{ident}").count() == 1
    page.screenshot(path="/tmp/ops-map-e2e.png")
    context.close()
    assert requests_seen.foreign() == []


def test_a_position_posted_over_the_api_moves_the_marker(browser, map_server, requests_seen):
    context, page = _open_map(browser, map_server.url, requests_seen)
    # 乌120-05: a unit the demo's running situation leaves alone (03 is on a call).
    tracker = login_session(map_server.url, "operator", "operator-demo")
    before = page.evaluate("Coordination.livemap.unit(5)")
    resp = tracker.post(map_server.url + "/api/positions", json={
        "positions": [{"unit": 5, "lon": 113.4321, "lat": 41.2345, "at": _now()}]})
    assert resp.status_code == 201, resp.text
    page.wait_for_function(
        "() => { const u = Coordination.livemap.unit(5);"
        " return Math.abs(u.lng - 113.4321) < 1e-6 && Math.abs(u.lat - 41.2345) < 1e-6; }",
        timeout=5000)
    assert before["lng"] != 113.4321
    # A status change recolours it in place.
    resp = tracker.post(map_server.url + "/api/units/5/status", json={"status": "en_route"})
    assert resp.ok, resp.text
    page.wait_for_function("() => Coordination.livemap.unit(5).className.includes('unit-en_route')",
                           timeout=5000)
    # Clicking a unit shows call sign, crew, status history and its track.
    page.evaluate("Coordination.livemap.openUnit(5)")
    popup = page.locator(".leaflet-popup-content .popup-unit")
    popup.locator(".popup-history li").first.wait_for(timeout=5000)
    text = popup.inner_text()
    crew = page.evaluate("Coordination.livemap.unit(5).props.crew")
    assert "乌120-05" in text and crew[0] in text
    assert popup.locator(".popup-history li").count() == 2
    context.close()
    assert requests_seen.foreign() == []


def test_a_capacity_report_changes_the_open_popup(browser, map_server, requests_seen):
    context, page = _open_map(browser, map_server.url, requests_seen)
    staff = login_session(map_server.url, "operator", "operator-demo")
    assert page.evaluate("Coordination.livemap.openFacility(1)")
    popup = page.locator(".leaflet-popup-content .popup-facility")
    popup.wait_for(timeout=5000)
    resp = staff.post(map_server.url + "/api/facilities/1/capacity", json={
        "status": "full", "figures": {"isolation_room": {"capacity": 77, "occupied": 77}}})
    assert resp.status_code == 201, resp.text
    row = popup.locator("tr[data-kind=isolation_room]")
    page.wait_for_function(
        "() => { const r = document.querySelector("
        "'.leaflet-popup-content tr[data-kind=isolation_room]');"
        " return r && r.textContent.includes('77'); }", timeout=5000)
    assert row.locator("td").nth(1).inner_text() == "77"
    assert popup.locator(".fstatus-full").count() == 1
    assert page.evaluate("Coordination.livemap.facility(1).fill") == "#c62828"
    context.close()


def test_a_facility_name_with_markup_shows_as_text(browser, map_server, requests_seen,
                                                    xss_facility):
    context, page = _open_map(browser, map_server.url, requests_seen)
    assert page.evaluate(f"Coordination.livemap.openFacility({xss_facility})")
    popup = page.locator(".leaflet-popup-content .popup-facility")
    popup.wait_for(timeout=5000)
    assert popup.locator("h3").inner_text() == XSS
    assert "<b>王</b>" in popup.inner_text()
    assert popup.locator("script, img, b").count() == 0
    assert page.evaluate("window.__xss") is None
    context.close()


def test_the_layers_need_the_map_permission(map_server):
    s = login_session(map_server.url, "liaison", "liaison-demo")
    assert s.get(map_server.url + "/api/map/facilities").status_code == 403
    assert requests.get(map_server.url + "/api/map/units", timeout=5).status_code == 401
