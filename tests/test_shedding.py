"""Overload shedding: past the limit a write is refused with 503 + Retry-After and changes
nothing, while reads keep working; under it, writes go through."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from coordination import create_app
from coordination.contexts import Context
from coordination.dutylog.models import DutyLogEntry
from coordination.extensions import db
from coordination.realtime import pressure
from coordination.web import shedding

from .conftest import Auth, IsolatedClient


@pytest.fixture
def busy_app(app, database_url: str, tmp_path: Path):
    """The app with room for one write at a time."""
    one = create_app({"instance_path": tmp_path / "instance", "database_url": database_url,
                      "secret_key": "test", "redis_url": None, "max_writes_in_flight": 1})
    one.config["TESTING"] = True
    one.test_client_class = IsolatedClient
    return one


def test_a_write_past_the_limit_is_refused_and_changes_nothing(busy_app, make_user):
    make_user("operator", username="op")
    first, second = Auth(busy_app.test_client()), Auth(busy_app.test_client())
    first.login("op")
    second.login("op")
    hold, held = threading.Event(), threading.Event()

    def blocker() -> None:
        # Another writer holds the live context's counter row (and, on SQLite, the lock).
        with db.unit_of_work() as s:
            s.execute(select(Context).where(Context.name == "live").with_for_update())
            held.set()
            hold.wait(30)

    results: list[int] = []
    threads = [threading.Thread(target=blocker)]
    threads[0].start()
    assert held.wait(10)
    threads.append(threading.Thread(target=lambda: results.append(
        first.post_json("/api/duty-log", {"text": "in flight"}).status_code)))
    threads[1].start()
    deadline = time.monotonic() + 10
    while shedding.gate.in_flight < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert shedding.gate.in_flight == 1
        refused = second.post_json("/api/duty-log", {"text": "refused"})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == str(shedding.RETRY_AFTER_SECONDS)
        assert refused.get_json()["code"] == "overloaded"
        assert pressure.delayed()  # screens are told, not dropped
        assert second.client.get("/api/duty-log").status_code == 200  # reads go on
        page_form = second.client.post("/locale", data={"locale": "en"})
        assert page_form.status_code == 503 and "text/html" in page_form.content_type
    finally:
        hold.set()
        for t in threads:
            t.join(30)
    assert results == [201]
    assert shedding.gate.in_flight == 0
    assert second.post_json("/api/duty-log", {"text": "after"}).status_code == 201
    with db.reading() as s:
        texts = list(s.scalars(select(DutyLogEntry.text).order_by(DutyLogEntry.id)))
    assert texts == ["in flight", "after"]
