"""The GIS layer upload page in headless Chromium: preview, import, and the open map reloads."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSV = ("编号,名称,经度,纬度,isolation_room_capacity\n"
       "E2E-FC-1,浏览器导入发热门诊一,113.30,41.20,5\n"
       "E2E-FC-2,<b>浏览器导入二</b>,113.31,41.21,3\n").encode()


def _login(context: Any, base: str) -> Any:
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "operator-demo")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    return page


def test_upload_page_previews_imports_and_the_map_reloads(demo_server, new_context, network):
    base = demo_server.url
    ops = _login(new_context(), base)
    ops.goto(base + "/ops")
    ops.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=20000)
    ops.wait_for_selector("#conn-state[data-state=live]", timeout=20000)
    before = ops.evaluate("Coordination.livemap.counts()")["facilities"]

    gis = _login(new_context(), base)
    gis.click("nav.mainnav a[href='/layers']")
    gis.wait_for_selector("#layer-form")
    gis.select_option("select[name=kind]", "fever_clinic")
    gis.set_input_files("input[name=file]", files=[
        {"name": "clinics.csv", "mimeType": "text/csv", "buffer": CSV}])
    gis.click("button[name=preview]")
    gis.wait_for_selector("#layer-result")
    assert gis.locator("#layer-result tbody tr").count() == 2
    assert "<b>浏览器导入二</b>" in gis.inner_text("#layer-result")  # shown as text
    assert ops.evaluate("Coordination.livemap.counts()")["facilities"] == before

    gis.set_input_files("input[name=file]", files=[
        {"name": "clinics.csv", "mimeType": "text/csv", "buffer": CSV}])
    gis.click("#layer-form button.primary")
    gis.wait_for_selector("#layer-result")
    assert gis.locator("#layer-result tbody tr").count() == 2
    # The facilities.loaded event makes the open map fetch the layer again.
    ops.wait_for_function(f"() => Coordination.livemap.counts().facilities === {before + 2}",
                          timeout=10000)

    bad = CSV.replace(b"113.31,41.21", b"41.21,113.31")
    gis.set_input_files("input[name=file]", files=[
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    gis.click("#layer-form button.primary")
    gis.wait_for_selector("#layer-problems")
    assert gis.locator("#layer-problems tbody tr").count() == 1
    assert gis.inner_text("#layer-problems tbody tr td:first-child") == "3"

    link = gis.locator("#layer-downloads a[href='/api/layers/fever_clinic.geojson']")
    assert link.count() == 1
    body = gis.request.get(base + "/api/layers/fever_clinic.geojson").json()
    assert {"E2E-FC-1", "E2E-FC-2"} <= {f["id"] for f in body["features"]}
    assert network.foreign() == [] and network.page_errors == []
