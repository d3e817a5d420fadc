"""Imports (CSV and XLSX, all or nothing, every bad row reported) and exports that match
the JSON, through the service, the API and the ``coordination stock import`` command."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from coordination.stock import service as stock
from coordination.stock.exports import CARD_COLUMNS, GAP_COLUMNS, cell

from .test_stock_support import (
    ACTOR,
    FENGZHEN,
    book_state,
    issue,
    make_depot,
    make_item,
    on_hand,
    receive,
    soon,
    target,
)

HEADER = ["depot", "item", "lot", "expiry", "quantity"]


def _good_and_bad_rows() -> list[list[object]]:
    future = soon(300).isoformat()
    return [
        HEADER,
        ["D1", "N95", "NEW-1", future, 100],          # 2 good
        ["D9", "N95", "NEW-2", future, 5],            # 3 unknown depot
        ["D1", "NOPE", "NEW-3", future, 5],           # 4 unknown item
        ["D1", "N95", "NEW-4", "31/02/2027", 5],      # 5 bad expiry
        ["D1", "N95", "NEW-5", future, -3],           # 6 negative
        ["D1", "N95", "NEW-6", future, 0],            # 7 zero
        ["D1", "N95", "NEW-7", future, "lots"],       # 8 not a number
        ["D1", "N95", "NEW-8", future, 2.5],          # 9 not whole
        ["D1", "N95", "NEW-9", "2001-01-01", 5],      # 10 already expired
        ["D1", "N95", "", future, 5],                 # 11 lot missing
        ["D1", "N95", "NEW-10", future, 7],           # 12 good
    ]


EXPECTED_BAD = [(3, "depot"), (4, "item"), (5, "expiry"), (6, "quantity"), (7, "quantity"),
                (8, "quantity"), (9, "quantity"), (10, "expiry"), (11, "lot")]


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    ws = book.active
    for r in rows:
        ws.append([date.fromisoformat(v) if isinstance(v, str) and v[:2] == "20"
                   and len(v) == 10 and v[4] == "-" else v for v in r])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.fixture
def depot(app):
    make_depot("D1")
    make_depot("D2", FENGZHEN)
    make_item("N95")
    receive("D1", "N95", "OLD", 40, soon(60))
    return "D1"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_import_with_bad_rows_commits_nothing_and_lists_each(depot, fmt):
    rows = _good_and_bad_rows()
    content = _csv(rows) if fmt == "csv" else _xlsx(rows)
    before = book_state()
    with pytest.raises(stock.ImportRejected) as err:
        stock.import_stock(content=content, filename=f"delivery.{fmt}",
                           kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    assert [(d["row"], d["field"]) for d in err.value.details] == EXPECTED_BAD
    assert all(d["message"] for d in err.value.details)
    assert book_state() == before
    good = [rows[0], rows[1], rows[-1]]
    content = _csv(good) if fmt == "csv" else _xlsx(good)
    result = stock.import_stock(content=content, filename=f"delivery.{fmt}",
                                kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    assert result["rows"] == 2
    assert on_hand("D1", "N95") == 147


def test_missing_columns_and_a_count_of_an_unknown_lot(depot):
    with pytest.raises(stock.ImportRejected) as err:
        stock.import_stock(content=_csv([["depot", "item", "qty"], ["D1", "N95", 3]]),
                           filename="c.csv", kind=stock.ImportKind.COUNT, actor=ACTOR)
    assert [(d["row"], d["field"]) for d in err.value.details] == [(1, "lot")]
    before = book_state()
    with pytest.raises(stock.ImportRejected) as err:
        stock.import_stock(content=_csv([["item", "lot", "counted"], ["N95", "OLD", 35],
                                         ["N95", "GHOST", 3]]),
                           filename="c.csv", kind=stock.ImportKind.COUNT, actor=ACTOR,
                           default_depot="D1")
    assert [(d["row"], d["field"]) for d in err.value.details] == [(3, "lot")]
    assert book_state() == before
    # 物资编码/批号/实盘数量: Chinese headers work too; a count reveals the loss of 5.
    zh = _csv([["物资编码", "批号", "实盘数量"], ["N95", "OLD", 35]])
    result = stock.import_stock(content=zh, filename="c.csv", kind=stock.ImportKind.COUNT,
                                actor=ACTOR, default_depot="D1")
    assert result["entries"][0]["quantity"] == -5 and on_hand("D1", "N95") == 35


def test_the_api_import_reports_every_bad_row(depot, app, make_user):
    from .conftest import Auth

    make_user("logistics", username="log")
    auth = Auth(app.test_client())
    auth.login("log")
    from coordination.jobs import service as jobs

    before = book_state()
    r = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf}, data={
        "kind": "receipt", "file": (io.BytesIO(_xlsx(_good_and_bad_rows())), "d.xlsx")})
    assert r.status_code == 202
    assert jobs.run_pending() == 1
    job = auth.client.get(r.headers["Location"]).get_json()
    assert job["status"] == "rejected"
    assert [(d["row"], d["field"]) for d in job["result"]["problems"]] == EXPECTED_BAD
    assert book_state() == before
    r = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf}, data={
        "kind": "count", "depot": "D1",
        "file": (io.BytesIO(_csv([["item", "lot", "quantity"], ["N95", "OLD", 39]])), "c.csv")})
    assert r.status_code == 202, r.get_json()
    assert jobs.run_pending() == 1
    assert auth.client.get(r.headers["Location"]).get_json()["status"] == "done"
    assert on_hand("D1", "N95") == 39
    for bad in ({"kind": "receipt"},
                {"kind": "receipt", "file": (io.BytesIO(b"x"), "notes.pdf")},
                {"kind": "receipt", "file": (io.BytesIO(b"not a zip"), "broken.xlsx")},
                {"kind": "weird", "file": (io.BytesIO(_csv([HEADER])), "a.csv")}):
        r = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf}, data=bad)
        assert r.status_code == 400 and r.get_json()["error"], bad


def test_the_cli_import_prints_every_bad_row_and_exits_non_zero(depot, app, tmp_path,
                                                                 monkeypatch):
    from coordination import cli

    path = tmp_path / "delivery.csv"
    path.write_bytes(_csv(_good_and_bad_rows()))
    monkeypatch.setattr(cli, "_app", lambda: app)
    monkeypatch.setattr(cli, "_migrate", lambda: None)
    before = book_state()
    result = CliRunner().invoke(cli.main, ["stock", "import", str(path), "--kind", "receipt"])
    assert result.exit_code == 1, result.output
    for row, field in EXPECTED_BAD:
        assert f"row {row}" in result.output and field in result.output
    assert book_state() == before
    path.write_bytes(_csv([["item", "lot", "quantity", "expiry"],
                           ["N95", "NEW", 5, soon(100).isoformat()]]))
    result = CliRunner().invoke(cli.main, ["stock", "import", str(path), "--depot", "D2"])
    assert result.exit_code == 0, result.output
    assert on_hand("D2", "N95") == 5


def _sheet(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _norm(v: object) -> object:
    """A cell as written: openpyxl reads a date cell back as a datetime at midnight."""
    if isinstance(v, datetime) and v.time() == time(0) and v.microsecond == 0:
        return v.date()
    return "" if v is None else v


def test_xlsx_and_csv_exports_match_the_json(depot, app, make_user):
    from .conftest import Auth

    target("D1", "N95", 100)
    target("D2", "N95", 10)
    issue("D1", "N95", 4)
    make_user("operator", username="op")
    auth = Auth(app.test_client())
    auth.login("op")
    report = auth.client.get("/api/stock/gaps").get_json()
    r = auth.client.get("/api/stock/gaps?format=xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["Content-Type"]
    sheet = _sheet(r.data)
    assert len(sheet) == 1 + len(report["rows"]) == 3
    for line, row in zip(sheet[1:], report["rows"], strict=True):
        assert [_norm(v) for v in line] == [cell(k, row.get(k)) for k, _t in GAP_COLUMNS]
    r = auth.client.get("/api/stock/gaps?format=csv")
    lines = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [ln[0] for ln in lines[1:]] == ["D1", "D2"]
    assert lines[1][[k for k, _ in GAP_COLUMNS].index("shortfall")] == "64"

    card = auth.client.get("/api/stock/ledger?depot=D1&item=N95").get_json()
    sheet = _sheet(auth.client.get("/api/stock/ledger?depot=D1&item=N95&format=xlsx").data)
    assert len(sheet) == 1 + len(card["entries"]) == 3
    for line, entry in zip(sheet[1:], card["entries"], strict=True):
        assert [_norm(v) for v in line] == [cell(k, entry.get(k)) for k, _t in CARD_COLUMNS]
    assert [e["balance"] for e in card["entries"]] == [40, 36]
