"""Answers by SMS through a local gateway: the task SMS carries a code, "1 <code>" acknowledges.

The outbound SMS goes to a real local HTTP gateway (tests/test_roster_notify's
Receiver); the test reads the code out of the text it received and posts the
reply back the way a gateway forwards one, signed, to the real endpoint. A
forged signature, a tampered body and a stale timestamp are refused; a
repeated message id does nothing.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.roster import manage, notify
from coordination.roster import service as roster
from coordination.roster.models import Task
from coordination.roster.sms_codes import short_code, task_of
from coordination.roster.sms_inbound import InboundSms
from tests.roster_factories import ADMIN, crew
from tests.test_roster_notify import Receiver

SECRET = "inbound-s3cret"


@pytest.fixture
def gateway(app):
    r = Receiver()
    crew("live", "cdc")
    manage.set_channel(context="live", kind="sms", enabled=True, actor=ADMIN, config={
        "url": r.url + "/sms", "template": "[{agency}] {title}", "inbound_secret": SECRET})
    yield r
    r.close()


def _task(title: str) -> dict:
    return roster.create_task(
        context="live", agency_code="cdc", role=None, title=title, due_at=None,
        ack_deadline=None, source="manual", source_ref=None, incident_ref=None,
        actor=Actor.system("test"))


def _sent(gateway: Receiver) -> tuple[str, str]:
    """Deliver what is queued; the last SMS's recipient and code."""
    notify.deliver_due()
    msg = json.loads(gateway.requests[-1]["body"])
    code = re.search(r"1 ([0-9A-Z]+)", msg["text"]).group(1)
    return msg["to"], code


def _post(client, payload: dict, *, secret: str = SECRET, ts: int | None = None,
          body: bytes | None = None):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(ts if ts is not None else int(time.time()))
    headers = {notify.TIMESTAMP_HEADER: stamp,
               notify.SIGNATURE_HEADER: notify.sign(secret, stamp, raw)}
    return client.post("/api/sms/inbound", data=body if body is not None else raw,
                       headers=headers, content_type="application/json")


def _status(task_id: int) -> str:
    with db.reading() as s:
        return s.get(Task, task_id).status


def test_codes_name_their_task_and_cannot_be_made_up():
    code = short_code(1234, SECRET)
    assert task_of(code, SECRET) == 1234 and task_of(code.lower(), SECRET) == 1234
    assert task_of(short_code(1235, SECRET)[:-3] + code[-3:], SECRET) is None
    assert task_of(code, "another-secret") is None
    assert task_of("!!", SECRET) is None


def test_reply_1_acknowledges_and_a_forged_signature_is_refused(app, client, gateway):
    task = _task("Sample the market")
    phone, code = _sent(gateway)
    text = json.loads(gateway.requests[-1]["body"])["text"]
    assert text.startswith("[cdc] Sample the market") and f"1 {code}" in text
    reply = {"id": "gw-1", "from": "+86 " + phone, "text": f"1 {code}"}
    forged = _post(client, reply, secret="guessed")
    assert forged.status_code == 401
    tampered = _post(client, reply, body=json.dumps(reply | {"text": f"2 {code} no"}).encode())
    assert tampered.status_code == 401
    stale = _post(client, reply, ts=int(time.time()) - 3600)
    assert stale.status_code == 401
    assert _status(task["id"]) == "open"
    with db.reading() as s:
        assert s.scalars(select(InboundSms)).all() == []  # refused requests leave nothing
    ok = _post(client, reply)
    assert ok.status_code == 200 and ok.get_json()["outcome"] == "acknowledged"
    assert _status(task["id"]) == "acknowledged"
    with db.reading() as s:
        [ev] = s.scalars(select(Event).where(Event.type == "task.acknowledged")).all()
    assert ev.actor_kind == "sms" and ev.payload["ack"]["officer_id"]
    # The gateway retries the same message: nothing happens twice.
    again = _post(client, reply)
    assert again.status_code == 200 and again.get_json()["outcome"] == "repeated"


def test_reply_2_declines_with_the_reason_and_moves_the_chain_on(app, client, gateway):
    task = _task("Close the market")
    phone, code = _sent(gateway)
    r = _post(client, {"id": "gw-2", "from": phone, "text": f"2 {code} 人在外地，无法到场"})
    assert r.get_json()["outcome"] == "declined"
    with db.reading() as s:
        [ev] = s.scalars(select(Event).where(Event.type == "task.declined")).all()
        t = s.get(Task, task["id"])
    assert ev.payload["decline"]["reason"] == "人在外地，无法到场"
    assert t.step_index == 1  # on to the next step of the chain


def test_unknown_sender_bad_code_and_chatter_are_recorded_not_acted_on(app, client, gateway):
    task = _task("Count the beds")
    phone, code = _sent(gateway)
    bad = code[:-1] + ("A" if code[-1] != "A" else "B")
    cases = [("gw-3", "13999999999", f"1 {code}", "unknown_sender"),
             ("gw-4", phone, f"1 {bad}", "unknown_code"),
             ("gw-5", phone, "收到谢谢", "unrecognised")]
    for mid, sender, text, outcome in cases:
        r = _post(client, {"id": mid, "from": sender, "text": text})
        assert r.status_code == 200 and r.get_json()["outcome"] == outcome, text
    assert _status(task["id"]) == "open"
    with db.reading() as s:
        assert {m.outcome for m in s.scalars(select(InboundSms))} == {
            "unknown_sender", "unknown_code", "unrecognised"}
    r = _post(client, {"from": phone, "text": "1"})  # no message id
    assert r.status_code == 400


def test_without_an_inbound_secret_replies_are_not_accepted(app, client):
    r = client.post("/api/sms/inbound", json={"id": "x", "from": "1", "text": "1 AAAA"})
    assert r.status_code == 404
