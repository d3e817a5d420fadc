"""Every CSV and XLSX download is formula-safe (OWASP CSV injection), found by walking the routes.

Text that a spreadsheet would run (``=``, ``+``, ``-``, ``@``, tab, CR) is planted in every
field the exports show; then every GET route of the app is asked for ``format=csv`` and
``format=xlsx`` (and the ``.csv``/``.xlsx`` routes as they are). Whatever answers with a
spreadsheet must hold the planted text, and no cell may start a live formula. A new export
route is covered without touching this file.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from coordination import tabular
from coordination.dutylog.schemas import NewEntry
from coordination.dutylog.service import post_entry
from coordination.stock import service as stock
from coordination.stock.schemas import DepotIn, IssueIn

from .conftest import Auth
from .test_stock_support import ACTOR, JINING, make_item, receive, soon, target

LINK = '=HYPERLINK("http://evil.example","click")'
CMD = "+cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
PLANTED = (LINK, CMD, MINUS, AT)
SPREADSHEET_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml")
# Routes known to export today; the walk must find at least these (so it is not vacuous).
KNOWN = {"/api/stock/gaps", "/stock/gaps", "/api/stock/ledger", "/stock/card",
         "/admin/audit.csv"}


@pytest.mark.parametrize("value", [*PLANTED, "\tx", "\rx", "=1", "+1", "-1", "@A1"])
def test_the_writer_neutralises_every_formula_start(value):
    assert tabular.neutralise(value) == "'" + value
    assert tabular.neutralise(-5) == -5 and tabular.neutralise("plain") == "plain"
    text = tabular.csv_bytes([[value, -5]]).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == ["'" + value, "-5"]
    book = load_workbook(io.BytesIO(tabular.xlsx_bytes([[value, -5]], "s")))
    first, number = book.active["A1"], book.active["B1"]
    assert (first.data_type, first.value) == ("s", "'" + value)
    assert (number.data_type, number.value) == ("n", -5)


def _plant(make_user) -> None:
    stock.save_depot(data=DepotIn(code="D1", name_zh=LINK, name_en=AT, lon=JINING[0],
                                  lat=JINING[1], owner=CMD), actor=ACTOR)
    make_item("N95", name_zh=AT, unit=CMD)
    receive("D1", "N95", CMD, 40, soon(60))
    stock.issue_stock(data=IssueIn(depot="D1", item="N95", quantity=4, lot=CMD,
                                   destination_kind="incident", destination_ref=MINUS,
                                   note=LINK), actor=ACTOR)
    target("D1", "N95", 100)
    op = make_user("operator", username="op")
    post_entry(data=NewEntry(text=LINK), actor=op.actor)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cells(resp) -> list[tuple[object, str]]:
    """(value, data type) of every cell of a CSV or XLSX body."""
    if resp.mimetype == "text/csv":
        text = resp.get_data(as_text=True).lstrip("\ufeff")
        return [(v, "n" if _number(v) else "s") for row in csv.reader(io.StringIO(text))
                for v in row]
    book = load_workbook(io.BytesIO(resp.data))
    return [(c.value, c.data_type) for ws in book.worksheets for row in ws.iter_rows()
            for c in row]


def _downloads(app, client) -> dict[str, list]:
    """Every spreadsheet the app serves on a GET without path variables."""
    found: dict[str, list] = {}
    query = {"depot": "D1", "item": "N95"}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.endpoint in (
                "static", "auth.logout"):
            continue
        fmts = [None] if rule.rule.endswith((".csv", ".xlsx")) else ["csv", "xlsx"]
        for fmt in fmts:
            resp = client.get(rule.rule, query_string=query | ({"format": fmt} if fmt else {}))
            if resp.status_code == 200 and resp.content_type.startswith(SPREADSHEET_TYPES):
                found[f"{rule.rule}?format={fmt}"] = _cells(resp)
            elif fmt == "csv":
                break  # a route that does not export CSV does not export XLSX either
    return found


def test_every_export_route_writes_no_live_formula(app, make_user):
    _plant(make_user)
    make_user("admin", "logistics", "operator", username="all")
    auth = Auth(app.test_client())
    auth.login("all")
    found = _downloads(app, auth.client)
    assert KNOWN <= {key.split("?")[0] for key in found}, sorted(found)
    for route, cells in found.items():
        live = [v for v, kind in cells
                if kind == "f" or (kind == "s" and isinstance(v, str)
                                    and v.startswith(tabular.FORMULA_STARTS))]
        assert live == [], route
        texts = [v for v, _kind in cells if isinstance(v, str)]
        assert any(PLANTED[0] in t or any(p in t for p in PLANTED) for t in texts), route
    card = found["/api/stock/ledger?format=xlsx"]
    for value in (CMD, MINUS, LINK):
        assert ("'" + value, "s") in card
