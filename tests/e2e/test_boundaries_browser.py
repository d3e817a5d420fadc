"""The map's administrative boundaries in headless Chromium (no tile server configured)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_boundaries_draw_offline_and_city_label_clears_its_district(
        demo_server: Any, new_context: Any, network: Any) -> None:
    page = new_context().new_page()
    page.goto(demo_server.url + "/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "operator-demo")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=20000)
    # 11 banners/counties/districts + the city + the province outline, as SVG paths
    outlines = page.evaluate("""() => {
        const m = Coordination.livemap.map; let n = 0;
        m.eachLayer(l => { if (l.feature && l.feature.geometry &&
                               l.feature.geometry.type.endsWith('Polygon')) n++; });
        return n; }""")
    assert outlines >= 13
    labels = page.evaluate("""() => {
        const out = {};
        document.querySelectorAll('.seat-tooltip').forEach(t => {
            const r = t.getBoundingClientRect();
            out[t.textContent] = [r.left, r.top, r.right, r.bottom]; });
        return out; }""")
    city, district = labels["乌兰察布市"], labels["集宁区"]
    overlap = not (city[2] <= district[0] or district[2] <= city[0]
                   or city[3] <= district[1] or district[3] <= city[1])
    assert not overlap, (city, district)
    assert network.foreign() == [] and network.page_errors == []


def test_clicking_a_facility_marker_opens_its_popup(demo_server: Any, new_context: Any) -> None:
    """Popups are bound on first touch: a real click on the canvas still opens one."""
    page = new_context().new_page()
    page.goto(demo_server.url + "/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "operator-demo")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=20000)
    target = page.evaluate("""() => {
        const lm = Coordination.livemap;
        for (let id = 1; id < 500; id++) {
            const f = lm.facility(id);
            if (f && f.props.kind === 'designated_hospital') {
                lm.map.setView([f.lat, f.lng], 13, {animate: false});
                const p = lm.map.latLngToContainerPoint([f.lat, f.lng]);
                const box = lm.map.getContainer().getBoundingClientRect();
                return {x: box.left + p.x, y: box.top + p.y, name: f.props.name};
            }
        }
        return null; }""")
    assert target is not None
    page.wait_for_timeout(300)
    page.mouse.click(target["x"], target["y"])
    popup = page.locator(".leaflet-popup-content h3")
    popup.wait_for(timeout=5000)
    assert popup.inner_text() == target["name"]
