"""Big stock imports: the documented maximum goes through, once; the same file twice
(one after the other, or both at once) is "already imported", never a doubled receipt.

How fast, and how the rest of the deployment answers meanwhile, is measured in
``tests/benchmarks/import_bench.py`` (timings do not belong in the normal suite).
"""

from __future__ import annotations

import csv
import io
import threading

import pytest

from coordination.errors import Conflict
from coordination.stock import service as stock
from coordination.stock.imports import MAX_ROWS

from .test_stock_support import ACTOR, ledger_matches_balances, make_depot, make_item, on_hand, soon


def receipt_file(rows: int, *, lots: int = 1000, tag: str = "L") -> bytes:
    """``rows`` receipts of 1 unit spread over ``lots`` new lots of N95 at D1."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["depot", "item", "lot", "expiry", "quantity"])
    expiry = soon(300).isoformat()
    for n in range(rows):
        writer.writerow(["D1", "N95", f"{tag}-{n % lots}", expiry, 1])
    return out.getvalue().encode("utf-8")


@pytest.fixture
def depot(app):
    make_depot("D1")
    make_item("N95")
    return "D1"


def test_the_same_file_twice_is_already_imported(depot):
    content = receipt_file(300, lots=7)
    first = stock.import_stock(content=content, filename="a.csv",
                               kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    assert first["rows"] == 300 and len(first["entries"]) == 300
    with pytest.raises(Conflict, match="already imported"):
        stock.import_stock(content=content, filename="a-again.csv",
                           kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    assert on_hand("D1", "N95") == 300
    assert ledger_matches_balances()


def test_counts_of_one_lot_apply_in_file_order(depot):
    stock.import_stock(content=receipt_file(10, lots=1, tag="C"), filename="r.csv",
                       kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    counts = b"item,lot,counted\nN95,C-0,4\nN95,C-0,6\n"
    result = stock.import_stock(content=counts, filename="c.csv", kind=stock.ImportKind.COUNT,
                                actor=ACTOR, default_depot="D1")
    assert [(e["book"], e["quantity"], e["balance_after"]) for e in result["entries"]] == [
        (10, -6, 4), (4, 2, 6)]
    assert on_hand("D1", "N95") == 6
    assert ledger_matches_balances()


def test_concurrent_imports_of_one_file_one_wins(depot, app):
    content = receipt_file(2000, lots=50)
    gate = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        with app.app_context():
            gate.wait()
            try:
                stock.import_stock(content=content, filename="same.csv",
                                   kind=stock.ImportKind.RECEIPT, actor=ACTOR)
                outcomes.append("imported")
            except Conflict as exc:
                assert "already imported" in str(exc.message)
                outcomes.append("already")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["already", "imported"]
    assert on_hand("D1", "N95") == 2000
    assert ledger_matches_balances()


def test_the_documented_maximum_goes_through_over_the_api(depot, app, make_user, auth):
    make_user("logistics", username="log1")
    auth.login("log1")
    content = receipt_file(MAX_ROWS, lots=5000)
    resp = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf},
                            data={"kind": "receipt", "file": (io.BytesIO(content), "max.csv")})
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["rows"] == MAX_ROWS
    assert on_hand("D1", "N95") == MAX_ROWS
    again = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf},
                             data={"kind": "receipt", "file": (io.BytesIO(content), "max.csv")})
    assert again.status_code == 409 and "already imported" in again.get_json()["error"]
