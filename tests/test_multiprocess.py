"""Several real server processes sharing Redis and one database.

What is proved here, each with real ``coordination serve`` processes:

- fan-out across processes: a client of A gets, live and in order, what B causes;
- failover: A is SIGKILLed in the middle of 1,000 events; the client moves to B
  with its cursor and ends with all 1,000, contiguous, once each, in order;
- a Redis that cannot be reached at start stops ``serve`` with one line;
- a Redis that drops while serving: the process keeps delivering its own events
  to its own clients, logs the error, and fan-out from other processes resumes
  once Redis is back.

Live delivery and delivery by replay are told apart (``LiveClient.live``): the
head ticker makes every client catch up from the shared log within a second
anyway, so "the client got it" alone would not show that Redis carried it.

Redis pub/sub channels are global to a Redis server (database numbers do not
apply to them), so each test deployment has a channel of its own
(``COORDINATION_SOCKETIO_CHANNEL``) and every assertion filters by a payload
prefix unique to the test run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import requests

from coordination import create_app, migrate
from coordination.auth import service as auth_service
from coordination.events import Actor
from coordination.extensions import db

from .realtime_client import LiveClient
from .support import Databases, ServerProcess, free_port, need, need_redis, start_server

pytestmark = [pytest.mark.slow, pytest.mark.redis]

REDIS_SERVER = "/usr/bin/redis-server"
STREAM = 1000  # events in the failover stream
KILL_AFTER = 300  # posted events after which A is killed


# --- fixtures ----------------------------------------------------------------


@pytest.fixture
def cleanup() -> Iterator[ExitStack]:
    """Everything a test starts is registered here and torn down even on failure."""
    with ExitStack() as stack:
        yield stack


@dataclass
class Deployment:
    """One database (shared by every process of the test), a channel and a token."""

    database_url: str
    token: str
    channel: str
    workdir: Path
    cleanup: ExitStack
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def server(self, name: str, *, redis_url: str | None = None,
               channel: str | None = None) -> ServerProcess:
        """Start ``coordination serve`` for this deployment; stopped at teardown."""
        server = start_server(
            database_url=self.database_url, instance=self.workdir / name,
            redis_url=redis_url or need_redis(),
            extra_env={"COORDINATION_SOCKETIO_CHANNEL": channel or self.channel},
        )
        self.cleanup.callback(server.stop)
        return server

    def client(self) -> LiveClient:
        client = LiveClient(self.token)
        self.cleanup.callback(client.close)
        return client

    def prefix(self, what: str) -> str:
        """A payload prefix no other test or run can produce."""
        return f"{what} {self.run_id} #"


def make_deployment(databases: Databases, workdir: Path, cleanup: ExitStack) -> Deployment:
    """A migrated database both processes open, with an operator's API token.

    SQLite (a WAL file both processes share) by default; a fresh PostgreSQL
    database when COORDINATION_TEST_DATABASE_URL is set.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("COORDINATION_TEST_DATABASE_URL"):
        url = databases.postgres()  # copied from a migrated template
    else:
        url = f"sqlite:///{workdir / 'shared.sqlite'}"
    create_app({"database_url": url, "instance_path": workdir / "setup", "redis_url": None,
                "secret_key": "test"})
    try:
        migrate.upgrade()
        _token, secret = auth_service.create_token(name="operator screen", roles=["operator"],
                                                   actor=Actor.system("test"))
    finally:
        db.dispose()
    return Deployment(database_url=url, token=secret,
                      channel=f"coordination-test-{uuid.uuid4().hex[:12]}",
                      workdir=workdir, cleanup=cleanup)


@pytest.fixture
def deployment(databases: Databases, tmp_path: Path, cleanup: ExitStack) -> Deployment:
    return make_deployment(databases, tmp_path / "deployment", cleanup)


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, on a port of its own, to kill and restart."""

    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path, cleanup: ExitStack) -> PrivateRedis:
    need("redis-server", Path(REDIS_SERVER).exists(), REDIS_SERVER)
    server = PrivateRedis(port=free_port(), workdir=tmp_path)
    cleanup.callback(server.kill)
    return server


# --- helpers -----------------------------------------------------------------


def post(session: requests.Session, base_url: str, token: str, text: str) -> None:
    resp = session.post(base_url + "/api/duty-log", json={"text": text, "category": "info"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert resp.status_code == 201, resp.text[:300]


def numbered(prefix: str, n: int, start: int = 0) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(start, start + n)]


def stream_seqs(client: LiveClient, prefix: str) -> list[int]:
    return [ev["seq"] for ev in client.events
            if ev["type"] == "dutylog.posted" and ev["payload"]["text"].startswith(prefix)]


def assert_in_order_once(client: LiveClient) -> None:
    seqs = [a.seq for a in client.applied]
    assert seqs == sorted(set(seqs)), "applied events must be strictly increasing"


def assert_contiguous(seqs: list[int]) -> None:
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap or a duplicate"


def diagnostics(client: LiveClient, *servers: ServerProcess) -> str:
    tails = "\n".join(f"--- {s.url}\n{s.log()[-2000:]}" for s in servers)
    return f"client: last_seq={client.last_seq} url={client.url} {client.counters}\n{tails}"


def wait_live(client: LiveClient, send: Callable[[str], None], prefix: str,
              timeout: float) -> int:
    """Post (through ``send``) until one of those events reaches ``client`` live.

    Returns how many were posted. Used to know that a process's Redis
    subscription is up (python-socketio subscribes when the first client of a
    process connects, and re-subscribes with backoff after an outage).
    """
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        send(f"{prefix}{sent:04d}")
        sent += 1
        if client.wait_until(lambda c: bool(c.live_texts(prefix)), timeout=0.25):
            return sent
    raise AssertionError(f"nothing of {prefix!r} arrived live within {timeout} s "
                         f"({sent} posted)")


# --- the tests -----------------------------------------------------------------


def test_events_caused_on_b_reach_a_client_of_a_live_and_in_order(deployment: Deployment):
    a = deployment.server("a")
    b = deployment.server("b")
    token = deployment.token
    client = deployment.client()
    client.connect(a.url)
    with requests.Session() as http:
        wait_live(client, lambda text: post(http, b.url, token, text),
                  deployment.prefix("warm-up"), timeout=10)
        prefix = deployment.prefix("b to a")
        expected = numbered(prefix, 50)
        for text in expected:
            post(http, b.url, token, text)

    assert client.wait_until(lambda c: len(c.texts(prefix)) >= len(expected), timeout=15), \
        diagnostics(client, a, b)
    assert client.texts(prefix) == expected
    assert_contiguous(stream_seqs(client, prefix))
    assert_in_order_once(client)
    # Each came over Redis from B, not only from A's log by replay.
    client.wait_until(lambda c: len(c.live_texts(prefix)) >= len(expected), timeout=5)
    assert sorted(client.live_texts(prefix)) == expected, diagnostics(client, a, b)
    assert client.url == a.url and client.counters.disconnects == 0


def test_kill_a_mid_stream_and_fail_over_to_b_without_gap_or_duplicate(deployment: Deployment):
    a = deployment.server("a")
    b = deployment.server("b")
    token = deployment.token
    client = deployment.client()
    client.connect(a.url, b.url)  # on losing A it fails over to B by itself
    with requests.Session() as http:
        wait_live(client, lambda text: post(http, b.url, token, text),
                  deployment.prefix("warm-up"), timeout=10)

    prefix = deployment.prefix("stream")
    expected = numbered(prefix, STREAM)
    posted = 0
    failure: list[BaseException] = []
    # The producer stops at KILL_AFTER until A is dead: the kill lands in the middle
    # of the stream by construction, not by winning a race against the producer.
    reached, killed = threading.Event(), threading.Event()

    def producer() -> None:
        nonlocal posted
        try:
            with requests.Session() as http:
                for text in expected:
                    if posted == KILL_AFTER:
                        reached.set()
                        killed.wait(timeout=120)
                    post(http, b.url, token, text)
                    posted += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failure.append(exc)
        finally:
            reached.set()

    worker = threading.Thread(target=producer, name="producer", daemon=True)
    worker.start()
    assert reached.wait(timeout=120), "the producer did not reach the kill point"
    # Part of the stream has reached the client through A before A dies.
    assert client.wait_until(lambda c: len(c.texts(prefix)) > 0, timeout=30), \
        diagnostics(client, a, b)
    a.kill()  # SIGKILL: no goodbye to the client
    posted_at_kill = posted
    applied_at_kill = len(client.texts(prefix))
    killed.set()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the producer did not finish"
    assert not failure, failure
    assert KILL_AFTER <= posted_at_kill < STREAM, "A must die in the middle of the stream"

    assert client.wait_until(lambda c: len(c.texts(prefix)) >= STREAM, timeout=30), \
        diagnostics(client, a, b)
    got = client.texts(prefix)
    assert len(got) == STREAM and len(set(got)) == STREAM, "no duplicate"
    assert got == expected, "all of them, in order"
    assert_contiguous(stream_seqs(client, prefix))
    assert_in_order_once(client)
    # It really failed over: part of the stream came from A, the rest from B.
    assert client.url == b.url
    assert client.counters.disconnects == 1 and client.counters.connects == 2
    from_a = [r.seq for r in client.applied if r.url == a.url]
    from_b = [r.seq for r in client.applied if r.url == b.url]
    assert from_a and from_b and max(from_a) < min(from_b)
    assert 0 < applied_at_kill < STREAM
    # ... and B was asked only for what the client had not got from A.
    first_since_on_b = next(since for url, since in client.counters.replays if url == b.url)
    assert first_since_on_b >= max(from_a)


def test_unreachable_redis_stops_serve_with_one_line(tmp_path: Path):
    env = dict(os.environ)
    env.pop("COORDINATION_DATABASE_URL", None)
    env.update({
        "COORDINATION_INSTANCE_PATH": str(tmp_path / "instance"),
        "COORDINATION_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nobody listens
        "COORDINATION_SECRET_KEY": "test",
    })
    out = subprocess.run(  # the timeout is the bound: a wait for Redis would hang here
        [sys.executable, "-m", "coordination.cli", "serve", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "COORDINATION_REDIS_URL" in lines[0]
    assert "Traceback" not in out.stderr and "Serving" not in out.stdout


def test_server_keeps_its_own_clients_live_while_redis_is_down_and_recovers(
    deployment: Deployment, private_redis: PrivateRedis
):
    private_redis.start()
    a = deployment.server("a", redis_url=private_redis.url)
    token = deployment.token
    client = deployment.client()
    client.connect(a.url)
    http = requests.Session()
    deployment.cleanup.callback(http.close)
    wait_live(client, lambda text: post(http, a.url, token, text),
              deployment.prefix("warm-up"), timeout=10)

    # Redis dies: A still serves HTTP and delivers its own events to its clients live.
    log_before = len(a.log())
    private_redis.kill()
    outage = deployment.prefix("outage")
    expected = numbered(outage, 5)
    for text in expected:
        post(http, a.url, token, text)
    assert client.wait_until(lambda c: len(c.live_texts(outage)) >= 5, timeout=10), \
        diagnostics(client, a)
    assert sorted(client.live_texts(outage)) == expected, "delivered locally, live"
    assert client.texts(outage) == expected
    assert requests.get(a.url + "/api/health", timeout=5).ok
    outage_log = a.log()[log_before:].lower().splitlines()
    assert any("error" in line and "redis" in line for line in outage_log), \
        "the outage must be in the log"

    # Redis is back: once A's listener has re-subscribed, B's events reach A's client live.
    private_redis.start()
    b = deployment.server("b", redis_url=private_redis.url)
    back = deployment.prefix("back")
    sent = wait_live(client, lambda text: post(http, b.url, token, text), back, timeout=20)
    # Those posted before the listener was back came by replay (head ticker): none lost.
    assert client.wait_until(lambda c: len(c.texts(back)) >= sent, timeout=10)
    assert client.texts(back) == numbered(back, sent)

    after = deployment.prefix("after")
    expected = numbered(after, 20)
    for text in expected:
        post(http, b.url, token, text)
    assert client.wait_until(lambda c: len(c.live_texts(after)) >= 20, timeout=10), \
        diagnostics(client, a, b)
    assert sorted(client.live_texts(after)) == expected
    assert client.texts(after) == expected
    assert_contiguous(stream_seqs(client, after))
    assert_in_order_once(client)
    assert client.counters.disconnects == 0, "the client stayed on A throughout"


def test_deployments_on_one_redis_with_their_own_channels_do_not_hear_each_other(
    databases: Databases, tmp_path: Path, cleanup: ExitStack
):
    """Two deployments (two databases, two channels) on the same Redis server.

    Redis pub/sub ignores database numbers, so only the channel keeps one
    deployment's events (sequence numbers of another log) off the other's screens.
    """
    one = make_deployment(databases, tmp_path / "one", cleanup)
    two = make_deployment(databases, tmp_path / "two", cleanup)
    one_a, one_b = one.server("a"), one.server("b")
    two_a = two.server("a")
    client = one.client()
    client.connect(one_a.url)
    with requests.Session() as http:
        wait_live(client, lambda text: post(http, one_b.url, one.token, text),
                  one.prefix("warm-up"), timeout=10)
        foreign = two.prefix("foreign")
        for text in numbered(foreign, 10):
            post(http, two_a.url, two.token, text)
        mine = one.prefix("mine")
        for text in numbered(mine, 10):
            post(http, one_b.url, one.token, text)
    assert client.wait_until(lambda c: len(c.live_texts(mine)) >= 10, timeout=10), \
        diagnostics(client, one_a, one_b)
    time.sleep(0.3)  # room for a stray foreign message to arrive
    assert client.live_texts(foreign) == [] and client.texts(foreign) == []
    assert client.texts(mine) == numbered(mine, 10)
    assert_in_order_once(client)
