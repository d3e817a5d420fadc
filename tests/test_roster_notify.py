"""Outbound notifications to real local receivers: a signed webhook, an SMS gateway over
HTTP, e-mail over SMTP (aiosmtpd); failures logged and retried with back-off, never
blocking the other channels."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from coordination.events import Actor
from coordination.extensions import db
from coordination.roster import manage, notify
from coordination.roster import service as roster
from coordination.roster.models import Delivery
from tests.roster_factories import ADMIN, crew, drill_context
from tests.support import free_port

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 3, 10, 0, tzinfo=SH)
SECRET = "s3cret-webhook-key"


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[list[Any]]:
    from aiosmtpd.controller import Controller

    got: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            got.append(envelope)
            return "250 OK"

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    got.append(port)
    yield got
    ctl.stop()


def _verify(req: dict[str, Any]) -> bool:
    ts = req["headers"][notify.TIMESTAMP_HEADER]
    want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + req["body"],
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, req["headers"][notify.SIGNATURE_HEADER])


def test_webhook_sms_and_email_are_delivered_and_failures_retried(app, receiver, smtp):
    port = smtp.pop(0)
    ctx = drill_context("drill-notify", T0)
    crew(ctx, "cdc", webhook_url=receiver.url + "/hook", webhook_secret=SECRET)
    manage.set_channel(context=ctx, kind="sms", enabled=True, actor=ADMIN, config={
        "url": receiver.url + "/sms", "template": "[{agency}] {title}"})
    manage.set_channel(context=ctx, kind="email", enabled=True, actor=ADMIN, config={
        "host": "127.0.0.1", "port": port, "sender": "duty@coordination.test"})
    receiver.fail_next = 1  # the first request (the webhook) is refused once
    task = roster.create_task(
        context=ctx, agency_code="cdc", role=None, title="Sample the market", due_at=None,
        ack_deadline=None, source="drill", source_ref=None, incident_ref="inc-9",
        actor=Actor.system("test"))
    assert notify.deliver_due() == 3  # webhook, sms, email for the primary
    hooks = [r for r in receiver.requests if r["path"] == "/hook"]
    sms = [r for r in receiver.requests if r["path"] == "/sms"]
    assert hooks == []  # refused: scheduled again with back-off
    assert json.loads(sms[0]["body"]) == {"to": "13800000001", "text": "[cdc] Sample the market"}
    assert smtp[0].rcpt_tos == ["p2@cdc.test"]
    assert b"Sample the market" in smtp[0].content
    rows = notify.deliveries(context=ctx, task_id=task["id"])
    hook_row = next(r for r in rows if r["channel"] == "webhook")
    assert hook_row["status"] == "pending" and hook_row["attempts"] == 1
    assert hook_row["log"][0]["ok"] is False and "503" in hook_row["log"][0]["detail"]
    due = datetime.fromisoformat(hook_row["next_attempt_at"])
    tried = datetime.fromisoformat(hook_row["log"][0]["at"])
    assert due - tried == notify.backoff(1) == timedelta(seconds=5)  # from the attempt's time
    assert notify.deliver_due() == 0  # not yet due
    with db.unit_of_work() as s:  # let the back-off elapse
        s.execute(update(Delivery).where(Delivery.id == hook_row["id"])
                  .values(next_attempt_at=datetime.now(SH) - timedelta(seconds=1)))
    assert notify.deliver_due() == 1
    hooks = [r for r in receiver.requests if r["path"] == "/hook"]
    assert len(hooks) == 1 and _verify(hooks[0])
    body = json.loads(hooks[0]["body"])
    assert body["task_id"] == task["id"] and body["target"] == "primary"
    tampered = dict(hooks[0], body=hooks[0]["body"] + b" ")
    assert not _verify(tampered)
    rows = {r["channel"]: r for r in notify.deliveries(context=ctx, task_id=task["id"])}
    assert {k: v["status"] for k, v in rows.items()} == {
        "webhook": "sent", "sms": "sent", "email": "sent"}


def test_a_dead_channel_gives_up_after_its_attempts_and_blocks_nothing(app, receiver):
    ctx = drill_context("drill-dead", T0)
    crew(ctx, "cdc", webhook_url=receiver.url + "/hook", webhook_secret=SECRET)
    manage.set_channel(context=ctx, kind="sms", enabled=True, actor=ADMIN,
                       config={"url": f"http://127.0.0.1:{free_port()}/nothing-here"})
    roster.create_task(context=ctx, agency_code="cdc", role=None, title="t", due_at=None,
                       ack_deadline=None, source="drill", source_ref=None, incident_ref=None,
                       actor=Actor.system("test"))
    for _ in range(notify.MAX_ATTEMPTS):
        notify.deliver_due()
        with db.unit_of_work() as s:
            s.execute(update(Delivery).where(Delivery.status == "pending")
                      .values(next_attempt_at=datetime.now(SH) - timedelta(seconds=1)))
    with db.reading() as s:
        rows = {d.channel: d for d in s.scalars(select(Delivery))}
    assert rows["webhook"].status == "sent" and rows["webhook"].attempts == 1
    assert rows["sms"].status == "failed" and rows["sms"].attempts == notify.MAX_ATTEMPTS
    assert [r for r in receiver.requests if r["path"] == "/hook"]
