"""The stock pages through the test client: real forms with CSRF, refused input shown next
to the form with nothing changed, and downloads that match the screen."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from coordination.stock import service as stock
from coordination.stock.exports import GAP_COLUMNS

from .conftest import Auth
from .support import csrf_from
from .test_stock_support import (
    FENGZHEN,
    book_state,
    issue,
    ledger_matches_balances,
    make_depot,
    make_item,
    on_hand,
    receive,
    soon,
    target,
)


@pytest.fixture
def books(app):
    make_depot("D1", owner="市卫健委", contact_name="王芳", contact_phone="0474-1")
    make_depot("D2", FENGZHEN)
    make_item("N95", critical=True)
    make_item("SUIT")
    receive("D1", "N95", "L1", 100, soon(10))   # expires inside the 30-day warning
    receive("D1", "N95", "L2", 50, soon(300))
    receive("D1", "SUIT", "S1", 40, soon(200))
    target("D1", "N95", 100)
    target("D2", "N95", 60)
    issue("D1", "N95", 30)


@pytest.fixture
def logistics(app, make_user, books):
    make_user("logistics", username="log", locale="en")  # messages asserted in English
    auth = Auth(app.test_client())
    auth.login("log")
    return auth


def post_form(auth: Auth, url: str, data: dict, **kw):
    page = auth.client.get(url if "?" in url or url.endswith(("receive", "issue", "transfer",
                                                               "adjust", "count", "new",
                                                               "import")) else "/stock/depots")
    return auth.client.post(url, data={"csrf_token": csrf_from(page.text), **data}, **kw)


class Table(HTMLParser):
    """The text of every cell of one table (by id), row by row."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.id, self.inside, self.rows = table_id, 0, []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.id:
            self.inside = 1
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table" and self.inside:
            self.inside = 0

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def same(rows: list[list[str]]) -> list[list[object]]:
    """Cells compared as figures where they are numbers (a sheet stores 1.0 as 1)."""
    def one(text: str) -> object:
        try:
            return float(text)
        except ValueError:
            return text
    return [[one(c) for c in row] for row in rows]


def table(html: str, table_id: str) -> list[list[str]]:
    parser = Table(table_id)
    parser.feed(html)
    return parser.rows


def test_every_page_renders_for_logistics(logistics):
    rid = stock.create_request(data=stock_request(), actor=logistics_actor())["id"]
    for url in ("/stock", "/stock/depots", "/stock/depots/D1", "/stock/items", "/stock/receive",
                "/stock/issue", "/stock/transfer", "/stock/adjust", "/stock/count",
                "/stock/transfers", "/stock/targets", "/stock/gaps", "/stock/card",
                "/stock/card?depot=D1&item=N95", "/stock/requests", "/stock/requests/new",
                f"/stock/requests/{rid}", "/stock/import"):
        r = logistics.client.get(url)
        assert r.status_code == 200, url
    assert logistics.client.get("/stock/depots/NOPE").status_code == 404


def stock_request():
    from coordination.stock.schemas import RequestIn

    return RequestIn(destination_kind="facility", destination_ref="集宁区发热门诊",
                     lines=[{"item": "N95", "quantity": 20}, {"item": "SUIT", "quantity": 5}])


def logistics_actor():
    from coordination.events import Actor

    return Actor.system("test")


def test_depot_page_shows_location_owner_contacts_and_stock_by_lot(logistics):
    with force_locale("en"):
        html = logistics.client.get("/stock/depots/D1").text
    assert "市卫健委" in html and "王芳" in html and "0474-1" in html
    rows = table(html, "depot-stock")
    lots = [r for r in rows if len(r) == 8 and r[1] in ("L1", "L2", "S1")]
    assert [(r[1], r[3]) for r in lots] == [("L1", "70"), ("L2", "50"), ("S1", "40")]
    assert soon(10).isoformat() in lots[0][2]


def test_a_receipt_through_the_form_books_stock_and_redirects(logistics):
    r = post_form(logistics, "/stock/receive", {"depot": "D2", "item": "N95", "lot": "L9",
                                                "expiry": soon(400).isoformat(),
                                                "quantity": "25"})
    assert r.status_code == 302
    assert on_hand("D2", "N95") == 25
    assert ledger_matches_balances()


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"quantity": "0"}, 400, "Quantity must be greater than zero"),
    ({"quantity": "-3"}, 400, "Quantity must be greater than zero"),
    ({"quantity": "ten"}, 400, "Quantity: enter a whole number"),
    ({"quantity": "2.5"}, 400, "Quantity: enter a whole number"),
    ({"quantity": ""}, 400, "Quantity is required"),
    ({"quantity": "500"}, 409, "Not enough stock"),
    ({"quantity": "5", "lot": "GHOST"}, 400, "Lot GHOST of N95 does not exist"),
    ({"quantity": "5", "depot": "D9"}, 400, "Unknown depot D9"),
    ({"quantity": "5", "destination_ref": ""}, 400, "Destination is required"),
])
def test_a_refused_issue_shows_the_message_keeps_the_values_and_changes_nothing(
        logistics, form, status, message):
    before = book_state()
    data = {"depot": "D1", "item": "N95", "destination_kind": "incident",
            "destination_ref": "INC-7", "note": "急需"} | form
    with force_locale("en"):
        r = post_form(logistics, "/stock/issue", data)
    assert r.status_code == status
    error = re.search(r'<p class="form-error" id="form-error" role="alert">([^<]*)</p>', r.text)
    assert error and message in error.group(1), r.text[-2000:]
    assert 'name="destination_ref" value="' + data["destination_ref"] + '"' in r.text
    assert "急需" in r.text
    assert book_state() == before


def test_a_transfer_to_the_same_depot_is_refused(logistics):
    before = book_state()
    with force_locale("en"):
        r = post_form(logistics, "/stock/transfer", {"from_depot": "D1", "to_depot": "D1",
                                                     "item": "N95", "quantity": "1"})
    assert r.status_code == 400 and "two different depots" in r.text
    assert book_state() == before


def test_forms_without_csrf_are_refused(logistics):
    before = book_state()
    r = logistics.client.post("/stock/receive", data={"depot": "D1", "item": "N95", "lot": "X",
                                                      "quantity": "5"})
    assert r.status_code == 400
    assert book_state() == before


def test_transfer_in_transit_then_received_from_the_pages(logistics):
    r = post_form(logistics, "/stock/transfer", {"from_depot": "D1", "to_depot": "D2",
                                                 "item": "N95", "quantity": "10"})
    assert r.status_code == 302
    t = stock.list_transfers()[0]
    assert t["status"] == "in_transit" and on_hand("D2", "N95") == 0
    html = logistics.client.get("/stock/transfers").text
    r = logistics.client.post(f"/stock/transfers/{t['id']}/receive",
                              data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302 and on_hand("D2", "N95") == 10
    r = logistics.client.post(f"/stock/transfers/{t['id']}/receive",
                              data={"csrf_token": csrf_from(html)})
    assert r.status_code == 409


def test_adjustment_and_count_from_the_forms(logistics):
    assert post_form(logistics, "/stock/adjust", {"depot": "D1", "item": "SUIT", "lot": "S1",
                                                  "quantity": "-4", "reason": "damaged"}
                     ).status_code == 302
    assert on_hand("D1", "SUIT") == 36
    r = post_form(logistics, "/stock/count", {"depot": "D1", "item": "SUIT", "lot": "S1",
                                              "counted": "30"})
    assert r.status_code == 302 and on_hand("D1", "SUIT") == 30
    with force_locale("en"):
        r = post_form(logistics, "/stock/adjust", {"depot": "D1", "item": "SUIT", "lot": "S1",
                                                   "quantity": "1", "reason": "because"})
    assert r.status_code == 400 and "Reason has an unknown value" in r.text
    card = logistics.client.get("/stock/card?depot=D1&item=SUIT").text
    assert [r[-1] for r in table(card, "card-table")[1:]] == ["", "", ""]
    assert [r[7] for r in table(card, "card-table")[1:]] == ["40", "36", "30"]


def test_targets_by_quantity_or_days_and_reservations(logistics):
    assert post_form(logistics, "/stock/targets", {"depot": "D2", "item": "SUIT", "mode": "days",
                                                   "days": "14", "level": "II"}).status_code == 302
    assert any(t["days"] == 14 and t["level"] == "II" for t in stock.list_targets())
    with force_locale("en"):
        r = post_form(logistics, "/stock/targets", {"depot": "D2", "item": "SUIT",
                                                    "mode": "days", "days": ""})
    assert r.status_code == 400 and "Days of cover is required" in r.text
    assert post_form(logistics, "/stock/reservations", {"depot": "D1", "item": "SUIT",
                                                        "quantity": "10",
                                                        "incident_ref": "INC-9"}
                     ).status_code == 302
    with force_locale("en"):
        r = post_form(logistics, "/stock/reservations", {"depot": "D1", "item": "SUIT",
                                                         "quantity": "31",
                                                         "incident_ref": "INC-9"})
    assert r.status_code == 409 and 'id="reserve-error"' in r.text


def test_depot_and_item_forms(logistics):
    assert post_form(logistics, "/stock/depots", {"code": "D3", "name_zh": "三号库",
                                                  "name_en": "Depot 3", "lon": "113.2",
                                                  "lat": "41.0"}).status_code == 302
    with force_locale("en"):
        r = post_form(logistics, "/stock/depots", {"code": "D4", "name_zh": "四号库",
                                                   "name_en": "Depot 4", "lon": "east",
                                                   "lat": "41"})
    assert r.status_code == 400 and "Longitude: enter a number" in r.text
    assert 'value="四号库"' in r.text
    assert [d["code"] for d in stock.list_depots()] == ["D1", "D2", "D3"]
    page = logistics.client.get("/stock/items")
    r = logistics.client.post("/stock/items", data={
        "csrf_token": csrf_from(page.text), "code": "O2", "name_zh": "医用氧气瓶",
        "name_en": "Oxygen", "category": "oxygen", "unit": "cylinder", "pack_size": "1",
        "critical": "1"})
    assert r.status_code == 302
    assert next(i for i in stock.list_items() if i["code"] == "O2")["critical"] is True


def test_gap_report_page_and_its_xlsx_and_csv_match_the_screen(logistics):
    receive("D2", "SUIT", "S2", 5, soon(200))
    html = logistics.client.get("/stock/gaps").text
    screen = table(html, "gap-table")
    assert len(screen) == 1 + 4  # header + D1/N95, D1/SUIT, D2/N95, D2/SUIT
    r = logistics.client.get("/stock/gaps?format=xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0]
    book = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert same(book) == same(screen)
    text = logistics.client.get("/stock/gaps?format=csv").data.decode("utf-8-sig")
    assert same(list(csv.reader(io.StringIO(text)))) == same(screen)


def test_gap_report_figures_are_the_services(logistics):
    html = logistics.client.get("/stock/gaps").text
    screen = {(r[0], r[2]): r for r in table(html, "gap-table")[1:]}
    report = stock.gap_report()
    keys = [k for k, _t in __import__("coordination.stock.exports",
                                      fromlist=["GAP_COLUMNS"]).GAP_COLUMNS]
    for row in report["rows"]:
        shown = screen[(row["depot"], row["item"])]
        assert shown[keys.index("shortfall")] == str(row["shortfall"])
        assert shown[keys.index("on_hand")] == str(row["on_hand"])
    d2 = screen[("D2", "N95")]
    assert d2[keys.index("shortfall")] == "60"
    assert d2[keys.index("fill_transfers")].startswith("D1 ")


def test_stock_card_downloads_match_the_card(logistics):
    r = logistics.client.get("/stock/card?depot=D1&item=N95&format=xlsx")
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    card = stock.stock_card(depot="D1", item="N95")
    assert len(rows) == 1 + len(card["entries"]) == 4
    assert [row[7] for row in rows[1:]] == [e["balance"] for e in card["entries"]]
    text = logistics.client.get("/stock/card?depot=D1&item=N95&format=csv").data
    assert len(list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))) == 4
    assert logistics.client.get("/stock/card?depot=D1&item=NOPE").status_code == 400


def test_dashboard_lists_below_target_expiring_pending_and_recent(logistics):
    stock.create_request(data=stock_request(), actor=logistics_actor())
    html = logistics.client.get("/stock").text
    below = table(html, "below-table")
    # Depots by name, as the page names them (the code is for files and the API).
    assert [r[0] for r in below[1:]] == ["D2 depot"]  # N95: 120 at D1 (target 100), none at D2
    warnings = table(html, "warn-table")
    assert any(r[1] == "D1 depot" and r[3] == "L1" for r in warnings[1:])
    assert len(table(html, "request-table")) == 2
    moves = table(html, "moves-table")
    assert len(moves) == 1 + 4 and moves[1][5] == "-30"  # newest first
    assert 'id="stock-config"' in html and "js/stock.js" in html
    data = logistics.client.get("/api/stock/overview").get_json()
    assert [r["depot"] for r in data["below_target"]] == ["D2"]


def test_request_lifecycle_through_the_pages(app, make_user, logistics):
    make_user("liaison", username="lia", locale="en")
    liaison = Auth(app.test_client())
    liaison.login("lia")
    page = liaison.client.get("/stock/requests/new")
    assert page.status_code == 200
    with force_locale("en"):
        r = liaison.client.post("/stock/requests/new", data={
            "csrf_token": csrf_from(page.text), "destination_kind": "facility",
            "destination_ref": "丰镇发热门诊", "line_item": ["N95", "SUIT", ""],
            "line_qty": ["20", "x", ""]})
    assert r.status_code == 400 and "enter a whole number" in r.text
    assert stock.list_requests() == []
    r = liaison.client.post("/stock/requests/new", data={
        "csrf_token": csrf_from(page.text), "destination_kind": "facility",
        "destination_ref": "丰镇发热门诊", "line_item": ["N95", "SUIT", ""],
        "line_qty": ["20", "5", ""]})
    assert r.status_code == 302
    rid = stock.list_requests()[0]["id"]
    url = f"/stock/requests/{rid}"
    token = csrf_from(logistics.client.get(url).text)
    with force_locale("en"):
        r = logistics.client.post(url + "/approve", data={"csrf_token": token, "depot": "D1",
                                                          "all": "0", "approve-N95": "25",
                                                          "approve-SUIT": "5"})
    assert r.status_code == 400 and "Cannot approve more N95" in r.text
    r = logistics.client.post(url + "/approve", data={"csrf_token": token, "depot": "D1",
                                                      "all": "0", "approve-N95": "15",
                                                      "approve-SUIT": "5"})
    assert r.status_code == 302
    assert "pick-list" in logistics.client.get(url).text
    r = logistics.client.post(url + "/ship", data={"csrf_token": token})
    assert r.status_code == 302 and on_hand("D1", "N95") == 120 - 15
    # The requester confirms what arrived: one suit short.
    token = csrf_from(liaison.client.get(url).text)
    r = liaison.client.post(url + "/confirm", data={"csrf_token": token, "all": "0",
                                                    "received-N95": "15", "received-SUIT": "4"})
    assert r.status_code == 302
    done = stock.get_request(request_id=rid)
    assert done["status"] == "received"
    assert {ln["item"]: ln["received"] for ln in done["lines"]} == {"N95": 15, "SUIT": 4}
    html = liaison.client.get(url).text
    assert [li for li in re.findall(r'<li data-status="(\w+)"', html)] == [
        "requested", "approved", "shipped", "received"]
    # A liaison sees their own requests only, and no stock pages.
    assert liaison.client.get("/stock").status_code == 403
    assert liaison.client.get("/stock/requests").status_code == 200


def test_import_page_lists_every_bad_row_and_commits_nothing(logistics):
    before = book_state()
    bad = ("depot,item,lot,expiry,quantity\n"
           f"D1,N95,L5,{soon(200).isoformat()},10\n"
           f"D9,N95,L6,{soon(200).isoformat()},10\n"
           f"D1,NOPE,L7,{soon(200).isoformat()},10\n"
           "D1,N95,L8,someday,10\n"
           f"D1,N95,L9,{soon(200).isoformat()},-4\n")
    from coordination.jobs import service as jobs

    page = logistics.client.get("/stock/import")
    with force_locale("en"):
        r = logistics.client.post("/stock/import", data={
            "csrf_token": csrf_from(page.text), "kind": "receipt",
            "file": (io.BytesIO(bad.encode()), "delivery.csv")},
            content_type="multipart/form-data")
    assert r.status_code == 303
    assert jobs.run_pending() == 1
    job_page = logistics.client.get(r.headers["Location"])
    problems = table(job_page.text, "import-problems")[1:]
    assert [(p[0], p[1]) for p in problems] == [("3", "depot"), ("4", "item"), ("5", "expiry"),
                                                ("6", "quantity")]
    assert book_state() == before
    good = bad.splitlines()[0] + "\n" + bad.splitlines()[1] + "\n"
    r = logistics.client.post("/stock/import", data={
        "csrf_token": csrf_from(page.text), "kind": "receipt",
        "file": (io.BytesIO(good.encode()), "delivery.csv")}, content_type="multipart/form-data")
    assert r.status_code == 303
    assert jobs.run_pending() == 1
    assert 'id="import-result"' in logistics.client.get(r.headers["Location"]).text
    assert on_hand("D1", "N95", "L5") == 10


def test_navigation_shows_stock_to_roles_that_may_see_it(app, make_user, books):
    for role, link in (("logistics", "/stock"), ("operator", "/stock"),
                       ("liaison", "/stock/requests"), ("admin", "/stock")):
        make_user(role, username=f"nav-{role}")
        auth = Auth(app.test_client())
        auth.login(f"nav-{role}")
        html = auth.client.get("/me").text
        assert f'href="{link}"' in html, role


def test_depot_map_features_carry_status_and_items_below_target(logistics):
    fc = logistics.client.get("/api/stock/map").get_json()
    by_code = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    assert by_code["D1"]["status"] == "warning"  # at target, but lot L1 expires within 30 days
    assert by_code["D2"]["status"] == "critical"  # a critical item below target
    assert by_code["D2"]["items"] == [{"item": "N95", "name_zh": "N95物资", "name_en": "N95",
                                       "unit": "box", "available": 0, "in_transit": 0,
                                       "target": 60, "shortfall": 60, "critical": True}]
    target("D1", "SUIT", 50)
    target("D2", "N95", 0)
    fc = logistics.client.get("/api/stock/map").get_json()
    by_code = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    assert by_code["D1"]["status"] == "below_target"
    assert [i["item"] for i in by_code["D1"]["items"]] == ["SUIT"]
    assert by_code["D2"]["status"] == "ok"


def test_gap_report_filters_rows_and_downloads_what_it_shows(logistics, monkeypatch):
    from coordination.web import stock_pages

    receive("D2", "SUIT", "S2", 5, soon(200))
    whole = stock.gap_report()
    # The API: rows of one depot, of critical items, below target; totals stay whole.
    api = logistics.client.get("/api/stock/gaps?depot=D2&critical=1").get_json()
    assert [(r["depot"], r["item"]) for r in api["rows"]] == [("D2", "N95")]
    assert api["totals"] == whole["totals"] and api["rows_total"] == 4
    zipped = logistics.client.get("/api/stock/gaps", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data))["rows"] == whole["rows"]
    short = logistics.client.get("/api/stock/gaps?short=1").get_json()["rows"]
    assert {(r["depot"], r["item"]) for r in short} == {
        (r["depot"], r["item"]) for r in whole["rows"] if r["shortfall"] > 0}
    # Warnings follow the depot, item and category kept, not the shortfall filter.
    kept = logistics.client.get("/api/stock/gaps?item=N95&short=1").get_json()["warnings"]
    assert {w["item"] for w in kept} == {"N95"} and kept
    assert logistics.client.get("/api/stock/gaps?category=drugs").get_json()["rows"] == []
    # The page: the same rows, the choices it offers, and a download of exactly them.
    html = logistics.client.get("/stock/gaps?depot=D1&item=SUIT").text
    assert [(r[0], r[2]) for r in table(html, "gap-table")[1:]] == [("D1", "SUIT")]
    assert 'value="D2"' in html and "(totals of the whole report)" in html
    text = logistics.client.get("/stock/gaps?depot=D1&item=SUIT&format=csv").data
    assert len(list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))) == 1 + 1
    assert "No rows match." in logistics.client.get("/stock/gaps?category=drugs").text
    keys = [k for k, _t in GAP_COLUMNS]
    row = table(logistics.client.get("/stock/gaps?depot=D1&item=N95").text, "gap-table")[1]
    assert row[keys.index("target_mode")] == "Quantity"  # the mode in words, not its code
    # A screen shows at most PAGE_ROWS rows and says how many there are; downloads carry all.
    monkeypatch.setattr(stock_pages, "PAGE_ROWS", 2)
    html = logistics.client.get("/stock/gaps").text
    assert len(table(html, "gap-table")) == 1 + 2
    assert "Showing the first 2 of 4 rows" in html
    text = logistics.client.get("/stock/gaps?format=csv").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 4
