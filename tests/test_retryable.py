"""Faults that pass answer 503 + Retry-After ("try again"), and nothing is half-written.

Both are provoked for real: a PostgreSQL backend terminated (``pg_terminate_backend``)
while its write waits on a table lock, and a SQLite database on a 1 MB tmpfs mounted
for the test and filled to the last byte (root only; skipped elsewhere).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from coordination import create_app, migrate
from coordination.auth import service as auth_service
from coordination.dutylog.models import DutyLogEntry
from coordination.events import Actor, Event
from coordination.extensions import db

from .support import PG_ADMIN_URL, Databases, need


def _app(url: str, tmp_path: Path) -> Flask:
    app = create_app({"instance_path": tmp_path / "instance", "database_url": url,
                      "secret_key": "test", "redis_url": None})
    app.config["TESTING"] = True
    return app


def _bearer() -> dict[str, str]:
    _tok, secret = auth_service.create_token(name="t", roles=["operator"], actor=Actor.system("t"))
    return {"Authorization": f"Bearer {secret}"}


def _counts() -> tuple[int, int]:
    with db.reading() as s:
        return (s.scalar(select(func.count()).select_from(DutyLogEntry)) or 0,
                s.scalar(select(func.count()).select_from(Event)) or 0)


def _assert_says_try_again(resp: Any) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    assert int(resp.headers["Retry-After"]) > 0
    body = resp.get_json()
    assert body["code"] == "retry" and body["error"]


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        ok, why = True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        ok, why = False, str(exc)
    need("PostgreSQL", ok, why)
    dbs = Databases(PG_ADMIN_URL)
    url = dbs.postgres()
    app = _app(url, tmp_path)
    try:
        with app.app_context():
            yield app, url
    finally:
        db.dispose()
        dbs.drop_all()


@pytest.mark.postgres
def test_a_write_whose_connection_is_terminated_is_503_and_not_half_written(pg_app):
    app, url = pg_app
    headers = _bearer()
    before = _counts()
    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    blocking = create_engine(url)
    blocker = blocking.connect()
    blocker.execute(text("LOCK TABLE duty_log_entries IN ACCESS EXCLUSIVE MODE"))
    answers: list[Any] = []
    writer = threading.Thread(target=lambda: answers.append(app.test_client().post(
        "/api/duty-log", json={"text": "in flight"}, headers=headers)))
    writer.start()
    try:
        with admin.connect() as conn:
            pids: list[int] = []
            for _ in range(100):  # the write is in flight once it waits on the lock
                pids = list(conn.scalars(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :d "
                    "AND wait_event_type = 'Lock'"), {"d": name}))
                if pids:
                    break
                time.sleep(0.1)
            assert pids, "the write never reached the database"
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        blocker.rollback()
        blocker.close()
        blocking.dispose()
        writer.join(30)
        admin.dispose()
    _assert_says_try_again(answers[0])
    assert _counts() == before, "nothing of the interrupted write is stored"
    again = app.test_client().post("/api/duty-log", json={"text": "in flight"}, headers=headers)
    assert again.status_code == 201, "the pool recovers: the retry goes through"
    assert _counts()[0] == before[0] + 1


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    need("a tmpfs mount (root)", os.geteuid() == 0)
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    need("a tmpfs mount", done.returncode == 0, done.stderr.strip())
    try:
        yield mount
    finally:
        db.dispose()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory: Path) -> Path:
    """Write until the file system says ENOSPC; the file is the whole free space."""
    filler = directory / "filler"
    block = b"\0" * 4096
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as exc:
            assert exc.errno == 28, exc  # ENOSPC
    return filler


def test_a_write_on_a_full_disk_is_503(tiny_disk: Path, tmp_path: Path):
    app = _app(f"sqlite:///{tiny_disk / 'coordination.db'}", tmp_path)
    with app.app_context():
        migrate.upgrade()
        headers = _bearer()
        before = _counts()
        db.dispose()  # the WAL is checkpointed; the next write must grow a file
        filler = _fill(tiny_disk)
        client = app.test_client()
        resp = client.post("/api/duty-log", json={"text": "x" * 900}, headers=headers)
        _assert_says_try_again(resp)
        filler.unlink()
        assert _counts() == before
        again = client.post("/api/duty-log", json={"text": "x" * 900}, headers=headers)
        assert again.status_code == 201
