"""The request workflow: requested → approved in part → shipped (FEFO) → received,
every step an event on the request's timeline, through the JSON API as users do it."""

from __future__ import annotations

from .test_stock_support import make_depot, make_item, on_hand, receive, soon


def _login(app, make_user, role):
    from .conftest import Auth

    make_user(role, username=f"{role}-r")
    auth = Auth(app.test_client())
    auth.login(f"{role}-r")
    return auth


def test_request_approve_part_ship_confirm_timeline(app, make_user):
    make_depot("D1")
    make_item("N95")
    make_item("SUIT")
    receive("D1", "N95", "EARLY", 30, soon(40))
    receive("D1", "N95", "LATE", 100, soon(300))
    receive("D1", "SUIT", "S1", 10)
    liaison = _login(app, make_user, "liaison")
    logistics = _login(app, make_user, "logistics")

    r = liaison.post_json("/api/stock/requests", {
        "destination_kind": "isolation_point", "destination_ref": "集宁隔离点",
        "lines": [{"item": "N95", "quantity": 50}, {"item": "SUIT", "quantity": 20}]})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]

    # The requester may not approve; logistics approves part (all 50 masks, 8 suits).
    assert liaison.post_json(f"/api/stock/requests/{rid}/approve",
                             {"depot": "D1"}).status_code == 403
    r = logistics.post_json(f"/api/stock/requests/{rid}/approve", {
        "depot": "D1", "lines": [{"item": "N95", "quantity": 50}, {"item": "SUIT",
                                                                  "quantity": 8}]})
    assert r.status_code == 200, r.get_json()
    assert {ln["item"]: ln["approved"] for ln in r.get_json()["lines"]} == {"N95": 50, "SUIT": 8}
    # Confirming before shipping is out of order.
    assert liaison.post_json(f"/api/stock/requests/{rid}/confirm", {}).status_code == 409

    r = logistics.post_json(f"/api/stock/requests/{rid}/ship", {})
    assert r.status_code == 200, r.get_json()
    n95 = next(i for i in r.get_json()["issues"] if i["item"] == "N95")
    assert [(ln["lot"], ln["quantity"]) for ln in n95["lines"]] == [("EARLY", -30), ("LATE", -20)]
    assert on_hand("D1", "N95") == 80 and on_hand("D1", "SUIT") == 2

    r = liaison.post_json(f"/api/stock/requests/{rid}/confirm",
                          {"lines": [{"item": "SUIT", "quantity": 7}]})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "received"
    assert {ln["item"]: ln["received"] for ln in body["lines"]} == {"N95": 50, "SUIT": 7}

    timeline = liaison.client.get(f"/api/stock/requests/{rid}").get_json()["timeline"]
    assert [t["type"] for t in timeline] == [
        "stock.request_created", "stock.request_approved", "stock.request_shipped",
        "stock.request_received"]
    assert [t["status"] for t in timeline] == ["requested", "approved", "shipped", "received"]
    # The requester hears each step in their own room.
    events = liaison.client.get("/api/events?since=0").get_json()["events"]
    assert [e["type"] for e in events if e["subject"] and e["subject"]["type"] ==
            "stock_request"] == [t["type"] for t in timeline]


def test_a_requester_sees_only_their_own_requests(app, make_user):
    make_depot("D1")
    make_item("N95")
    a = _login(app, make_user, "liaison")
    make_user("liaison", username="other")
    from .conftest import Auth

    b = Auth(app.test_client())
    b.login("other")
    body = {"destination_kind": "team", "destination_ref": "消杀队", "lines": [
        {"item": "N95", "quantity": 5}]}
    rid = a.post_json("/api/stock/requests", body).get_json()["id"]
    assert b.client.get(f"/api/stock/requests/{rid}").status_code == 404
    assert b.client.get("/api/stock/requests").get_json()["requests"] == []
    assert b.post_json(f"/api/stock/requests/{rid}/confirm", {}).status_code == 403
    logistics = _login(app, make_user, "logistics")
    assert len(logistics.client.get("/api/stock/requests").get_json()["requests"]) == 1
    r = logistics.post_json(f"/api/stock/requests/{rid}/reject", {"note": "无库存"})
    assert r.get_json()["status"] == "rejected"
    assert logistics.post_json(f"/api/stock/requests/{rid}/ship", {}).status_code == 409


def test_shipping_more_than_on_hand_ships_nothing(app, make_user):
    make_depot("D1")
    make_item("N95")
    make_item("SUIT")
    receive("D1", "N95", "L1", 100)
    receive("D1", "SUIT", "S1", 3)
    liaison = _login(app, make_user, "liaison")
    logistics = _login(app, make_user, "logistics")
    rid = liaison.post_json("/api/stock/requests", {
        "destination_kind": "facility", "destination_ref": "FC-1",
        "lines": [{"item": "N95", "quantity": 50}, {"item": "SUIT", "quantity": 5}]},
    ).get_json()["id"]
    logistics.post_json(f"/api/stock/requests/{rid}/approve", {"depot": "D1"})
    r = logistics.post_json(f"/api/stock/requests/{rid}/ship", {})
    assert r.status_code == 409 and r.get_json()["error"]
    assert on_hand("D1", "N95") == 100  # the masks' issue was rolled back with the suits'
    assert logistics.client.get(f"/api/stock/requests/{rid}").get_json()["status"] == "approved"
