"""The command room during a major event, in headless Chromium against a real demo
server: the venues of the event in progress, their medical posts and the standby
ambulance positions appear in their own toggleable layer of the live map (/ops),
a venue's popup shows its name as text (never as HTML), and an incident logged
at a venue carries the event.

The server reads a plans folder made here: the shipped plans plus an event
whose days include today (the shipped Winter Games file is in the past).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ..support import ROOT_DIR, ServerProcess, json_of, login_session, start_server
from .conftest import demo_database
from .test_ops_browser import sign_in

pytestmark = [pytest.mark.e2e]

CST = timezone(timedelta(hours=8))
EVENT = "e2e-games"
XSS = '<img src=x onerror="window.__xss=1">'
# The RGBA of the map's overlay canvas at a venue's centre (the map draws on canvas).
PIXEL = """
id => {
  const m = window.Coordination.livemap.map;
  const ll = window.Coordination.eventVenues.focus(id);
  const p = m.latLngToContainerPoint(ll);
  const box = m.getContainer().getBoundingClientRect();
  const x = box.left + p.x, y = box.top + p.y;
  for (const canvas of m.getPanes().overlayPane.querySelectorAll("canvas")) {
    const r = canvas.getBoundingClientRect();
    if (x < r.left || y < r.top || x > r.right || y > r.bottom) continue;
    const sx = (x - r.left) * canvas.width / r.width, sy = (y - r.top) * canvas.height / r.height;
    const data = canvas.getContext("2d").getImageData(Math.round(sx), Math.round(sy), 1, 1);
    return Array.from(data.data);
  }
  return null;
}
"""


def _event_yaml() -> str:
    today = datetime.now(CST).date()
    start = f"{today.isoformat()}T00:30:00+08:00"
    end = f"{(today + timedelta(days=1)).isoformat()}T23:00:00+08:00"
    return f"""
id: {EVENT}
version: "1"
title: {{zh: "端到端测试运动会", en: "E2E games"}}
kind: sports_event
plan: major-event-medical-cover
venues:
  - id: stadium
    name: {{zh: '体育中心{XSS}', en: 'Stadium{XSS}'}}
    polygon: [[113.0850, 41.0090], [113.0890, 41.0090], [113.0890, 41.0115], [113.0850, 41.0115]]
    medical_post:
      name: {{zh: 体育中心医疗站, en: Stadium post}}
      lon: 113.0870
      lat: 41.0088
      doctors: 2
      nurses: 2
sessions:
  - id: s1
    venue: stadium
    title: {{zh: 比赛, en: Match}}
    start: {start}
    end: {end}
standby:
  - id: a1
    name: {{zh: 一号待命点, en: Standby 1}}
    lon: 113.0900
    lat: 41.0100
    start: {start}
    end: {end}
"""


@pytest.fixture(scope="module")
def event_server(tmp_path_factory: Any, databases: Any) -> Iterator[ServerProcess]:
    plans = tmp_path_factory.mktemp("e2e-plans") / "plans"
    shutil.copytree(ROOT_DIR / "plans", plans)
    (plans / "events" / f"{EVENT}.yaml").write_text(_event_yaml(), "utf-8")
    url = demo_database(tmp_path_factory, databases, "e2e-events")
    server = start_server(database_url=url, instance=tmp_path_factory.mktemp("e2e-ev-inst"),
                          demo=True, extra_env={"COORDINATION_PLANS_PATH": str(plans)})
    yield server
    server.stop()


def test_the_venues_layer_renders_and_toggles_on_the_live_map(event_server: ServerProcess,
                                                              new_context: Any,
                                                              network: Any) -> None:
    base = event_server.url
    page = new_context().new_page()
    sign_in(page, base, "operator", "operator-demo")
    page.goto(f"{base}/ops")
    page.wait_for_function("() => window.Coordination && window.Coordination.eventVenues "
                           "&& window.Coordination.eventVenues.isLoaded()", timeout=20_000)
    counts = page.evaluate("() => window.Coordination.eventVenues.counts()")
    assert counts["venue"] == 1 and counts["medical_post"] == 1
    assert counts["standby"] == 1
    # Drawn: the map (a canvas) shows the venue's fill at its centre, and not without it.
    assert page.evaluate("id => window.Coordination.eventVenues.focus(id)",
                         f"{EVENT}/venue/stadium")
    page.wait_for_timeout(300)
    with_layer = page.evaluate(PIXEL, f"{EVENT}/venue/stadium")
    # The venue's popup: its name as text, the markup never run.
    assert page.evaluate("id => window.Coordination.eventVenues.open(id)",
                         f"{EVENT}/venue/stadium")
    popup = page.locator(".leaflet-popup-content .venue-popup")
    popup.wait_for(timeout=5_000)
    assert "<img" in popup.locator("strong").text_content()
    assert page.evaluate("() => window.__xss") is None
    # The layer control toggles it like any other layer.
    assert page.evaluate("() => window.Coordination.eventVenues.shown()") is True
    page.locator(".leaflet-control-layers").hover()
    label = page.locator(".leaflet-control-layers-overlays label").filter(
        has_text=page.evaluate("() => JSON.parse(document.getElementById("
                               "'event-venues-config').textContent).layer_name"))
    label.locator("input").click()
    assert page.evaluate("() => window.Coordination.eventVenues.shown()") is False
    page.wait_for_timeout(300)
    without = page.evaluate(PIXEL, f"{EVENT}/venue/stadium")
    assert with_layer != without, (with_layer, without)
    assert with_layer[3] > 0  # something opaque was painted there
    label.locator("input").click()
    assert page.evaluate("() => window.Coordination.eventVenues.shown()") is True

    # An incident logged inside the venue carries the event, and the board says so.
    api = login_session(base, "operator", "operator-demo")
    created = json_of(api.post(f"{base}/api/incidents", json={
        "type": "event_medical", "lon": 113.0870, "lat": 41.0100, "patients": 1}, timeout=10))
    assert created["event_ref"] == EVENT and created["venue_ref"] == "stadium"
    page.goto(f"{base}/incidents")
    row = page.locator(f'#incident-rows tr[data-id="{created["id"]}"]')
    row.wait_for(timeout=10_000)
    assert "<img" in row.text_content()
    page.goto(f"{base}/plans/events/{EVENT}/sitrep")
    assert page.locator("#fig-calls").text_content() == "1"
    assert page.evaluate("() => window.__xss") is None
    assert network.page_errors == []
    assert network.foreign() == []
