"""Big stock imports, run as jobs: the documented maximum goes through, once; the same
file twice (one after the other, or both at once) is "already imported", never a doubled
receipt; each job is run by exactly one worker, even when a worker died holding it.

How fast, and how the rest of the deployment answers meanwhile, is measured in
``tests/benchmarks/import_bench.py`` (timings do not belong in the normal suite).
"""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import select, update

from coordination.db import utcnow
from coordination.errors import Conflict
from coordination.extensions import db
from coordination.jobs import service as jobs
from coordination.jobs.models import Job
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


def _until(condition, what: str, seconds: float = 300.0):
    """Poll ``condition`` until it is true (a generous deadline for a loaded machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _post(auth, content: bytes, name: str = "max.csv", **form):
    return auth.client.post("/api/stock/import", headers={"X-CSRFToken": auth.csrf},
                            data={"kind": "receipt", **form,
                                  "file": (io.BytesIO(content), name)})


def _submit(content: bytes, name: str = "a.csv") -> str:
    return stock.submit_import(content=content, filename=name, kind=stock.ImportKind.RECEIPT,
                               actor=ACTOR)["job"]


def _job(job_id: str) -> dict:
    return stock.import_job(job_id=job_id, context="live")


def test_the_documented_maximum_runs_as_a_job_while_others_read_and_the_bar_moves(
        depot, app, make_user, auth):
    """50,000 rows over the API: 202 and a job at once; a worker thread (as in a serving
    process) applies it while a reader's ``GET /api/incidents`` keeps answering and the
    job's progress (what the page's bar polls) only goes forward, ending "done" with
    every row. Sending the file again is "already imported". (How fast, and the reader's
    latency: tests/benchmarks/import_bench.py.)"""
    make_user("logistics", username="log1")
    make_user("operator", username="op1")
    auth.login("log1")
    reader = app.test_client()
    reader_auth = type(auth)(reader)
    reader_auth.login("op1")
    content = receipt_file(MAX_ROWS, lots=5000)
    resp = _post(auth, content)
    assert resp.status_code == 202, resp.get_data(as_text=True)[:300]
    queued = resp.get_json()
    assert queued["status"] == "queued" and not queued["finished"]
    assert resp.headers["Location"].endswith(f"/api/stock/import-jobs/{queued['job']}")
    assert on_hand("D1", "N95") == 0, "nothing is applied inside the request"
    stop = threading.Event()
    worker = threading.Thread(target=jobs.worker, args=(app, stop))
    reads: list[int] = []
    seen: list[tuple[str, int]] = []
    worker.start()
    try:
        def finished() -> dict | None:
            reads.append(reader.get("/api/incidents").status_code)
            body = auth.client.get(resp.headers["Location"]).get_json()
            seen.append((body["status"], body["rows_done"]))
            return body if body["finished"] else None

        final = _until(finished, "the import job to finish")
    finally:
        stop.set()
        jobs._WAKE.set()
        worker.join(60)
    assert (final["status"], final["rows_done"], final["rows_total"], final["errors"]) == (
        "done", MAX_ROWS, MAX_ROWS, 0), final
    assert final["result"]["rows"] == MAX_ROWS
    assert on_hand("D1", "N95") == MAX_ROWS
    assert reads and set(reads) == {200}
    done_counts = [n for _, n in seen]
    assert done_counts == sorted(done_counts), "progress only goes forward"
    assert any(s == "running" and 0 < n < MAX_ROWS for s, n in seen) or len(seen) < 3, seen
    again = _post(auth, content)
    assert again.status_code == 409 and again.get_json()["error"] == already()
    assert ledger_matches_balances()


def test_the_same_file_while_its_job_waits_is_already_being_imported(depot):
    content = receipt_file(50, lots=5)
    first = _submit(content)
    with pytest.raises(Conflict) as refused:
        _submit(content, "again.csv")
    assert refused.value.details == {"job": first}
    assert jobs.run_pending() == 1
    assert _job(first)["status"] == "done"
    with pytest.raises(Conflict) as refused:
        _submit(content, "third.csv")
    assert str(refused.value.message) == already()
    assert on_hand("D1", "N95") == 50


def test_two_jobs_of_one_file_run_at_once_one_imports_one_is_already_imported(depot, app):
    """The race the submit check cannot close (both checked before either was queued):
    two workers run the two jobs at the same time; the import key lets one apply."""
    content = receipt_file(3000, lots=60)
    key = jobs.submit  # both queued as two racing submits would leave them
    ids = [key(context="live", kind="stock.import", actor=ACTOR, content=content,
               key="k" * 64, params={"filename": f"{n}.csv", "kind": "receipt",
                                     "depot": None})["job"] for n in range(2)]
    gate = threading.Barrier(2)

    def run() -> None:
        with app.app_context():
            gate.wait()
            jobs.run_next()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    outcomes = sorted(_job(i)["status"] for i in ids)
    assert outcomes == ["done", "duplicate"], outcomes
    dup = next(_job(i) for i in ids if _job(i)["status"] == "duplicate")
    assert dup["message"] == already()
    assert on_hand("D1", "N95") == 3000
    assert ledger_matches_balances()


def test_many_workers_run_each_job_exactly_once(depot, app):
    """Three workers (as three processes would) drain eight queued jobs: each is claimed
    by one of them, so every file is on the books once."""
    ids = [_submit(receipt_file(100 + n, lots=3, tag=f"W{n}"), f"{n}.csv") for n in range(8)]
    gate = threading.Barrier(3)
    ran: list[int] = []

    def drain() -> None:
        with app.app_context():
            gate.wait()
            ran.append(jobs.run_pending())

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(ran) == 8
    assert {_job(i)["status"] for i in ids} == {"done"}
    assert on_hand("D1", "N95") == sum(100 + n for n in range(8))
    with db.reading() as s:
        assert all(j.attempts == 1 and j.content is None for j in s.scalars(select(Job)))


def test_a_job_whose_worker_died_is_taken_over_and_applied_once(depot):
    job_id = _submit(receipt_file(40, lots=4))
    with db.unit_of_work() as s:  # a process claimed it, then died: its lease runs out
        s.execute(update(Job).where(Job.id == job_id).values(
            status="running", worker="gone:1", attempts=1,
            lease_until=utcnow() - timedelta(seconds=1)))
    assert jobs.run_pending() == 1
    body = _job(job_id)
    assert body["status"] == "done" and body["rows_done"] == 40
    assert on_hand("D1", "N95") == 40
    assert jobs.run_pending() == 0


def test_a_worker_that_lost_its_job_applies_nothing(depot, monkeypatch):
    """If another worker took the job over meanwhile, the late one's posting rolls back."""
    job_id = _submit(receipt_file(30, lots=3))
    real = jobs.JobRun.finish

    def stolen(self, s, result, *, rows):
        with db.reading() as other:
            assert other.get(Job, job_id) is not None
        s.execute(update(Job).where(Job.id == job_id).values(worker="other:2"))
        real(self, s, result, rows=rows)

    monkeypatch.setattr(jobs.JobRun, "finish", stolen)
    assert jobs.run_pending() == 1
    assert on_hand("D1", "N95") == 0


def test_a_rejected_job_lists_its_problems(depot, app):
    bad = b"depot,item,lot,expiry,quantity\nD1,N95,A,2001-01-01,5\nD1,NOPE,B,,5\n"
    job_id = _submit(bad, "bad.csv")
    jobs.run_pending()
    body = _job(job_id)
    assert (body["status"], body["rows_total"], body["errors"]) == ("rejected", 2, 2)
    assert [(p["row"], p["field"]) for p in body["result"]["problems"]] == [
        (2, "expiry"), (3, "item")]
    assert on_hand("D1", "N95") == 0


def test_job_ids_are_checked_and_unknown_jobs_are_404(depot, app, make_user, auth):
    make_user("logistics", username="log1")
    auth.login("log1")
    assert auth.client.get("/api/stock/import-jobs/no-such-job-here").status_code == 404
    assert auth.client.get("/api/stock/import-jobs/" + "x" * 200).status_code == 404
    assert auth.client.get("/stock/import/jobs/nope").status_code == 404
    for bad, name in ((b"", "a.csv"), (b"x", "notes.pdf")):
        assert _post(auth, bad, name).status_code == 400


def test_the_page_queues_the_file_and_its_job_page_shows_the_outcome(depot, app, make_user,
                                                                     auth):
    from .support import csrf_from

    make_user("logistics", username="log1")
    auth.login("log1")
    form = auth.client.get("/stock/import")
    content = receipt_file(120, lots=4)
    r = auth.client.post("/stock/import", data={
        "csrf_token": csrf_from(form.text), "kind": "receipt",
        "file": (io.BytesIO(content), "delivery.csv")}, content_type="multipart/form-data")
    assert r.status_code == 303 and "/stock/import/jobs/" in r.headers["Location"]
    waiting = auth.client.get(r.headers["Location"]).text
    assert 'id="import-progress"' in waiting and 'data-finished="false"' in waiting
    assert "stock_import.js" in waiting and 'id="import-result"' not in waiting
    assert jobs.run_pending() == 1
    done = auth.client.get(r.headers["Location"]).text
    assert 'data-finished="true"' in done and 'id="import-result"' in done
    assert "delivery.csv" in auth.client.get("/stock/import").text  # the recent imports
    again = auth.client.post("/stock/import", data={
        "csrf_token": csrf_from(form.text), "kind": "receipt",
        "file": (io.BytesIO(content), "delivery.csv")}, content_type="multipart/form-data")
    assert again.status_code == 409 and already() in again.text
    assert on_hand("D1", "N95") == 120
