"""Answers by SMS: "1 <code>" acknowledges a task, "2 <code> reason" declines it.

A liaison officer in the field often has only the text message the SMS
channel sent (coordination/roster/notify.py). Each such message carries a
short code for its task: the task id in base 36 and three characters of an
HMAC with the gateway's inbound secret, so a code cannot be made up for
another task. The gateway forwards replies to ``POST /api/sms/inbound``,
signed like outbound webhooks (``X-Coordination-Timestamp`` and
``X-Coordination-Signature`` = HMAC-SHA256 over ``timestamp.body``). A reply
is refused when the signature is wrong or the timestamp is more than five
minutes off (a captured request replayed later); a message id seen before is
answered "repeated" and does nothing (the gateway's own retry). The sender's
phone number names the officer; the answer then goes through the same
``acknowledge_task``/``decline_task`` as a browser's, as that officer, so it
is recorded, escalates and shows exactly like one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..contexts import LIVE
from ..db import Base, UTCDateTime, utcnow
from ..errors import CoordinationError, NotAuthenticated, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from .models import ChannelConfig, Officer
from .notify import sign
from .sms_codes import task_of

MAX_SKEW_SECONDS = 300
REPLY = re.compile(r"^\s*([12])\s+([0-9A-Za-z]{4,12})\s*(.*)$", re.S)


class InboundSms(Base):
    """Every reply the gateway forwarded, once per gateway message id, and what came of it."""

    __tablename__ = "sms_inbound"
    __table_args__ = (UniqueConstraint("context", "message_id", name="uq_sms_inbound_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(120))
    sender: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(40), default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboundIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=120)
    sender: str = Field(alias="from", min_length=3, max_length=40)
    text: str = Field(max_length=1000)


class BadSignature(NotAuthenticated):
    code = "bad_signature"


def inbound_secret(s: Session, context: str) -> str:
    row = s.scalar(select(ChannelConfig).where(ChannelConfig.context == context,
                                               ChannelConfig.kind == "sms"))
    if row is None or not row.enabled:
        return ""
    return str((row.config or {}).get("inbound_secret", ""))


def _digits(phone: str) -> str:
    d = re.sub(r"\D", "", phone)
    return d[-11:] if len(d) > 11 and d.startswith("86") else d


def _officer(s: Session, context: str, sender: str) -> Officer | None:
    want = _digits(sender)
    if not want:
        return None
    for o in s.scalars(select(Officer).where(Officer.context == context,
                                             Officer.phone != "")):
        if _digits(o.phone) == want:
            return o
    return None


def _record(context: str, msg: InboundIn) -> int | None:
    """Store the message id first, in its own transaction: None means seen before."""
    try:
        with db.unit_of_work() as s:
            row = InboundSms(context=context, message_id=msg.id, sender=msg.sender,
                             text=msg.text, received_at=utcnow())
            s.add(row)
            s.flush()
            return row.id
    except IntegrityError:
        return None


def _finish(row_id: int, outcome: str, task_id: int | None) -> None:
    with db.unit_of_work() as s:
        row = s.get(InboundSms, row_id)
        if row is not None:
            row.outcome, row.task_id = outcome, task_id


def receive(*, body: bytes, timestamp: str, signature: str, context: str = LIVE,
            now: float | None = None) -> dict[str, Any]:
    """Verify, de-duplicate and act on one forwarded reply; the outcome says what happened."""
    from . import tasks

    with db.reading() as s:
        secret = inbound_secret(s, context)
    if not secret:
        raise NotFound(_l("SMS replies are not configured."))
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature or ""):
        raise BadSignature(_l("The SMS gateway's signature is wrong."))
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise BadSignature(_l("The SMS gateway's timestamp is not a number.")) from None
    if skew > MAX_SKEW_SECONDS:
        raise BadSignature(_l("The SMS gateway's request is too old (replayed?)."))
    try:
        msg = InboundIn.model_validate(json.loads(body or b"null"))
    except (ValueError, ValidationError):
        raise ValidationFailed(_l("The SMS gateway sent no message id, sender or text.")) \
            from None
    row_id = _record(context, msg)
    if row_id is None:
        return {"outcome": "repeated"}
    m = REPLY.match(msg.text)
    if m is None:
        _finish(row_id, "unrecognised", None)
        return {"outcome": "unrecognised"}
    answer, code, reason = m.group(1), m.group(2), m.group(3).strip()
    task_id = task_of(code, secret)
    with db.reading() as s:
        officer = _officer(s, context, msg.sender)
        actor = None if officer is None else Actor(
            kind="sms", id=officer.id, name=f"sms:{_digits(officer.phone)}",
            display=officer.name)
    if task_id is None:
        _finish(row_id, "unknown_code", None)
        return {"outcome": "unknown_code"}
    if actor is None:
        _finish(row_id, "unknown_sender", task_id)
        return {"outcome": "unknown_sender", "task_id": task_id}
    try:
        if answer == "1":
            key = "sms-" + hashlib.sha256(msg.id.encode()).hexdigest()[:32]
            tasks.acknowledge_task(context=context, task_id=task_id, key=key, actor=actor)
            outcome = "acknowledged"
        else:
            tasks.decline_task(context=context, task_id=task_id,
                               reason=reason or str(_l("Declined by SMS")), actor=actor)
            outcome = "declined"
    except CoordinationError as exc:
        outcome = f"refused:{exc.code}"[:40]
    _finish(row_id, outcome, task_id)
    return {"outcome": outcome, "task_id": task_id}
