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
from flask_babel import gettext

from coordination.errors import Conflict
from coordination.stock import service as stock
from coordination.stock.import_progress import job_progress
from coordination.stock.imports import MAX_ROWS, ImportRejected

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


def already() -> str:
    return gettext("This file was already imported; nothing was imported again.")


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
    with pytest.raises(Conflict) as refused:
        stock.import_stock(content=content, filename="a-again.csv",
                           kind=stock.ImportKind.RECEIPT, actor=ACTOR)
    assert str(refused.value.message) == already()
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
                assert str(exc.message) == already()
                outcomes.append("already")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["already", "imported"]
    assert on_hand("D1", "N95") == 2000
    assert ledger_matches_balances()


def test_the_documented_maximum_goes_through_while_others_read_and_the_bar_moves(
        depot, app, make_user, auth):
    """50,000 rows over the API with a job id: meanwhile a reader's ``GET /api/incidents``
    keeps answering and the job's progress (what the page's bar polls) only goes forward
    and ends "done" with every row. (How fast: tests/benchmarks/import_bench.py.)"""
    make_user("logistics", username="log1")
    make_user("operator", username="op1")
    auth.login("log1")
    reader = app.test_client()
    reader_auth = type(auth)(reader)
    reader_auth.login("op1")
    content = receipt_file(MAX_ROWS, lots=5000)
    finished = threading.Event()
    reads: list[int] = []
    seen: list[tuple[str, int]] = []

    def read() -> None:
        while not finished.is_set():
            reads.append(reader.get("/api/incidents").status_code)
            progress = auth.client.get("/api/stock/import-jobs/job-max-rows-1")
            if progress.status_code == 200:
                body = progress.get_json()
                seen.append((body["phase"], body["rows_done"]))

    watcher = threading.Thread(target=read)
    watcher.start()
    try:
        resp = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf},
                                data={"kind": "receipt", "job": "job-max-rows-1",
                                      "file": (io.BytesIO(content), "max.csv")})
    finally:
        finished.set()
        watcher.join(60)
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["rows"] == MAX_ROWS
    assert on_hand("D1", "N95") == MAX_ROWS
    assert reads and set(reads) == {200}
    final = auth.client.get("/api/stock/import-jobs/job-max-rows-1").get_json()
    assert (final["phase"], final["rows_done"], final["rows_total"], final["errors"]) == (
        "done", MAX_ROWS, MAX_ROWS, 0)
    done_counts = [n for _, n in seen]
    assert done_counts == sorted(done_counts), "progress only goes forward"
    again = auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf},
                             data={"kind": "receipt", "file": (io.BytesIO(content), "max.csv")})
    assert again.status_code == 409 and again.get_json()["error"] == already()


def test_a_rejected_import_reports_its_problems_as_progress(depot, app):
    bad = b"depot,item,lot,expiry,quantity\nD1,N95,A,2001-01-01,5\nD1,NOPE,B,,5\n"
    with pytest.raises(ImportRejected):
        stock.import_stock(content=bad, filename="bad.csv", kind=stock.ImportKind.RECEIPT,
                           actor=ACTOR, job="job-rejected-1")
    assert job_progress(job="job-rejected-1", context="live") == {
        "job": "job-rejected-1", "phase": "rejected", "rows_total": 2, "rows_done": 0,
        "errors": 2}


def test_job_ids_are_checked_and_unknown_jobs_are_404(depot, app, make_user, auth):
    make_user("logistics", username="log1")
    auth.login("log1")
    assert auth.client.get("/api/stock/import-jobs/no-such-job-here").status_code == 404
    assert auth.client.get("/api/stock/import-jobs/bad").status_code == 400
    page = auth.client.get("/stock/import").text
    assert 'id="import-progress"' in page and "stock_import.js" in page
