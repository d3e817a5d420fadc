"""Raising, listing and acknowledging alerts; the only place their rows change.

Every change goes service → event log (``alert.raised`` / ``alert.acknowledged``)
→ publish after commit, so a second operator's screen shows and clears them
live and a reconnecting one replays them. :func:`raise_alert` is the one entry
point for every source: the watcher's rules (watch.py) and, later, the early
warning (issue 21), which passes a ``suggestion`` (a plan and level to activate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..contexts import LIVE, Context
from ..errors import Conflict, NotFound
from ..events import Actor
from ..extensions import db
from .models import Alert, AlertKind, Severity

AUDIENCE = ["role:operator", "role:trainer"]
SUBJECT = "alert"


@dataclass(frozen=True)
class AlertIn:
    """What a source raises. ``key`` deduplicates: one open alert per key."""

    kind: AlertKind
    key: str
    title_zh: str
    title_en: str
    severity: Severity = Severity.HIGH
    subject: tuple[str, Any] | None = None
    lon: float | None = None
    lat: float | None = None
    suggestion: dict[str, Any] | None = None  # e.g. {"plan": "plague", "level": "III"}
    source_seq: int | None = None
    once: bool = False  # never again once raised (a deadline is missed once)


def alert_dict(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "key": a.key, "severity": a.severity,
        "title": {"zh": a.title_zh, "en": a.title_en},
        "subject": {"type": a.subject_type, "id": a.subject_id} if a.subject_type else None,
        "lon": a.lon, "lat": a.lat, "suggestion": a.suggestion,
        "raised_at": a.raised_at.isoformat(), "raised_by": a.raised_by,
        "acked_at": a.acked_at.isoformat() if a.acked_at else None, "acked_by": a.acked_by,
        "open": a.acked_at is None,
    }


def _existing(s: Session, context: str, data: AlertIn) -> Alert | None:
    q = select(Alert).where(Alert.context == context, Alert.key == data.key)
    if not data.once:
        q = q.where(Alert.acked_at.is_(None))
    return s.scalars(q.limit(1)).first()


def raise_in(s: Session, *, context: str, data: AlertIn, actor: Actor) -> dict[str, Any] | None:
    """Raise inside the caller's transaction; ``None`` when the key is already raised."""
    if _existing(s, context, data) is not None:
        return None
    ctx = s.get(Context, context)
    if ctx is None:
        raise NotFound(_l("No such context."))
    a = Alert(context=context, kind=data.kind.value, key=data.key[:160],
              severity=data.severity.value, title_zh=data.title_zh, title_en=data.title_en,
              subject_type=data.subject[0] if data.subject else None,
              subject_id=str(data.subject[1]) if data.subject else None,
              lon=data.lon, lat=data.lat, suggestion=data.suggestion,
              source_seq=data.source_seq, raised_at=ctx.clock().now(), raised_by=actor.shown)
    s.add(a)
    s.flush()
    body = alert_dict(a)
    events.append(s, context=context, type="alert.raised", actor=actor, audience=AUDIENCE,
                  subject=(SUBJECT, a.id), payload=body)
    return body


def raise_alert(*, data: AlertIn, actor: Actor, context: str = LIVE) -> dict[str, Any] | None:
    """Raise one alert; returns it, or ``None`` if an open one has the same key."""
    with db.unit_of_work() as s:
        return raise_in(s, context=context, data=data, actor=actor)


def acknowledge(*, alert_id: int, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Acknowledge an alert once; a second time says who did it and when (409)."""
    with db.unit_of_work() as s:
        a = s.scalars(select(Alert).where(Alert.id == alert_id, Alert.context == context)
                      .with_for_update()).first()
        if a is None:
            raise NotFound(_l("No such alert."))
        if a.acked_at is not None:
            raise Conflict(
                _l("Already acknowledged by %(who)s at %(at)s.", who=a.acked_by,
                   at=a.acked_at.isoformat(timespec="seconds")),
                details={"acked_by": a.acked_by, "acked_at": a.acked_at.isoformat()})
        ctx = s.get(Context, context)
        assert ctx is not None
        a.acked_at = ctx.clock().now()
        a.acked_by = actor.shown
        a.acked_by_id = actor.id
        body = alert_dict(a)
        events.append(s, context=context, type="alert.acknowledged", actor=actor,
                      audience=AUDIENCE, subject=(SUBJECT, a.id), payload=body)
        return body


def list_alerts(*, context: str = LIVE, open_only: bool = True,
                limit: int = 200) -> list[dict[str, Any]]:
    """Open alerts, most severe and newest first (the ops Alerts panel)."""
    order = {Severity.CRITICAL.value: 0, Severity.HIGH.value: 1, Severity.NORMAL.value: 2}
    with db.reading() as s:
        q = select(Alert).where(Alert.context == context)
        if open_only:
            q = q.where(Alert.acked_at.is_(None))
        rows = list(s.scalars(q.order_by(Alert.id.desc()).limit(limit)))
    out = [alert_dict(a) for a in rows]
    out.sort(key=lambda r: order.get(r["severity"], 9))
    return out
