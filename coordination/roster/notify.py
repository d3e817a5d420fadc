"""Outbound notifications: channels behind one interface, deliveries retried with back-off.

A step of an escalation queues one ``Delivery`` row per channel and recipient in
the step's own transaction (so a rolled-back step sends nothing). The delivery
worker claims due rows by moving their ``next_attempt_at`` forward with a
conditional UPDATE (a lease: exactly one process sends an attempt), sends outside
any transaction, then logs the attempt and either marks the row sent or schedules
the next attempt with exponential back-off. Each delivery is sent on its own, so
a failing channel or recipient never holds up the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..extensions import db
from .models import (
    Agency,
    ChannelConfig,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Officer,
    StepTarget,
    Task,
)
from .sms_codes import REPLY_HINT, short_code

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BASE_BACKOFF = 5.0  # seconds; doubled after every failure
LEASE = timedelta(seconds=60)
SIGNATURE_HEADER = "X-Coordination-Signature"
TIMESTAMP_HEADER = "X-Coordination-Timestamp"
CHANNEL_KINDS = ("webhook", "sms", "email")


class SendFailed(Exception):
    """A channel could not deliver; the message says why (kept in the attempt log)."""


class Channel(Protocol):
    def send(self, target: str, payload: dict[str, Any]) -> str: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp + "." + body``, hex; receivers recompute and compare."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (configured URL)
            return f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        raise SendFailed(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SendFailed(str(getattr(exc, "reason", exc))[:300]) from None


@dataclass
class WebhookChannel:
    """JSON POST, signed with the agency's (or the channel's) secret."""

    secret: str
    timeout: float = 5.0

    def send(self, target: str, payload: dict[str, Any]) -> str:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: ts,
                   SIGNATURE_HEADER: sign(self.secret, ts, body)}
        return _post(target, body, headers, self.timeout)


@dataclass
class SmsChannel:
    """An HTTP SMS gateway: POST of a form-encoded or JSON body built from a template."""

    url: str
    template: str = "{title}"
    token: str = ""
    timeout: float = 5.0

    def send(self, target: str, payload: dict[str, Any]) -> str:
        text = self.template.format_map(_Defaults(payload))
        if payload.get("sms_code") and "{sms_code}" not in self.template:
            text += " " + REPLY_HINT.format(code=payload["sms_code"])
        text = text[:500]
        body = json.dumps({"to": target, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return _post(self.url, body, headers, self.timeout)


@dataclass
class EmailChannel:
    host: str
    port: int = 25
    sender: str = "coordination@localhost"
    timeout: float = 10.0

    def send(self, target: str, payload: dict[str, Any]) -> str:
        msg = EmailMessage()
        msg["From"], msg["To"] = self.sender, target
        msg["Subject"] = str(payload.get("title", ""))[:200]
        msg.set_content(json.dumps(payload, ensure_ascii=False, indent=2))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(str(exc)[:300]) from None
        return "accepted"


class _Defaults(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def channel_configs(s: Session, context: str) -> dict[str, ChannelConfig]:
    return {c.kind: c for c in s.scalars(
        select(ChannelConfig).where(ChannelConfig.context == context))}


def build_channel(kind: str, config: dict[str, Any], secret: str = "") -> Channel:
    if kind == "webhook":
        return WebhookChannel(secret=secret or str(config.get("secret", "")))
    if kind == "sms":
        return SmsChannel(url=str(config["url"]), template=str(config.get("template", "{title}")),
                          token=str(config.get("token", "")))
    if kind == "email":
        return EmailChannel(host=str(config.get("host", "127.0.0.1")),
                            port=int(config.get("port", 25)),
                            sender=str(config.get("sender", "coordination@localhost")))
    raise ValueError(kind)


def enqueue_step(
    s: Session, *, task: Task, agency: Agency, officers: dict[int, Officer],
    step: dict[str, Any], reason: str, now: datetime,
    configs: dict[str, ChannelConfig] | None = None,
) -> int:
    """Queue the outbound messages of one fired step; returns how many."""
    if configs is None:
        configs = channel_configs(s, task.context)
    payload = {
        "task_id": task.id, "context": task.context, "agency": agency.code,
        "title": task.title, "details": task.details, "incident_ref": task.incident_ref,
        "title_en": task.title_en, "details_en": task.details_en,
        "step": task.step_index, "target": step["target"], "reason": reason,
        "at": now.isoformat(),
        "ack_deadline": task.ack_deadline.isoformat() if task.ack_deadline else None,
    }
    sms_config = configs.get("sms")
    reply_secret = str((sms_config.config or {}).get("inbound_secret", "")) if sms_config else ""
    if reply_secret:
        payload["sms_code"] = short_code(task.id, reply_secret)
    rows: list[tuple[str, str]] = []
    hook = configs.get("webhook")
    url = agency.webhook_url or (str(hook.config.get("url", "")) if hook else "")
    if url and (hook is None or hook.enabled):
        rows.append(("webhook", url))
    if step["target"] != StepTarget.COMMAND_ROOM:
        for o in officers.values():
            sms, mail = configs.get("sms"), configs.get("email")
            if sms is not None and sms.enabled and o.phone:
                rows.append(("sms", o.phone))
            if mail is not None and mail.enabled and o.email:
                rows.append(("email", o.email))
    real_now = utcnow()
    for channel, target in rows:
        s.add(Delivery(context=task.context, task_id=task.id, channel=channel, target=target,
                       payload=payload, status=DeliveryStatus.PENDING, attempts=0,
                       next_attempt_at=real_now, created_at=real_now))
    return len(rows)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BASE_BACKOFF * (2 ** max(attempts - 1, 0)))


def claim_due(limit: int = 20) -> list[int]:
    """Lease due deliveries to this process (conditional UPDATE: each lease taken once)."""
    now = utcnow()
    claimed: list[int] = []
    with db.unit_of_work() as s:
        due = list(s.execute(
            select(Delivery.id, Delivery.next_attempt_at)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
        ))
        for did, seen in due:
            res = s.execute(
                update(Delivery).where(Delivery.id == did, Delivery.next_attempt_at == seen)
                .values(next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(did)
    return claimed


def send_one(delivery_id: int) -> bool:
    """Make one attempt of a leased delivery and log it; True when sent."""
    with db.reading() as s:
        d = s.get(Delivery, delivery_id)
        if d is None or d.status != DeliveryStatus.PENDING:
            return False
        cfg = channel_configs(s, d.context).get(d.channel)
        secret = ""
        if d.channel == "webhook" and d.task_id is not None:
            task = s.get(Task, d.task_id)
            agency = s.get(Agency, task.agency_id) if task else None
            secret = agency.webhook_secret if agency and agency.webhook_secret else ""
        channel_kind, target, payload = d.channel, d.target, dict(d.payload)
    ok, detail = False, ""
    try:
        config = cfg.config if cfg is not None else {}
        if channel_kind != "webhook" and cfg is None:
            raise SendFailed("channel not configured")
        detail = build_channel(channel_kind, config, secret).send(target, payload)
        ok = True
    except SendFailed as exc:
        detail = str(exc)
    except Exception as exc:  # a broken channel must not stop the worker
        log.exception("channel %s failed", channel_kind)
        detail = f"{type(exc).__name__}: {exc}"[:300]
    now = utcnow()
    with db.unit_of_work() as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            return ok
        d.attempts += 1
        s.add(DeliveryAttempt(context=d.context, delivery_id=d.id, at=now, ok=ok,
                              detail=detail[:500]))
        if ok:
            d.status, d.sent_at, d.next_attempt_at, d.last_error = (
                DeliveryStatus.SENT, now, None, "")
        elif d.attempts >= MAX_ATTEMPTS:
            d.status, d.next_attempt_at, d.last_error = DeliveryStatus.FAILED, None, detail[:500]
        else:
            d.next_attempt_at, d.last_error = now + backoff(d.attempts), detail[:500]
    return ok


def deliver_due(limit: int = 20) -> int:
    """One pass of the delivery worker; returns the number of attempts made."""
    ids = claim_due(limit)
    for did in ids:
        send_one(did)
    return len(ids)


def deliveries(*, context: str, task_id: int | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    with db.reading() as s:
        q = select(Delivery).where(Delivery.context == context)
        if task_id is not None:
            q = q.where(Delivery.task_id == task_id)
        rows = list(s.scalars(q.order_by(Delivery.id.desc()).limit(limit)))
        attempts: dict[int, list[dict[str, Any]]] = {}
        if rows:
            for a in s.scalars(select(DeliveryAttempt).where(
                    DeliveryAttempt.delivery_id.in_([r.id for r in rows]))
                    .order_by(DeliveryAttempt.id)):
                attempts.setdefault(a.delivery_id, []).append(
                    {"at": a.at.isoformat(), "ok": a.ok, "detail": a.detail})
        return [{"id": r.id, "task_id": r.task_id, "channel": r.channel, "target": r.target,
                 "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                 "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
                 "log": attempts.get(r.id, [])} for r in rows]
