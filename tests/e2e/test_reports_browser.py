"""The reports upward in headless Chromium against the real demo server: the initial report
drafted at logging is edited, reviewed and issued from its page by a named person, the
countdown stops, and the exports download; the demo's plague plan at level III now has a
recipient for every task."""

from __future__ import annotations

from typing import Any

import pytest

from ..support import json_of, login_session
from .test_ops_browser import sign_in

pytestmark = [pytest.mark.e2e]

INCIDENT = {"type": "suspected_case", "disease": "plague", "lon": 113.13, "lat": 41.03,
            "patients": 1, "reporter": "赵医生", "phone": "13800000001",
            "address": "集宁区 某卫生院 <发热门诊>"}


def test_report_page_review_issue_and_exports(demo_server: Any, new_context: Any,
                                              network: Any) -> None:
    base = demo_server.url
    api = login_session(base, "operator", "operator-demo")
    inc = json_of(api.post(f"{base}/api/incidents", json=INCIDENT, timeout=10))
    # Before: the demo's plague plan reaches someone with every task at level III.
    pre = json_of(api.get(f"{base}/api/plans/plague-human-case/recipients?level=III",
                          timeout=10))
    assert pre["gaps"] == 0, [t["task_id"] for t in pre["tasks"] if not t["ok"]]

    context = new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, base, "operator", "operator-demo")
    page.goto(f"{base}/incidents/{inc['id']}")
    section = page.locator("#reports-upward")
    section.locator("#upward-list a").first.click()
    page.wait_for_url("**/reports/*")
    page_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert page.locator("#report-status").get_attribute("class").endswith("report-draft")
    figures = page.locator("#report-figures").inner_text()
    assert "集宁区 某卫生院 <发热门诊>" in figures  # shown as text, escaped
    form = page.locator("#report-edit")
    form.locator("textarea[name=measures]").fill("患者已隔离，疫点封锁。")
    form.locator("button[type=submit]").click()
    page.locator("#report-review button").click()
    page.locator("#report-issue input[name=position]").fill("应急办值班长")
    page.locator("#report-issue button").click()
    page.locator("#report-status.report-issued").wait_for(timeout=10_000)
    assert "应急办值班长" in page.locator("#report-issued").inner_text()
    assert page.locator("#report-measures").inner_text() == "患者已隔离，疫点封锁。"
    assert page.locator("#report-edit").count() == 0  # immutable once issued
    page.screenshot(path="/tmp/report21b-report-1440.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/report21b-report-390.png", full_page=True)
    page.goto(f"{base}/incidents/{inc['id']}")
    page.locator("#reports-upward").screenshot(path="/tmp/report21b-incident-390.png")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base}/reports/{page_id}")
    for link, kind in (("#export-pdf", "application/pdf"), ("#export-docx", "officedocument"),
                       ("#export-cap", "application/cap+xml")):
        href = page.locator(link).get_attribute("href")
        got = page.request.get(base + href)
        assert got.status == 200 and kind in got.headers["content-type"]
    one = json_of(api.get(f"{base}/api/incidents/{inc['id']}", timeout=10))
    assert one["clocks"]["reported"] and one["deadline_missed"] is False
    assert network.page_errors == []
    assert network.foreign() == []
