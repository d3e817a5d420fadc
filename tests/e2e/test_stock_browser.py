"""Stock in headless Chromium against a real demo server: the logistics dashboard and the
command room's depot markers follow an issue made by another client, live."""

from __future__ import annotations

from typing import Any

import pytest

from ..support import login_session

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEPOT = "WLCB-CDC"  # the demo's well-stocked depot: every target met, nothing expiring soon
DEPOT_NAME = "乌兰察布市疾控中心物资库"  # as the zh-CN page names it (codes are for files)


def _sign_in(new_context: Any, base: str, username: str) -> Any:
    page = new_context().new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-demo")
    page.click("button[type=submit].primary")
    return page


def test_dashboard_and_depot_marker_follow_another_clients_issue(demo_server, new_context,
                                                                    network):
    base = demo_server.url
    board = _sign_in(new_context, base, "logistics")
    board.goto(base + "/stock")
    board.wait_for_selector("#conn-state[data-state=live]", timeout=20000)
    assert board.locator(f'#below-table tr[data-key="{DEPOT}/N95"]').count() == 0

    ops = _sign_in(new_context, base, "operator")
    ops.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=30000)
    ops.wait_for_selector("#conn-state[data-state=live]", timeout=20000)
    marker = ops.evaluate(f"Coordination.livemap.depot('{DEPOT}')")
    assert marker["status"] == "ok" and "depot-ok" in marker["className"]
    # One marker per depot: the stockpile facilities with a depot's code are not drawn.
    api = login_session(base, "operator", "operator-demo")
    twins = [f["properties"]["id"] for f in api.get(
        base + "/api/map/facilities?kind=stockpile_depot", timeout=10).json()["features"]]
    assert twins and all(ops.evaluate(f"Coordination.livemap.facility({i})") is None
                         for i in twins)
    assert ops.locator(".depot-icon").count() == 7

    # Another client (a warehouse tablet) issues 500 N95, taking the depot below its target.
    tablet = login_session(base, "logistics", "logistics-demo")
    [pair] = tablet.get(base + f"/api/stock/gaps?depot={DEPOT}&item=N95",
                        timeout=20).json()["rows"]
    short = str(pair["target"] - (pair["available"] - 500))
    assert pair["available"] >= pair["target"] and int(short) > 0  # at target before, not after
    r = tablet.post(base + "/api/stock/issues", json={
        "depot": DEPOT, "item": "N95", "quantity": 500, "destination_kind": "facility",
        "destination_ref": "<b>集宁区发热门诊</b>"}, timeout=20)
    assert r.status_code == 201, r.text

    row = board.locator(f'#below-table tr[data-key="{DEPOT}/N95"]')
    row.wait_for(timeout=20000)
    cells = row.locator("td").all_text_contents()
    assert cells[0] == DEPOT_NAME and cells[5] == short   # target - available after the issue
    moves = board.locator("#moves-table tbody tr").first.locator("td").all_text_contents()
    assert moves[2] == DEPOT_NAME and moves[5] == "-500" and moves[6] == "<b>集宁区发热门诊</b>"
    assert board.locator("#moves-table b").count() == 0   # text, never markup
    assert board.locator("#feed-list li[data-type='stock.issued']").count() >= 1

    ops.wait_for_function(
        f"Coordination.livemap.depot('{DEPOT}').status === 'critical'", timeout=20000)
    assert "depot-critical" in ops.evaluate(f"Coordination.livemap.depot('{DEPOT}')")["className"]
    ops.evaluate(f"Coordination.livemap.openDepot('{DEPOT}')")
    item = ops.locator(".popup-depot-items li[data-item='N95']")
    item.wait_for(timeout=10000)
    assert short in item.text_content()
    assert network.foreign() == []
    assert network.page_errors == []
