"""Spreadsheet exports and imports as Excel and WPS users meet them (issue #23).

Times are date-time cells in the configured zone (not UTC text with
microseconds), expiry dates are date cells, yes/no and units are words in the
reader's language, and a lot number a spreadsheet turned into a number
(00123 → 123) is refused on import rather than taken as another lot.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from coordination.stock import service as stock
from coordination.stock.exports import CARD_COLUMNS, GAP_COLUMNS

from .conftest import Auth
from .test_stock_support import ACTOR, make_depot, make_item, receive, soon, target

SH = ZoneInfo("Asia/Shanghai")


def _rows(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    try:
        return [[c for c in r] for r in book.worksheets[0].iter_rows()]
    finally:
        book.close()


@pytest.fixture
def op(app, make_user):
    make_depot("D1")
    make_item("N95")
    receive("D1", "N95", "L-7", 40, soon(60))
    target("D1", "N95", 100)
    make_user("operator", username="op")
    auth = Auth(app.test_client())
    auth.login("op")
    return auth


def test_stock_card_times_and_expiry_are_date_cells_in_the_local_zone(op):
    card = op.client.get("/api/stock/ledger?depot=D1&item=N95").get_json()
    rows = _rows(op.client.get("/api/stock/ledger?depot=D1&item=N95&format=xlsx").data)
    keys = [k for k, _t in CARD_COLUMNS]
    at_cell, expiry_cell = rows[1][keys.index("at")], rows[1][keys.index("expiry")]
    assert at_cell.is_date and expiry_cell.is_date
    assert "h" not in expiry_cell.number_format  # a date, no time of day
    stored = datetime.fromisoformat(card["entries"][0]["at"])
    assert at_cell.value == stored.astimezone(SH).replace(tzinfo=None, microsecond=0)
    assert expiry_cell.value.date() == date.fromisoformat(card["entries"][0]["expiry"])
    days_left = (expiry_cell.value.date() - datetime.now(SH).date()).days
    assert 55 <= days_left <= 61  # what a spreadsheet formula would compute


def test_booleans_and_units_are_words_in_the_readers_language(op):
    rows = _rows(op.client.get("/api/stock/gaps?format=xlsx").data)  # zh-CN, the default
    keys = [k for k, _t in GAP_COLUMNS]
    values = [c.value for c in rows[1]]
    assert values[keys.index("critical")] in ("是", "否")
    assert values[keys.index("fast_moving")] in ("是", "否")
    assert values[keys.index("unit")] not in ("piece", "box", "unit")
    from coordination.stock.exports import cell

    with force_locale("en"):
        assert (cell("critical", True), cell("unit", "box")) == ("Yes", "box")
    with force_locale("zh_CN"):
        assert (cell("critical", False), cell("unit", "box")) == ("否", "盒")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for r in rows:
        book.active.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_a_lot_number_a_spreadsheet_made_numeric_is_refused(op):
    expiry = soon(300)
    content = _xlsx([["depot", "item", "lot", "expiry", "quantity"],
                     ["D1", "N95", 123, expiry, 10],          # was 00123
                     ["D1", "N95", "00124", expiry, 10]])      # a text cell: fine
    with force_locale("en"), pytest.raises(stock.ImportRejected) as err:
        stock.import_stock(content=content, filename="delivery.xlsx",
                           kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    assert [(d["row"], d["field"]) for d in err.value.details] == [(2, "lot")]
    assert "leading zeros" in err.value.details[0]["message"]
