"""An operator activates a contingency plan in headless Chromium against a real demo
server, and the live checklist follows a level change made elsewhere over the socket."""

from __future__ import annotations

from typing import Any

import pytest

from ..support import json_of, login_session
from .test_ops_browser import LIVE_MS, sign_in

pytestmark = [pytest.mark.e2e]

PLAN = "food-poisoning"


def test_activate_and_watch_the_checklist_follow_a_level_change(demo_server: Any,
                                                                new_context: Any,
                                                                network: Any) -> None:
    base = demo_server.url
    context = new_context()
    page = context.new_page()
    sign_in(page, base, "operator", "operator-demo")
    page.goto(f"{base}/plans/{PLAN}")
    form = page.locator("#activate-form")
    form.locator("select[name=level]").select_option("IV")
    form.locator("input[name=subject_ref]").fill("E2E-食物中毒-01")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/plans/activations/*")
    rows = page.locator("#checklist-body tr")
    before = rows.count()
    assert before > 0
    assert page.locator('#checklist-body tr[data-task="trace-supply"]').count() == 0
    page.wait_for_function("window.Coordination && window.Coordination.live")
    page.locator("#conn-state[data-state=live]").wait_for(timeout=LIVE_MS)

    activation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    other = login_session(base, "operator", "operator-demo")
    resp = other.post(f"{base}/api/plans/activations/{activation_id}/level",
                      json={"level": "III", "reason": "出现死亡病例"}, timeout=10)
    assert json_of(resp)["added"] == ["trace-supply"]
    page.locator('#checklist-body tr[data-task="trace-supply"]').wait_for(timeout=LIVE_MS)
    assert rows.count() == before + 1
    assert page.locator("#act-level").text_content() == "III"
    assert network.page_errors == []
    assert network.foreign() == []
