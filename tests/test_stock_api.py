"""The stock JSON API: every bad input from the issue is a 4xx with a message and changes
nothing; who may do what follows the grants table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coordination.auth import service as auth_service
from coordination.events import Actor

from .conftest import Auth
from .test_stock_support import (
    FENGZHEN,
    book_state,
    make_depot,
    make_drill,
    make_item,
    receive,
    soon,
)


@pytest.fixture
def logistics(app, make_user):
    make_depot("D1")
    make_depot("D2", FENGZHEN)
    make_item("N95")
    receive("D1", "N95", "L1", 10, soon(100))
    make_user("logistics", username="log")
    auth = Auth(app.test_client())
    auth.login("log")
    return auth


ISSUE = {"depot": "D1", "item": "N95", "destination_kind": "incident", "destination_ref": "I-1"}

BAD = [
    ("/api/stock/issues", ISSUE | {"quantity": 0}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": -5}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": "ten"}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": "5"}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": 2.5}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": True}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": 11}, 409),              # more than on hand
    ("/api/stock/issues", ISSUE | {"quantity": 1, "lot": "NOPE"}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": 1, "depot": "D9"}, 400),
    ("/api/stock/issues", ISSUE | {"quantity": 1, "destination_kind": "moon"}, 400),
    ("/api/stock/issues", {"quantity": 1}, 400),
    ("/api/stock/receipts", {"depot": "D1", "item": "N95", "lot": "L2", "quantity": 5}, 400),
    ("/api/stock/receipts", {"depot": "D1", "item": "N95", "lot": "L2", "quantity": 5,
                             "expiry": "2001-01-01"}, 400),
    ("/api/stock/receipts", {"depot": "D1", "item": "N95", "lot": "L2", "quantity": 5,
                             "expiry": "soon"}, 400),
    ("/api/stock/receipts", {"depot": "D1", "item": "N95", "lot": "L1", "quantity": 5,
                             "expiry": "2099-01-01"}, 400),             # lot's expiry differs
    ("/api/stock/transfers", {"from_depot": "D1", "to_depot": "D1", "item": "N95",
                              "quantity": 1}, 400),
    ("/api/stock/transfers", {"from_depot": "D1", "to_depot": "D2", "item": "N95",
                              "quantity": 99}, 409),
    ("/api/stock/counts", {"depot": "D1", "item": "N95", "lot": "GHOST", "counted": 3}, 400),
    ("/api/stock/counts", {"depot": "D1", "item": "N95", "lot": "L1", "counted": -1}, 400),
    ("/api/stock/adjustments", {"depot": "D1", "item": "N95", "lot": "L1", "quantity": -11,
                                "reason": "damaged"}, 409),
    ("/api/stock/adjustments", {"depot": "D1", "item": "N95", "lot": "L1", "quantity": 1,
                                "reason": "because"}, 400),
    ("/api/stock/targets", {"depot": "D1", "item": "N95", "mode": "days"}, 400),
    ("/api/stock/targets", {"depot": "D1", "item": "N95", "quantity": -1}, 400),
    ("/api/stock/reservations", {"depot": "D1", "item": "N95", "quantity": 11,
                                 "incident_ref": "I-1"}, 409),
    ("/api/stock/transfers/999999/receive", {}, 404),
    ("/api/stock/requests/999999/approve", {"depot": "D1"}, 404),
    ("/api/stock/requests", {"destination_kind": "team", "destination_ref": "x",
                             "lines": []}, 400),
]


@pytest.mark.parametrize(("url", "body", "status"), BAD)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(logistics, url, body, status):
    before = book_state()
    r = logistics.post_json(url, body)
    assert r.status_code == status, r.get_json()
    assert r.is_json and r.get_json()["error"]
    assert book_state() == before


def test_a_non_json_body_and_bad_query_parameters_are_400(logistics):
    r = logistics.client.post("/api/stock/issues", data="quantity=1",
                              headers={"X-CSRFToken": logistics.csrf})
    assert r.status_code == 400 and r.get_json()["error"]
    for url in ("/api/stock/gaps?level=V", "/api/stock/gaps?window=0", "/api/stock/gaps?format=pdf",
                "/api/stock/ledger?depot=D1", "/api/stock/ledger?depot=D9&item=N95",
                "/api/stock/balances?item=NOPE", "/api/stock/transfers?status=lost",
                "/api/stock/gaps?category=food", "/api/stock/gaps?short=maybe",
                "/api/stock/gaps?depot=" + "D" * 41):
        r = logistics.client.get(url)
        assert r.status_code == 400 and r.get_json()["error"], url


def test_the_happy_path_through_the_api(logistics):
    r = logistics.post_json("/api/stock/issues", ISSUE | {"quantity": 4})
    assert r.status_code == 201 and r.get_json()["lines"][0]["balance_after"] == 6
    r = logistics.post_json("/api/stock/transfers", {"from_depot": "D1", "to_depot": "D2",
                                                      "item": "N95", "quantity": 2})
    tid = r.get_json()["id"]
    assert logistics.post_json(f"/api/stock/transfers/{tid}/receive", {}).status_code == 200
    r = logistics.post_json("/api/stock/targets", {"depot": "D2", "item": "N95", "quantity": 5,
                                                    "level": "II"})
    assert r.status_code == 201
    gaps = logistics.client.get("/api/stock/gaps?level=II").get_json()
    d2 = next(x for x in gaps["rows"] if x["depot"] == "D2")
    assert d2["target"] == 5 and d2["shortfall"] == 3 and d2["fill_transfers"][0]["from"] == "D1"
    balances = logistics.client.get("/api/stock/balances?depot=D2").get_json()["balances"]
    assert balances == [{"depot": "D2", "item": "N95", "lot": "L1",
                         "expiry": soon(100).isoformat(), "expired": False, "quantity": 2}]
    board = logistics.client.get("/api/stock/dashboard").get_json()
    assert [d["depot"] for d in board["depots"]] == ["D1", "D2"]
    assert logistics.client.get("/api/stock/depots").get_json()["depots"][0]["code"] == "D1"
    r = logistics.post_json("/api/stock/items", {"code": "O2", "name_zh": "医用氧气瓶",
                                                  "name_en": "Oxygen cylinder", "category":
                                                  "oxygen", "unit": "cylinder", "critical": True})
    assert r.status_code == 201
    assert [i["code"] for i in logistics.client.get("/api/stock/items").get_json()["items"]] == [
        "N95", "O2"]


WRITES = ["/api/stock/receipts", "/api/stock/issues", "/api/stock/transfers",
          "/api/stock/counts", "/api/stock/adjustments", "/api/stock/targets",
          "/api/stock/reservations", "/api/stock/import", "/api/stock/depots",
          "/api/stock/items"]


@pytest.mark.parametrize("role", ["operator", "liaison", "trainer", "admin", "logistics"])
def test_who_may_do_what(app, make_user, role):
    make_depot("D1")
    make_item("N95")
    make_user(role, username="me")
    auth = Auth(app.test_client())
    auth.login("me")
    reads = {u: auth.client.get(u).status_code for u in (
        "/api/stock/gaps", "/api/stock/balances", "/api/stock/dashboard", "/api/stock/items",
        "/api/stock/requests")}
    can_view = role != "liaison"
    assert reads["/api/stock/gaps"] == reads["/api/stock/balances"] == (200 if can_view else 403)
    assert reads["/api/stock/items"] == reads["/api/stock/requests"] == 200
    for url in WRITES:
        status = auth.post_json(url, {}).status_code
        assert (status == 403) == (role != "logistics"), (url, status)
    request = {"destination_kind": "incident", "destination_ref": "I-1",
               "lines": [{"item": "N95", "quantity": 1}]}
    status = auth.post_json("/api/stock/requests", request).status_code
    assert status == (201 if role in ("liaison", "operator", "logistics") else 403)


def test_a_bearer_token_may_write_without_csrf(app):
    make_depot("D1")
    make_item("N95")
    _tok, secret = auth_service.create_token(name="scanner", roles=["logistics"],
                                             actor=Actor.system("t"))
    client = app.test_client()
    r = client.post("/api/stock/receipts", headers={"Authorization": f"Bearer {secret}"},
                    json={"depot": "D1", "item": "N95", "lot": "L9", "quantity": 3,
                          "expiry": soon(30).isoformat()})
    assert r.status_code == 201, r.get_json()


def test_drill_stock_never_shows_in_live(app, make_user):
    ctx = make_drill("drill-api", datetime.now(UTC) + timedelta(days=1))
    make_depot("DX", context=ctx)
    make_user("logistics", username="log2")
    auth = Auth(app.test_client())
    auth.login("log2")
    assert auth.client.get("/api/stock/depots").get_json()["depots"] == []


def test_the_gap_report_comes_a_page_at_a_time_and_downloads_whole(logistics):
    r = logistics.post_json("/api/stock/targets", {"depot": "D2", "item": "N95", "quantity": 5})
    assert r.status_code == 201  # a second pair: D2 holds none and must hold five
    whole = logistics.client.get("/api/stock/gaps?per_page=5000").get_json()
    assert whole["rows_matching"] == len(whole["rows"]) >= 2 and whole["pages"] == 1
    first = logistics.client.get("/api/stock/gaps?per_page=1").get_json()
    second = logistics.client.get("/api/stock/gaps?per_page=1&page=2").get_json()
    assert first["pages"] == whole["rows_matching"] and first["page"] == 1
    assert first["rows"] == whole["rows"][:1] and second["rows"] == whole["rows"][1:2]
    # Totals and warnings stay the whole report's.
    assert first["totals"] == whole["totals"] and first["warnings"] == whole["warnings"]
    beyond = logistics.client.get("/api/stock/gaps?per_page=1&page=999").get_json()
    assert beyond["rows"] == [] and beyond["rows_matching"] == whole["rows_matching"]
    for bad in ("page=0", "per_page=0", "per_page=5001", "page=x"):
        assert logistics.client.get(f"/api/stock/gaps?{bad}").status_code == 400, bad
    csv_rows = logistics.client.get("/api/stock/gaps?format=csv&per_page=1").get_data(
        as_text=True).strip().splitlines()
    assert len(csv_rows) == whole["rows_matching"] + 1  # header + every row: a download is whole
