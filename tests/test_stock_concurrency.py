"""Two real server processes on one PostgreSQL database each issue from the same lot 500
times at once over HTTP: the balance ends exact, never negative, the ledger sums to it, and
every refusal is a clean 409."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from coordination import create_app
from coordination.auth import service as auth_service
from coordination.events import Actor
from coordination.extensions import db

from .support import PG_ADMIN_URL, Databases, need, start_server
from .test_stock_support import make_depot, make_item, receive, soon

PER_SERVER = 500
STOCK = 700  # fewer than the 1,000 attempts, so some must be refused


def _pg_reachable() -> tuple[bool, str]:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return False, str(exc)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_servers_issuing_from_one_lot_end_exact(tmp_path: Path):
    ok, why = _pg_reachable()
    need("PostgreSQL", ok, why)
    databases = Databases(PG_ADMIN_URL)
    servers = []
    try:
        url = databases.postgres()
        app = create_app({"database_url": url, "instance_path": tmp_path / "setup",
                          "redis_url": None, "secret_key": "test"})
        try:
            with app.app_context():
                make_depot("D1")
                make_item("N95")
                receive("D1", "N95", "L1", STOCK, soon(300))
                _tok, secret = auth_service.create_token(name="scanner", roles=["logistics"],
                                                         actor=Actor.system("test"))
        finally:
            db.dispose()
        servers = [start_server(database_url=url, instance=tmp_path / f"s{i}") for i in (0, 1)]
        go = threading.Barrier(2 * 16)
        local = threading.local()

        def one(base: str) -> int:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
                session.headers["Authorization"] = f"Bearer {secret}"
                go.wait(timeout=60)  # every worker starts at once
            r = session.post(base + "/api/stock/issues", timeout=60, json={
                "depot": "D1", "item": "N95", "quantity": 1, "lot": None,
                "destination_kind": "incident", "destination_ref": "INC-RUSH"})
            if r.status_code != 201:
                assert r.headers["content-type"].startswith("application/json"), r.text[:200]
                assert r.json()["error"]
            return r.status_code

        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = [pool.submit(one, srv.url) for _ in range(PER_SERVER) for srv in servers]
            statuses = Counter(f.result() for f in futures)
        assert statuses == {201: STOCK, 409: 2 * PER_SERVER - STOCK}, statuses

        engine = create_engine(url)
        with engine.connect() as conn:
            balance = conn.execute(text("select quantity from stock_balances")).scalar_one()
            ledger = conn.execute(text("select sum(quantity), min(balance_after), count(*) "
                                       "from stock_ledger")).one()
            issued = conn.execute(text("select count(*) from events where type = "
                                       "'stock.issued'")).scalar_one()
        engine.dispose()
        assert balance == 0
        assert ledger[0] == balance and ledger[1] >= 0 and ledger[2] == 1 + STOCK
        assert issued == STOCK
    finally:
        for srv in servers:
            srv.stop()
        databases.drop_all()
