"""The coverage view in headless Chromium against a real demo server: it renders
offline with a circle per centre, the what-if changes it, and it prints on one page."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CIRCLES = """() => {
  const cfg = JSON.parse(document.getElementById('coverage-config').textContent);
  const circles = window[cfg.layers.circles].getLayers().filter(l => l instanceof L.Circle);
  return {n: circles.length, radii: [...new Set(circles.map(c => c.getRadius()))],
          onMap: circles.filter(c => window[cfg.map].hasLayer(c)).length};
}"""


def _signed_in(new_context: Any, base: str) -> tuple[Any, Any, list[str]]:
    context = new_context()
    failed: list[str] = []
    context.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
               else None)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "operator-demo")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/ops$"))
    return context, page, failed


def _open(page: Any, url: str) -> dict[str, int]:
    page.goto(url)
    page.wait_for_selector("#coverage-map[data-state=ready]", state="attached", timeout=20000)
    return page.evaluate("Coordination.coverage.counts()")


def test_coverage_renders_offline_with_a_circle_per_centre(new_context, demo_server, network):
    context, page, failed = _signed_in(new_context, demo_server.url)
    counts = _open(page, demo_server.url + "/coverage")
    data = page.evaluate("JSON.parse(document.getElementById('coverage-data').textContent)")
    # The demo: ~60 township health centres and 11 EMS stations, each with its 30 km circle.
    assert len(data["centres"]) >= 70
    circles = page.evaluate(CIRCLES)
    assert circles == {"n": len(data["centres"]), "radii": [30000], "onMap": circles["n"]}
    assert counts["circles"] == counts["centres"] == len(data["centres"])
    assert counts["uncovered"] == len(data["uncovered"]) and counts["seats"] == 11
    assert page.locator(".leaflet-overlay-pane canvas").count() >= 1
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-tile").count() == 0
    # The attribution credits Leaflet as text, with no link to another host.
    assert page.locator(".leaflet-control-attribution a").count() == 0
    assert "Leaflet" in page.locator(".leaflet-control-attribution").inner_text()
    rows = page.locator("#coverage-table tbody tr")
    assert rows.count() == 11
    assert page.locator("#coverage-total").inner_text().strip()
    page.screenshot(path="/tmp/coverage-e2e.png")
    # What-if: a 5 km radius leaves far more places outside, and the page says so.
    page.fill("input[name=radius_township_health_centre]", "5")
    page.click(".coverage-form button[type=submit]")
    page.wait_for_selector("#coverage-map[data-state=ready]", state="attached", timeout=20000)
    assert "radius_township_health_centre=5" in page.url
    tighter = page.evaluate("Coordination.coverage.counts()")
    assert tighter["uncovered"] > counts["uncovered"]
    assert sorted(page.evaluate(CIRCLES)["radii"]) == [5000, 30000]  # EMS keep 30 km
    assert page.evaluate("() => [...document.querySelectorAll('link[rel=icon]')].length") == 1
    context.close()
    assert failed == [], failed
    assert network.foreign() == [] and network.page_errors == []


def test_coverage_prints_on_one_landscape_page(new_context, demo_server):
    context, page, _failed = _signed_in(new_context, demo_server.url)
    _open(page, demo_server.url + "/coverage")
    page.emulate_media(media="print")
    page.evaluate("Coordination.coverage.fit()")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator(".coverage-form").is_visible()
    for visible in ("#coverage-title", ".coverage-when", ".coverage-legend", "#coverage-table",
                    "#coverage-map"):
        assert page.locator(visible).is_visible(), visible
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    # A4 landscape: 842 x 595 points.
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    assert box and round(float(box.group(1))) == 842 and round(float(box.group(2))) == 595
    page.emulate_media(media="screen")
    _open(page, demo_server.url + "/coverage?paper=a3")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    assert box and round(float(box.group(1))) == 1191 and round(float(box.group(2))) == 842
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    context.close()
