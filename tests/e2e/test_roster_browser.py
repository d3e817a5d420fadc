"""A liaison officer on a phone-sized Chromium acknowledges a task with one tap and the
operator's browser shows it live; an acknowledgement made offline is queued on the phone
and sent once the connection is back, counted once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from .test_ops_browser import LIVE_MS, sign_in

pytestmark = [pytest.mark.e2e]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def _send_task(page: Any, base: str, title: str) -> str:
    page.goto(f"{base}/tasks")
    form = page.locator("#task-form")
    form.locator("select[name=agency_code]").select_option("cdc")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=details]").fill("<b>不要</b> 渲染 HTML")
    form.locator("input[name=incident_ref]").fill("E2E-鼠疫-01")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/tasks/*")
    page.locator("#conn-state[data-state=live]").wait_for(timeout=LIVE_MS)
    return page.url.rstrip("/").rsplit("/", 1)[1]


def _acks(database_url: str, task_id: str) -> int:
    engine = create_engine(database_url.replace("sqlite:///", "sqlite:///", 1))
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM events WHERE type = 'task.acknowledged' "
                "AND subject_id = :id"), {"id": task_id}).scalar_one()
    finally:
        engine.dispose()


def test_officer_acknowledges_on_a_phone_and_the_operator_sees_it_live(
        demo_server: Any, new_context: Any, network: Any) -> None:
    base = demo_server.url
    phone_ctx = new_context(**PHONE)
    phone = phone_ctx.new_page()
    sign_in(phone, base, "liaison", "liaison-demo")
    phone.goto(f"{base}/my/tasks")
    phone.locator("#conn-state[data-state=live]").wait_for(timeout=LIVE_MS)

    desk = new_context().new_page()
    sign_in(desk, base, "operator", "operator-demo")
    task_id = _send_task(desk, base, "E2E 流调任务一")
    status = desk.locator("#task-detail .task-status")
    assert status.get_attribute("data-status") == "open"

    card = phone.locator(f'.task-card[data-task="{task_id}"]')
    card.wait_for(timeout=LIVE_MS)  # arrived live on the phone
    assert card.locator(".t-details").text_content() == "<b>不要</b> 渲染 HTML"
    button = card.locator(".t-ack")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300  # thumb-sized
    button.tap()
    desk.locator('#task-detail .task-status[data-status="acknowledged"]').wait_for(
        timeout=LIVE_MS)
    phone.locator(f'.task-card[data-task="{task_id}"][data-status="acknowledged"]').wait_for(
        timeout=LIVE_MS)
    assert _acks(demo_server.database_url, task_id) == 1

    # A weak connection: the tap is kept on the phone and sent when it is back.
    second = _send_task(desk, base, "E2E 流调任务二")
    card = phone.locator(f'.task-card[data-task="{second}"]')
    card.wait_for(timeout=LIVE_MS)
    phone_ctx.set_offline(True)
    card.locator(".t-ack").tap()
    phone.locator("#mytasks-pending").wait_for(state="visible", timeout=LIVE_MS)
    queued = phone.evaluate("window.Coordination.myTasks.queue()")
    assert [q["task_id"] for q in queued] == [int(second)]
    phone.wait_for_timeout(1500)
    assert _acks(demo_server.database_url, second) == 0
    phone_ctx.set_offline(False)
    desk.locator('#task-detail .task-status[data-status="acknowledged"]').wait_for(
        timeout=LIVE_MS * 2)
    phone.locator("#mytasks-pending").wait_for(state="hidden", timeout=LIVE_MS)
    # Sending the same key again (a retry whose answer was lost) is still one ack.
    phone.evaluate("""k => fetch('/api/tasks/' + k.id + '/ack', {method: 'POST',
        credentials: 'same-origin', headers: {'Content-Type': 'application/json',
        'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content},
        body: JSON.stringify({key: k.key})})""", {"id": second, "key": queued[0]["key"]})
    phone.wait_for_timeout(500)
    assert _acks(demo_server.database_url, second) == 1
    assert network.page_errors == []
    assert network.foreign() == []
