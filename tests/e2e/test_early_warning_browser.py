"""Early warning in headless Chromium against a real demo server: a plague case phoned in
raises an early-warning alert on the command room with the plan and level the plan's own
criteria give, and one click activates the plan for the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ..support import login_session
from .test_ops_browser import LIVE_MS, assert_stayed_local, expect, open_ops, zh

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIZIWANG = (111.72, 41.54)  # 四子王旗


def _log_plague(session: Any, base: str) -> dict[str, Any]:
    found = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    resp = session.post(base + "/api/incidents", timeout=10, json={
        "type": "suspected_case", "disease": "plague", "lon": SIZIWANG[0], "lat": SIZIWANG[1],
        "patients": 1, "address": "四子王旗 白音敖包苏木", "found_at": found,
        "reporter": "苏木卫生院", "phone": "0474-5200000"})
    assert resp.status_code == 201, resp.text[:300]
    return resp.json()


def test_an_early_warning_appears_on_the_command_room_and_activates_its_plan(
        new_context, demo_server, network):
    base = demo_server.url
    context, page = open_ops(new_context, base)
    page.set_viewport_size({"width": 1920, "height": 1080})
    api = login_session(base, "operator", "operator-demo")
    incident = _log_plague(api, base)
    ref = f"#{incident['id']}"
    # Live: the alert arrives on the open page without a reload.
    # The single class-A case's alert (the banner's count may trip its own, with the
    # demo's plague case in it).
    alert = page.locator("#panel-alerts li[data-kind=early_warning]").filter(
        has=page.locator(".alert-incidents button", has_text=ref)).filter(
        has_text="甲类及按甲类管理传染病病例")
    expect(alert).to_have_count(1, timeout=LIVE_MS)
    expect(alert.locator(".alert-title")).to_contain_text("四子王旗")
    expect(alert.locator(".alert-suggestion")).to_contain_text("人间鼠疫病例应急处置预案")
    expect(alert.locator(".alert-suggestion")).to_contain_text("IV")
    expect(alert.locator(".alert-basis")).to_contain_text("发现疑似人间鼠疫病例")
    assert "plague" not in alert.inner_text() and "class-a-case" not in alert.inner_text()
    page.screenshot(path="/tmp/warn21b-ops-zh-1920.png")
    page.locator("#panel-alerts").screenshot(path="/tmp/warn21b-alert-zh.png")
    button = alert.locator("button.activate-btn")
    expect(button).to_have_text(zh("Activate the plan at level %(level)s") % {"level": "IV"})
    button.click()
    notice = page.locator("#panel-alerts .alert-notice")
    expect(notice).to_contain_text(
        zh("Plan activated (activation %(id)s).").split("（")[0], timeout=LIVE_MS)
    page.screenshot(path="/tmp/warn21b-ops-activated-zh.png")
    # The activation names the case; the alert is acted on by the operator who clicked.
    every = api.get(base + "/api/alerts?all=1", timeout=10).json()["alerts"]
    [acted] = [a for a in every if a["kind"] == "early_warning"
               and a["suggestion"]["incidents"] == [incident["id"]]]
    assert acted["open"] is False and acted["acked_by"].startswith("王芳")
    activation_id = acted["suggestion"]["activation_id"]
    view = api.get(base + f"/api/plans/activations/{activation_id}", timeout=10)
    assert view.status_code == 200, view.text[:300]
    body = view.json()
    assert body["plan_id"] == "plague-human-case" and body["level"] == "IV"
    assert body["subject_ref"] == str(incident["id"])
    # The feed says who activated what, in Chinese.
    expect(page.locator("#feed-list > li").filter(has_text="人间鼠疫病例应急处置预案").first
           ).to_be_visible(timeout=LIVE_MS)
    # And the alert leaves the list of open ones; the notice links to the activation.
    expect(alert).to_have_count(0, timeout=LIVE_MS)
    assert notice.locator("a").get_attribute("href") == f"/plans/activations/{activation_id}"
    assert_stayed_local(network)


def test_the_alert_reads_in_english_on_a_phone(new_context, demo_server):
    base = demo_server.url
    api = login_session(base, "operator", "operator-demo")
    incident = _log_plague(api, base)
    context, page = open_ops(new_context, base)
    with page.expect_navigation():
        page.locator(".locale-form button[value=en]").click()
    page.locator("html[lang^='en']").wait_for(state="attached")
    page.set_viewport_size({"width": 390, "height": 844})
    alert = page.locator("#panel-alerts li[data-kind=early_warning]").filter(
        has=page.locator(".alert-incidents button", has_text=f"#{incident['id']}")).filter(
        has_text="A case of a class-A disease")
    expect(alert).to_have_count(1, timeout=LIVE_MS)
    expect(alert.locator(".alert-title")).to_contain_text("Siziwang Banner")
    expect(alert.locator(".alert-suggestion")).to_contain_text("Human plague case response plan")
    expect(alert.locator("button.activate-btn")).to_have_text("Activate the plan at level IV")
    alert.scroll_into_view_if_needed()
    page.locator("#panel-alerts").screenshot(path="/tmp/warn21b-alert-en-phone.png")
    with page.expect_navigation():  # the language is the account's: back to zh-CN for the next
        page.locator(".locale-form button[value=zh_CN]").click()
    page.locator("html[lang^='zh']").wait_for(state="attached")


def test_closing_from_the_drawer_asks_for_the_clocks_or_a_reason(new_context, demo_server):
    base = demo_server.url
    api = login_session(base, "operator", "operator-demo")
    incident = _log_plague(api, base)
    rec = api.get(base + f"/api/incidents/{incident['id']}/recommendation", timeout=10).json()
    unit = rec["units"][0]["unit_id"]
    assert api.post(base + f"/api/incidents/{incident['id']}/dispatch", json={"unit_id": unit},
                    timeout=10).status_code == 201
    for status in ("on_scene", "transporting", "at_hospital"):
        resp = api.post(base + f"/api/incidents/{incident['id']}/status",
                        json={"status": status}, timeout=10)
        assert resp.status_code == 200, resp.text[:300]
    context, page = open_ops(new_context, base)
    # The incident page shows the same gaps and takes the reason.
    page.goto(base + f"/incidents/{incident['id']}")
    expect(page.locator("#close-gaps [data-clock=treated]")).to_have_text("治疗（早治疗）")
    expect(page.locator("#close-gaps textarea[name=reason]")).to_be_visible()
    page.locator("#close-gaps").screenshot(path="/tmp/warn21b-incident-close-zh.png")
    page.goto(base + "/ops")
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    page.evaluate(f"Coordination.ops.openDrawer({incident['id']})")
    form = page.locator("#drawer-close-form")
    expect(form).to_be_visible(timeout=LIVE_MS)
    gaps = page.locator("#drawer-close-gaps .tag")
    expect(gaps).to_have_count(3)
    expect(gaps.nth(1)).to_have_text("诊断（早诊断）")
    form.locator("button[type=submit]").click()
    msg = page.locator("#drawer-close-msg")
    expect(msg).to_contain_text("治疗（早治疗）", timeout=LIVE_MS)
    assert "treated" not in msg.inner_text()
    page.locator("#ops-drawer").screenshot(path="/tmp/warn21b-drawer-close-zh.png")
    form.locator("textarea[name=reason]").fill("患者转自治区定点医院，后续时间由该院记录")
    form.locator("button[type=submit]").click()
    expect(page.locator("#drawer-meta")).to_contain_text(zh("Closed"), timeout=LIVE_MS)
    expect(form).to_be_hidden()
    expect(page.locator("#drawer-timeline li").filter(has_text="患者转自治区定点医院")
           ).to_have_count(1, timeout=LIVE_MS)
    timeline = api.get(base + f"/api/incidents/{incident['id']}/timeline", timeout=10).json()
    assert timeline["events"][-1]["type"] == "incident.closed_incomplete"
