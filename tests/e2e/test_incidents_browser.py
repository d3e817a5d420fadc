"""Incidents in headless Chromium against a real demo server, two operators at once.

Operator one clicks the live map to place an incident, logs it, and dispatches
the recommended ambulance with one click; operator two, in a browser of their
own, sees the incident appear and the ambulance change colour, and the board
shows it live. A second dispatch of the same unit is refused with who got it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from ..support import login_session, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any, databases: Any) -> Any:
    if os.environ.get("COORDINATION_TEST_DATABASE_URL"):
        url = databases.postgres()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('inc') / 'db.sqlite'}"
    srv = start_server(database_url=url, instance=tmp_path_factory.mktemp("inc-inst"),
                       demo=True)
    from coordination import create_app
    from coordination.auth import service as auth_service
    from coordination.events import Actor
    from coordination.extensions import db

    create_app({"instance_path": tmp_path_factory.mktemp("inc-setup"), "database_url": url,
                "secret_key": "t", "redis_url": None})
    auth_service.create_user(username="operator2", display_name="第二值班员",
                             password="operator2-demo", roles=["operator"],
                             actor=Actor.system("test"))
    db.dispose()
    yield srv
    srv.stop()


def _open(browser: Any, base: str, user: str, password: str, log: Any,
          path: str = "/ops") -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    log.attach(context)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    if path != "/ops":
        page.goto(base + path)
    else:
        page.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=30000)
    page.wait_for_selector("#conn-state[data-state=live]", timeout=30000)
    return context, page


def test_log_on_the_map_dispatch_and_watch_it_on_another_operators_screen(
        browser, server, requests_seen):
    ctx1, one = _open(browser, server.url, "operator", "operator-demo", requests_seen)
    ctx2, two = _open(browser, server.url, "operator2", "operator2-demo", requests_seen)
    ctx3, board = _open(browser, server.url, "operator2", "operator2-demo", requests_seen,
                        path="/incidents")

    # Open the logging dialog (key N), then click the map (a real mouse click) to place
    # the incident.
    one.keyboard.press("n")
    one.wait_for_selector("#incident-dialog[open]")
    box = one.locator("#livemap .folium-map").bounding_box()
    target = one.evaluate(
        "() => { const m = Coordination.livemap.map; const c = m.getSize();"
        " const p = L.point(c.x * 0.42, c.y * 0.58); const ll = m.containerPointToLatLng(p);"
        " return {x: p.x, y: p.y, lat: ll.lat, lng: ll.lng}; }")
    one.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    lon = float(one.input_value("#incident-form input[name=lon]"))
    lat = float(one.input_value("#incident-form input[name=lat]"))
    assert lon == pytest.approx(target["lng"], abs=0.02)  # within a few pixels
    assert lat == pytest.approx(target["lat"], abs=0.02)

    one.select_option("#incident-form select[name=type]", "mass_casualty")
    one.fill("#incident-form input[name=patients]", "4")
    one.fill("#incident-form input[name=reporter]", "<b>张</b>伟")
    one.fill("#incident-form input[name=phone]", "13800000000")
    one.click("#incident-form button[type=submit]")
    # Logged: the dialog closes and the incident opens in the drawer beside the map.
    one.wait_for_selector("#ops-drawer:not([hidden])", timeout=10000)
    button = one.locator("#incident-recommend .dispatch-btn").first
    button.wait_for(timeout=10000)
    unit_id = int(button.get_attribute("data-unit"))
    incident_id = int(one.locator("#incident-recommend").get_attribute("data-incident"))

    # Operator two sees the new incident on the map and on the board at once.
    two.wait_for_function(f"() => Coordination.incidents.marker({incident_id}) !== null",
                          timeout=10000)
    board.wait_for_selector(f"#incident-rows tr[data-id='{incident_id}']", timeout=10000)
    assert "unit-available" in two.evaluate(
        f"Coordination.livemap.unit({unit_id}).className")

    button.click()
    one.wait_for_function(
        "() => { const m = document.querySelector('#incident-recommend .dispatch-msg');"
        " return m && m.textContent.length > 0; }", timeout=10000)
    # The ambulance changes colour on the other operator's map, the incident turns
    # dispatched, and the board lists the unit.
    two.wait_for_function(
        f"() => Coordination.livemap.unit({unit_id}).className.includes('unit-dispatched')",
        timeout=10000)
    two.wait_for_function(
        f"() => Coordination.incidents.marker({incident_id}).status === 'dispatched'",
        timeout=10000)
    call_sign = two.evaluate(f"Coordination.livemap.unit({unit_id}).props.call_sign")
    board.wait_for_function(
        "([id, sign]) => { const r = document.querySelector(`#incident-rows tr[data-id='${id}']`);"
        " return r && r.textContent.includes(sign); }", arg=[incident_id, call_sign],
        timeout=10000)
    # The popup shows the reporter's markup as text.
    assert two.evaluate(f"Coordination.incidents.open({incident_id})")
    popup = two.locator(".leaflet-popup-content .popup-incident")
    popup.wait_for(timeout=5000)
    assert "<b>张</b>伟" in popup.inner_text() and call_sign in popup.inner_text()
    assert popup.locator("b").count() == 0

    # Operator two tries the same ambulance for another incident: refused, naming who got it.
    api = login_session(server.url, "operator2", "operator2-demo")
    other = api.post(server.url + "/api/incidents", json={
        "type": "food_poisoning", "lon": lon, "lat": lat, "patients": 3})
    assert other.status_code == 201
    resp = api.post(server.url + f"/api/incidents/{other.json()['id']}/dispatch",
                    json={"unit_id": unit_id})
    assert resp.status_code == 409
    assert f"#{incident_id}" in resp.json()["error"]

    # The incident page shows the timeline and the five clocks.
    one.goto(server.url + f"/incidents/{incident_id}")
    one.wait_for_selector("#timeline li", timeout=10000)
    types = one.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.type)")
    assert types[:1] == ["incident.reported"] and "incident.unit_dispatched" in types
    assert one.locator("#clocks tbody tr").count() == 5
    assert "<b>张</b>伟" in one.inner_text("main")
    for ctx in (ctx1, ctx2, ctx3):
        ctx.close()
    assert requests_seen.page_errors == []
    assert requests_seen.foreign() == []
