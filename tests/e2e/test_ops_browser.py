"""What an operator does, in headless Chromium against a real server with demo data."""

from __future__ import annotations

import uuid

import pytest
import requests
from babel.messages.pofile import read_po

from ..support import ROOT_DIR, login_session, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def zh(msgid: str) -> str:
    """The zh-CN wording of a UI string, read from the catalogue the app uses."""
    path = ROOT_DIR / "coordination/translations/zh_CN/LC_MESSAGES/messages.po"
    with path.open("rb") as f:
        return read_po(f).get(msgid).string


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")


def test_operator_sees_ops_in_chinese_switches_to_english_and_watches_live(
        browser, demo_server, requests_seen):
    from playwright.sync_api import expect

    base = demo_server.url
    context = browser.new_context()
    requests_seen.attach(context)
    page = context.new_page()
    sign_in(page, base, "operator", "operator-demo")
    expect(page).to_have_url(base + "/ops")
    assert page.get_attribute("html", "lang") == "zh-CN"
    expect(page.locator("h2#log-title")).to_have_text(zh("Duty log"))
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live")
    page.screenshot(path="/tmp/ops-zh.png", full_page=True)

    page.click("button[name=locale][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h2#log-title")).to_have_text("Duty log")
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live")

    # Another operator changes something: it appears without a reload.
    other = login_session(base, "operator", "operator-demo")
    text = f"卓资县报告发热病人一例 {uuid.uuid4().hex[:6]}"
    assert other.post(base + "/api/duty-log", json={"text": text, "category": "report"}).ok
    expect(page.locator("#feed-list li").filter(has_text=text)).to_have_count(1)
    expect(page.locator("#dutylog-list li").filter(has_text=text)).to_have_count(1)

    # The page's own form.
    mine = f"交接班 {uuid.uuid4().hex[:6]}"
    page.fill("#dutylog-form textarea[name=text]", mine)
    page.click("#dutylog-form button[type=submit]")
    expect(page.locator("#dutylog-list li").filter(has_text=mine)).to_have_count(1)

    # Remembered on the account: a new browser signing in gets English.
    fresh = browser.new_context()
    requests_seen.attach(fresh)
    page2 = fresh.new_page()
    sign_in(page2, base, "operator", "operator-demo")
    expect(page2.locator("html")).to_have_attribute("lang", "en")
    page.screenshot(path="/tmp/ops-en.png", full_page=True)
    fresh.close()
    context.close()
    assert requests_seen.foreign() == []
    assert any(u.startswith("ws://") and "/socket.io/" in u for u in requests_seen.urls)


def test_user_text_shows_as_text(browser, demo_server, requests_seen):
    from playwright.sync_api import expect

    base = demo_server.url
    context = browser.new_context()
    requests_seen.attach(context)
    page = context.new_page()
    sign_in(page, base, "operator", "operator-demo")
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live")
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    other = login_session(base, "operator", "operator-demo")
    assert other.post(base + "/api/duty-log", json={"text": evil}).ok
    expect(page.locator("#dutylog-list li").filter(has_text="window.__xss=2")).to_have_count(1)
    page.reload()
    expect(page.locator("#dutylog-list li").filter(has_text="window.__xss=2")).to_have_count(1)
    assert page.evaluate("window.__xss") is None
    context.close()
    assert requests_seen.foreign() == []


def test_liaison_is_kept_out_of_the_command_room(browser, demo_server):
    from playwright.sync_api import expect

    base = demo_server.url
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "liaison", "liaison-demo")
    expect(page).to_have_url(base + "/")
    expect(page.locator("#feed-list")).to_be_attached()
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live")
    response = page.goto(base + "/ops")
    assert response is not None and response.status == 403
    context.close()


def test_reconnect_after_server_restart_misses_nothing(browser, tmp_path, databases):
    """Kill the server under an open page, change things meanwhile, come back: all there."""
    from playwright.sync_api import expect

    from .conftest import demo_database

    class _Factory:
        def mktemp(self, name):
            d = tmp_path / name
            d.mkdir()
            return d

    url = demo_database(_Factory(), databases, "restart")
    first = start_server(database_url=url, instance=tmp_path / "inst", demo=True)
    port = first.port
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, first.url, "operator", "operator-demo")
        badge = page.locator("#conn-state")
        expect(badge).to_have_attribute("data-state", "live")
        first.kill()
        expect(badge).to_have_attribute("data-state", "reconnecting", timeout=15000)
        # While the page is away, changes are made through another process on the same data.
        second = start_server(database_url=url, instance=tmp_path / "inst", port=port)
        try:
            s = login_session(second.url, "operator", "operator-demo")
            texts = [f"断线期间 {i} {uuid.uuid4().hex[:4]}" for i in range(5)]
            for t in texts:
                assert s.post(second.url + "/api/duty-log", json={"text": t}).ok
            expect(badge).to_have_attribute("data-state", "live", timeout=20000)
            for t in texts:
                expect(page.locator("#feed-list li").filter(has_text=t)).to_have_count(1)
            seqs = page.eval_on_selector_all("#feed-list li", "els => els.map(e => +e.dataset.seq)")
            assert len(seqs) == len(set(seqs)), "no event twice"
            assert seqs == sorted(seqs, reverse=True), "newest first, in order"
        finally:
            second.stop()
    finally:
        first.kill()
        context.close()


def test_health_is_public_and_pages_are_not(demo_server):
    assert requests.get(demo_server.url + "/api/health", timeout=5).ok
    resp = requests.get(demo_server.url + "/ops", allow_redirects=False, timeout=5)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
