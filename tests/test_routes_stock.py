"""Stock routes that had no functional test of their own: the API's depot, count and
adjustment writes and its targets and transfers lists; rejecting a request and
releasing a reservation from the pages. Each through HTTP, with a refusal that
changes nothing."""

from __future__ import annotations

from coordination.stock import service as stock

from .support import csrf_from
from .test_stock_pages import books, logistics, stock_request  # noqa: F401  (fixtures)
from .test_stock_support import book_state, on_hand


def test_the_api_saves_a_depot_counts_and_adjusts_stock(logistics):  # noqa: F811
    made = logistics.post_json("/api/stock/depots", {
        "code": "D3", "name_zh": "集宁储备库", "name_en": "Jining store", "lon": 113.1,
        "lat": 41.0})
    assert made.status_code == 201, made.text
    assert made.get_json()["code"] == "D3"
    assert "D3" in [d["code"] for d in stock.list_depots()]
    assert logistics.post_json("/api/stock/depots", {"code": "D4", "name_zh": "x",
                                                     "name_en": "x", "lon": 200,
                                                     "lat": 41}).status_code == 400

    before = on_hand("D1", "SUIT", "S1")
    counted = logistics.post_json("/api/stock/counts", {"depot": "D1", "item": "SUIT",
                                                        "lot": "S1", "counted": before - 3})
    assert counted.status_code == 201, counted.text
    assert on_hand("D1", "SUIT", "S1") == before - 3
    adjusted = logistics.post_json("/api/stock/adjustments", {
        "depot": "D1", "item": "SUIT", "lot": "S1", "quantity": -2, "reason": "damaged"})
    assert adjusted.status_code == 201, adjusted.text
    assert on_hand("D1", "SUIT", "S1") == before - 5
    state = book_state()
    zero = logistics.post_json("/api/stock/adjustments", {
        "depot": "D1", "item": "SUIT", "lot": "S1", "quantity": 0, "reason": "damaged"})
    assert zero.status_code == 400 and book_state() == state


def test_the_api_lists_targets_and_transfers(logistics):  # noqa: F811
    targets = logistics.client.get("/api/stock/targets").get_json()["targets"]
    assert sorted((t["depot"], t["item"], t["quantity"]) for t in targets) == [
        ("D1", "N95", 100), ("D2", "N95", 60)]
    assert logistics.client.get("/api/stock/transfers").get_json() == {"transfers": []}
    sent = logistics.post_json("/api/stock/transfers", {"from_depot": "D1", "to_depot": "D2",
                                                        "item": "N95", "quantity": 5})
    assert sent.status_code == 201, sent.text
    listed = logistics.client.get("/api/stock/transfers?status=in_transit").get_json()
    assert [(t["from_depot"], t["to_depot"], t["quantity"]) for t in listed["transfers"]] == [
        ("D1", "D2", 5)]
    assert logistics.client.get("/api/stock/transfers?status=received").get_json() == {
        "transfers": []}


def test_logistics_rejects_a_request_from_its_page_once(app, logistics):  # noqa: F811
    from .test_stock_pages import logistics_actor

    rid = stock.create_request(data=stock_request(), actor=logistics_actor())["id"]
    url = f"/stock/requests/{rid}"
    token = csrf_from(logistics.client.get(url).text)
    r = logistics.client.post(f"/stock/requests/{rid}/reject",
                              data={"csrf_token": token, "note": "库存不足"})
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    assert stock.get_request(request_id=rid)["status"] == "rejected"
    again = logistics.client.post(f"/stock/requests/{rid}/reject",
                                  data={"csrf_token": token, "note": "again"})
    assert again.status_code == 409
    missing = logistics.client.post("/stock/requests/999999/reject",
                                    data={"csrf_token": token})
    assert missing.status_code == 404


def test_logistics_releases_a_reservation_from_the_targets_page(logistics):  # noqa: F811
    page = logistics.client.get("/stock/targets")
    token = csrf_from(page.text)
    made = logistics.client.post("/stock/reservations", data={
        "csrf_token": token, "depot": "D1", "item": "SUIT", "quantity": "10",
        "incident_ref": "INC-9"})
    assert made.status_code == 302
    (res,) = stock.list_reservations()
    r = logistics.client.post(f"/stock/reservations/{res['id']}/release",
                              data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/stock/targets")
    assert stock.list_reservations() == []
    again = logistics.client.post(f"/stock/reservations/{res['id']}/release",
                                  data={"csrf_token": token})
    assert again.status_code == 409
    no_csrf = logistics.client.post(f"/stock/reservations/{res['id']}/release", data={})
    assert no_csrf.status_code == 400
