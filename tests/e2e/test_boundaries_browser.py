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
