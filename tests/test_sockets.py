"""Sockets against a real server process, through real python-socketio clients."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests
import socketio

from coordination.auth.roles import Role

from .support import ServerProcess, close_socket, login_session, start_server

pytestmark = pytest.mark.slow


def _cli(server: ServerProcess, *args: str, stdin: str = "") -> str:
    out = subprocess.run(
        [sys.executable, "-m", "coordination.cli", *args], env=server.env, input=stdin,
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory, databases):
    tmp = tmp_path_factory.mktemp("sockets")
    url = (databases.postgres() if os.environ.get("COORDINATION_TEST_DATABASE_URL")
           else f"sqlite:///{tmp / 'db.sqlite'}")
    srv = start_server(database_url=url, instance=tmp / "instance")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tokens(server):
    return {r.value: _cli(server, "create-token", f"dev-{r.value}", "--role", r.value)
            for r in Role}


def _client(server, token=None, **kw) -> socketio.SimpleClient:
    client = socketio.SimpleClient()
    client.connect(server.url, transports=["websocket"],
                   auth={"token": token} if token else None, wait_timeout=10, **kw)
    return client


def _post(server, token, text):
    resp = requests.post(server.url + "/api/duty-log", json={"text": text},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _receive_type(client, type_, timeout=5.0):
    """The next 'event' message of ``type_`` (heads and others are skipped)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            name, data = client.receive(timeout=max(0.1, deadline - time.monotonic()))
        except socketio.exceptions.TimeoutError:
            break
        batch = [data] if name == "event" else data if name == "events" else []
        for ev in batch:
            if ev["type"] == type_:
                return ev
    return None


def test_anonymous_and_bad_token_connections_are_refused(server):
    for auth in (None, {"token": "coord_not-a-token"}):
        client = socketio.SimpleClient()
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, transports=["websocket"], auth=auth, wait_timeout=5)


def test_unknown_context_is_refused(server, tokens):
    client = socketio.SimpleClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=["websocket"], wait_timeout=5,
                       auth={"token": tokens["operator"], "context": "drill-404"})


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_socket_access_table(server, tokens, role):
    """Every client event for every role: replay for all, role rooms only for one's own."""
    client = _client(server, tokens[role])
    try:
        ack = client.call("replay", {"since": 0})
        assert ack["ok"] is True and isinstance(ack["head"], int)
        for room_role in Role:
            ack = client.call("join", {"room": f"role:{room_role.value}"})
            assert ack["ok"] is (room_role.value == role), (role, room_role, ack)
        for forbidden in ("*", "user:1", "token:999999", "nonsense:1"):
            ack = client.call("join", {"room": forbidden})
            assert ack["ok"] is False and ack["code"] == "forbidden"
        assert client.call("leave", {"room": f"role:{role}"})["ok"] is True
    finally:
        close_socket(client)


def test_liaison_cannot_join_the_operators_room_nor_see_its_events(server, tokens):
    liaison = _client(server, tokens["liaison"])
    operator = _client(server, tokens["operator"])
    try:
        denied = liaison.call("join", {"room": "role:operator"})
        assert denied == {"ok": False, "error": denied["error"], "code": "forbidden"}
        text = f"for operators only {uuid.uuid4()}"
        _post(server, tokens["operator"], text)
        got = _receive_type(operator, "dutylog.posted")
        assert got and got["payload"]["text"] == text
        assert _receive_type(liaison, "dutylog.posted", timeout=1.5) is None
        replayed = liaison.call("replay", {"since": 0})
        assert all(e["type"] != "dutylog.posted" for e in replayed["events"])
        assert replayed["head"] >= got["seq"], "the head still moves past unseen events"
    finally:
        close_socket(liaison)
        close_socket(operator)


@pytest.mark.parametrize("payload", [
    "garbage", 42, None, [1, 2], {"since": -1}, {"since": "x"}, {"since": 0, "extra": 1},
    {"since": 0, "limit": 0},
])
def test_malformed_payload_gets_an_error_ack_and_others_keep_being_served(server, tokens, payload):
    bad = _client(server, tokens["operator"])
    good = _client(server, tokens["operator"])
    try:
        ack = bad.call("replay", payload)
        assert ack["ok"] is False and ack["code"] == "invalid" and ack["error"]
        assert bad.call("replay", {"since": 0})["ok"] is True, "the same client still works"
        text = f"still serving {uuid.uuid4()}"
        _post(server, tokens["operator"], text)
        got = _receive_type(good, "dutylog.posted")
        assert got and got["payload"]["text"] == text
    finally:
        close_socket(bad)
        close_socket(good)


def test_socket_accepts_the_login_session_cookie(server):
    _cli(server, "create-user", "sockop", "--role", "operator", "--password-stdin",
         stdin="a long enough password\n")
    session = login_session(server.url, "sockop", "a long enough password")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    client = _client(server, headers={"Cookie": cookie})
    try:
        assert client.call("join", {"room": "role:operator"})["ok"] is True
        assert client.call("join", {"room": "role:admin"})["ok"] is False
    finally:
        close_socket(client)


def test_revoked_token_loses_access_on_its_open_connection(server, tokens):
    secret = _cli(server, "create-token", "short-lived", "--role", "operator")
    client = _client(server, secret)
    try:
        assert client.call("replay", {"since": 0})["ok"] is True
        admin = tokens["admin"]
        listing = requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {admin}"})
        assert listing.ok
        from sqlalchemy import select

        from coordination import create_app
        from coordination.auth import service
        from coordination.auth.models import ApiToken
        from coordination.auth.passwords import token_digest
        from coordination.events import Actor
        from coordination.extensions import db

        create_app({"database_url": server.env["COORDINATION_DATABASE_URL"],
                    "instance_path": server.env["COORDINATION_INSTANCE_PATH"]})
        with db.reading() as s:
            token_id = s.scalar(select(ApiToken.id).where(ApiToken.digest == token_digest(secret)))
        service.revoke_token(token_id=token_id, actor=Actor.system("test"))
        db.dispose()
        ack = client.call("replay", {"since": 0})
        assert ack["ok"] is False and ack["code"] == "forbidden"
    finally:
        close_socket(client)


# The client events the table test above exercises for every role.
COVERED = {"join", "leave", "replay"}


def test_every_socket_event_is_in_the_permission_table_and_tested(app):
    from coordination.extensions import socketio as server
    from coordination.realtime.handlers import EVENT_PERMISSIONS

    registered = {h[0] for h in server.handlers} - {"connect", "disconnect"}
    assert registered == set(EVENT_PERMISSIONS) == COVERED
