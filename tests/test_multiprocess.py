"""Several real server processes sharing Redis: fan-out across them, failover, outages."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests

from coordination import create_app
from coordination.auth import service
from coordination.events import Actor
from coordination.extensions import db

from .realtime_client import LiveClient
from .support import free_port, need, need_redis, start_server

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def shared_db(tmp_path, databases):
    """One database both processes use, migrated, with an operator token."""
    url = (databases.postgres() if os.environ.get("COORDINATION_TEST_DATABASE_URL")
           else f"sqlite:///{tmp_path / 'shared.sqlite'}")
    create_app({"database_url": url, "instance_path": tmp_path / "setup"})
    from coordination import migrate

    migrate.upgrade()
    _tok, secret = service.create_token(name="op", roles=["operator"], actor=Actor.system("t"))
    db.dispose()
    return url, secret


@pytest.fixture
def channel():
    """A pub/sub channel of this test's own: channels are global across Redis dbs."""
    return f"coordination-test-{uuid.uuid4().hex[:8]}"


def _post(url, token, text, session=None):
    s = session or requests
    resp = s.post(url + "/api/duty-log", json={"text": text},
                  headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp


def test_events_caused_on_b_reach_a_client_on_a_in_order(shared_db, channel, tmp_path):
    redis_url = need_redis()
    url, token = shared_db
    env = {"COORDINATION_SOCKETIO_CHANNEL": channel}
    a = start_server(database_url=url, instance=tmp_path / "a", redis_url=redis_url,
                     extra_env=env)
    b = start_server(database_url=url, instance=tmp_path / "b", redis_url=redis_url,
                     extra_env=env)
    client = LiveClient(token)
    try:
        client.connect(a.url)
        client.replays = 0
        prefix = f"b->a {uuid.uuid4().hex[:6]} "
        session = requests.Session()
        for i in range(50):
            _post(b.url, token, f"{prefix}{i}", session)
        got = client.wait_for(prefix, 50)
        assert got == [f"{prefix}{i}" for i in range(50)]
        seqs = [ev["seq"] for ev in client.applied]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    finally:
        client.close()
        a.stop()
        b.stop()


def test_kill_a_mid_stream_and_fail_over_to_b_without_gap_or_duplicate(shared_db, channel,
                                                                       tmp_path):
    redis_url = need_redis()
    url, token = shared_db
    env = {"COORDINATION_SOCKETIO_CHANNEL": channel}
    a = start_server(database_url=url, instance=tmp_path / "a", redis_url=redis_url,
                     extra_env=env)
    b = start_server(database_url=url, instance=tmp_path / "b", redis_url=redis_url,
                     extra_env=env)
    client = LiveClient(token)
    prefix = f"stream {uuid.uuid4().hex[:6]} "
    posted = 0

    def producer():
        nonlocal posted
        session = requests.Session()
        for i in range(1000):
            _post(b.url, token, f"{prefix}{i}", session)
            posted = i + 1

    try:
        client.connect(a.url)
        worker = threading.Thread(target=producer)
        worker.start()
        while posted < 300:
            time.sleep(0.01)
        a.kill()
        seen_before = len(client.texts(prefix))
        client.connect(b.url)  # failover with the cursor it had
        worker.join(timeout=180)
        assert not worker.is_alive()
        got = client.wait_for(prefix, 1000, timeout=30)
        assert got == [f"{prefix}{i}" for i in range(1000)]
        seqs = [ev["seq"] for ev in client.applied]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "contiguous"
        assert 0 < seen_before < 1000, "A was killed mid-stream"
    finally:
        client.close()
        a.kill()
        b.stop()


def test_unreachable_redis_stops_start_up_with_one_line(tmp_path):
    env = dict(os.environ)
    env.update({"COORDINATION_INSTANCE_PATH": str(tmp_path),
                "COORDINATION_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    out = subprocess.run([sys.executable, "-m", "coordination.cli", "serve", "--port",
                          str(free_port())], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "COORDINATION_REDIS_URL" in lines[0]


def _private_redis(port: int, workdir: Path) -> subprocess.Popen:
    need("redis-server", Path("/usr/bin/redis-server").exists())
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, socket_connect_timeout=0.5).ping()
            return proc
        except redis.RedisError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("private redis did not start")


def test_server_keeps_serving_its_clients_when_redis_drops_and_recovers(shared_db, tmp_path):
    url, token = shared_db
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    rds = _private_redis(port, tmp_path)
    a = b = None
    client = LiveClient(token)
    try:
        a = start_server(database_url=url, instance=tmp_path / "a", redis_url=redis_url)
        client.connect(a.url)
        rds.kill()
        rds.wait()
        prefix = f"outage {uuid.uuid4().hex[:6]} "
        for i in range(5):
            _post(a.url, token, f"{prefix}{i}")
        assert client.wait_for(prefix, 5, timeout=15) == [f"{prefix}{i}" for i in range(5)]
        assert "redis" in a.log().lower()

        rds = _private_redis(port, tmp_path)
        b = start_server(database_url=url, instance=tmp_path / "b", redis_url=redis_url)
        back = f"back {uuid.uuid4().hex[:6]} "
        deadline = time.monotonic() + 25
        sent = 0
        while time.monotonic() < deadline and not client.texts(back):
            _post(b.url, token, f"{back}{sent}")
            sent += 1
            time.sleep(0.5)
        assert client.texts(back), "fan-out from B must resume once Redis is back"
        got = client.texts(back)
        assert got == [f"{back}{i}" for i in range(len(got))], "in order, none skipped"
    finally:
        client.close()
        for server in (a, b):
            if server is not None:
                server.stop()
        rds.kill()
        rds.wait()
