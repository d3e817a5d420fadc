"""Overload as a command-room screen sees it, in headless Chromium against a real demo
server that takes one write at a time: writes past that are shed (503 + Retry-After),
the screen's badge says "delayed" and comes back to "live" without ever reconnecting,
and the pages' JSON client sends a shed write again after Retry-After (jittered), once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ..support import ServerProcess, login_session, start_server
from .conftest import demo_database
from .test_ops_browser import LIVE_MS, WATCH_BADGE, expect, sign_in

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def one_write_server(tmp_path_factory: Any, databases: Any) -> Iterator[ServerProcess]:
    url = demo_database(tmp_path_factory, databases, "e2e-shed")
    server = start_server(database_url=url, instance=tmp_path_factory.mktemp("e2e-shed-inst"),
                          demo=True, extra_env={"COORDINATION_MAX_WRITES_IN_FLIGHT": "1"})
    yield server
    server.stop()


def _shed_one(base: str, deadline_s: float = 60.0) -> dict[str, Any]:
    """Writes from eight threads at once until the server sheds one; that answer."""
    import time

    sessions = [login_session(base, "operator", "operator-demo") for _ in range(8)]
    shed: list[Any] = []
    end = time.monotonic() + deadline_s
    while not shed and time.monotonic() < end:
        def post(s: Any, k: int) -> None:
            r = s.post(base + "/api/duty-log", json={"text": f"surge {k}"}, timeout=30)
            if r.status_code == 503:
                shed.append(r)

        threads = [threading.Thread(target=post, args=(s, k)) for k, s in enumerate(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert shed, "eight writes at once never exceeded one in flight"
    r = shed[0]
    return {"retry_after": r.headers.get("Retry-After"), "body": r.json()}


def test_a_shed_surge_shows_delayed_and_the_screen_stays_connected(one_write_server,
                                                                   new_context):
    base = one_write_server.url
    context = new_context()
    context.add_init_script(WATCH_BADGE)
    page = context.new_page()
    sign_in(page, base, "operator", "operator-demo")
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live", timeout=LIVE_MS)

    refused = _shed_one(base)
    assert refused["retry_after"] == "2" and refused["body"]["code"] == "overloaded"
    assert "_" not in refused["body"]["error"]  # a sentence, not a code

    # The next head says the server is behind: the badge says so, with its words.
    badge = page.locator("#conn-state")
    expect(badge).to_have_attribute("data-state", "delayed", timeout=30_000)
    assert badge.inner_text().strip()
    # Ten seconds after the last shed write the server is no longer behind.
    expect(badge).to_have_attribute("data-state", "live", timeout=60_000)
    states = page.evaluate("window.__connStates")
    assert "reconnecting" not in states and "offline" not in states, states
    assert states[-2:] == ["delayed", "live"], states


def test_the_json_client_sends_a_shed_write_again_after_retry_after(one_write_server,
                                                                  new_context):
    base = one_write_server.url
    context = new_context()
    page = context.new_page()
    sign_in(page, base, "operator", "operator-demo")
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    seen: list[str] = []

    def shed_first(route: Any) -> None:
        seen.append(route.request.post_data or "")
        if len(seen) == 1:
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json",
                          body='{"error": "The system is busy; nothing was changed.", '
                               '"code": "overloaded"}')
        else:
            route.continue_()

    page.route("**/api/duty-log", shed_first)
    res = page.evaluate("""async () => {
      const t0 = performance.now();
      const res = await window.Coordination.postJSON("/api/duty-log",
                                                     {text: "after the surge"});
      return {ok: res.ok, status: res.status, text: res.body.text,
              waited: performance.now() - t0};
    }""")
    assert res["ok"] and res["status"] == 201 and res["text"] == "after the surge", res
    assert len(seen) == 2 and seen[0] == seen[1]  # the same write, sent once more
    assert res["waited"] >= 500  # Retry-After 1 s, spread to 0.5-1.5 s: it did wait
