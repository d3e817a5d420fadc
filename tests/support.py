"""Shared test helpers: real services, real server processes, factories.

Tests talk to the machine's real Redis and PostgreSQL and to real server
processes. On a laptop without them those tests skip; under ``CI=true`` a
missing service fails the run instead, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT_DIR = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("COORDINATION_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_ADMIN_URL = os.environ.get(
    "COORDINATION_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CHROMIUM = os.environ.get("COORDINATION_TEST_CHROMIUM", "/usr/bin/chromium")


def need(what: str, ok: bool, why: str = "") -> None:
    """Skip when a real component is missing, except under CI where that is a failure."""
    if ok:
        return
    message = f"{what} is not available{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def redis_available() -> tuple[bool, str]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return False, str(exc)


def need_redis() -> str:
    ok, why = redis_available()
    need("Redis", ok, why)
    return REDIS_URL


def need_chromium() -> str:
    need("Chromium", Path(CHROMIUM).exists(), CHROMIUM)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    """A real ``coordination serve`` process on its own port."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_healthy(self, stalled: float) -> ServerProcess:
        """Poll ``/api/health`` for the condition (healthy, or exited) rather than bound
        the start: a demo server migrates and seeds first, which on a loaded 2-core
        machine takes what it takes. Only a server that is alive, unhealthy and silent
        (its log has not grown) for ``stalled`` seconds is killed and reported."""
        last_size, last_progress = -1, time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/api/health", timeout=5).ok:
                    return self
            except requests.RequestException:
                pass
            size = self.log_path.stat().st_size if self.log_path.exists() else 0
            if size != last_size:
                last_size, last_progress = size, time.monotonic()
            elif time.monotonic() - last_progress > stalled:
                break
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server stalled for {stalled:g} s without starting:\n{self.log()}")


# A server that neither answers nor writes to its log for this long is stuck (generous:
# a healthy one on a loaded machine writes within seconds).
STALLED_S = 300


def start_server(
    *,
    database_url: str,
    instance: Path,
    redis_url: str | None = None,
    demo: bool = False,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
    moving: bool = False,
) -> ServerProcess:
    """A real server process; a demo one is ``--still`` unless ``moving`` (tests that
    check positions or statuses must not race the demo's own ambulances)."""
    port = port or free_port()
    env = dict(os.environ)
    env.update({
        "COORDINATION_DATABASE_URL": database_url,
        "COORDINATION_INSTANCE_PATH": str(instance),
        "COORDINATION_SECRET_KEY": "test-secret-key-shared-by-processes",
        "COORDINATION_HEAD_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("COORDINATION_REDIS_URL", None)
    if redis_url:
        env["COORDINATION_REDIS_URL"] = redis_url
    env.update(extra_env or {})
    log_path = instance / f"server-{port}.log"
    instance.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "coordination.cli", "serve", "--port", str(port)]
    if demo:
        cmd += ["--demo"] if moving else ["--demo", "--still"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(url=f"http://127.0.0.1:{port}", port=port, proc=proc,
                           log_path=log_path, env=env)
    return server.wait_healthy(STALLED_S)


def login_session(base_url: str, username: str, password: str) -> requests.Session:
    """A requests session signed in through the real login form (CSRF included)."""
    s = requests.Session()
    page = s.get(base_url + "/login", timeout=10)
    token = csrf_from(page.text)
    r = s.post(base_url + "/login", data={"username": username, "password": password,
                                          "csrf_token": token}, timeout=10)
    assert r.ok and "/login" not in r.url, r.text[:500]
    s.headers["X-CSRFToken"] = csrf_from(r.text)
    return s


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- databases -------------------------------------------------------------


class Databases:
    """Fresh databases per test: a SQLite file, or a PostgreSQL database copied
    from a migrated template (fast: a file copy, not a migration per test)."""

    def __init__(self, pg_url: str | None) -> None:
        self.pg_url = pg_url
        self.created: list[str] = []
        self.template: str | None = None

    def sqlite(self, directory: Path) -> str:
        return f"sqlite:///{directory / 'test.db'}"

    def postgres(self) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        assert self.pg_url is not None
        base = make_url(self.pg_url)
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        name = f"coord_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            if self.template is None:
                self.template = f"coord_tpl_{uuid.uuid4().hex[:8]}"
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
                _migrate(base.set(database=self.template).render_as_string(hide_password=False))
                self.created.append(self.template)
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        admin.dispose()
        self.created.insert(0, name)
        return base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created or self.pg_url is None:
            return
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(make_url(self.pg_url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self.created.clear()


def _migrate(url: str) -> None:
    from coordination import migrate
    from coordination.db import Database

    database = Database()
    database.init(url)
    try:
        migrate.upgrade_engine(database.engine)  # type: ignore[arg-type]
    finally:
        database.dispose()


def wipe(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def json_of(resp: requests.Response) -> Any:
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.text[:300]
    return resp.json()


def close_socket(client: Any) -> None:
    """Drop a python-socketio (Simple)Client at once.

    A graceful disconnect waits 3 s for a WebSocket close frame (websocket-client's
    default); tests need only that the server sees the connection end.
    """
    inner = getattr(client, "client", client)
    ws = getattr(inner.eio, "ws", None)
    if ws is not None:
        ws.shutdown()  # no close handshake: the reader thread would eat the reply
    inner.eio.disconnect(abort=True)
