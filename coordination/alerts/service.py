"""Raising, listing and acknowledging alerts; the only place their rows change.

Every change goes service → event log (``alert.raised`` / ``alert.acknowledged``)
→ publish after commit, so a second operator's screen shows and clears them
live and a reconnecting one replays them. :func:`raise_alert` is the one entry
point for every source: the watcher's rules (watch.py) and, later, the early
warning (issue 21), which passes a ``suggestion`` (a plan and level to activate).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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


def upsert_in(s: Session, *, context: str, data: AlertIn, actor: Actor,
              covers: list[int]) -> dict[str, Any] | None:
    """Raise, or update the open alert of the same key, for the cases ``covers`` names.

    An alert that fires twice for the same cases is one alert: when an alert of
    the key (open or already acted on) covers every one of these incidents,
    nothing is recorded. When new cases join an open one, it is updated in
    place (``alert.updated``, with the incidents it gained); otherwise a new
    alert is raised. ``covers`` are kept in ``suggestion.incidents``.
    """
    wanted = set(covers)
    rows = list(s.scalars(select(Alert).where(Alert.context == context, Alert.key == data.key)
                          .order_by(Alert.id.desc()).with_for_update()))
    current = next((a for a in rows if a.acked_at is None), None)
    suggestion = dict(data.suggestion or {}) | {"incidents": sorted(wanted)}
    covering = [a for a in rows if wanted <= set((a.suggestion or {}).get("incidents", []))]
    if covering and not (current in covering and _calls_for_change(current, suggestion)):
        return None
    if current is None:
        return raise_in(s, context=context, data=replace(data, suggestion=suggestion),
                        actor=actor)
    had = set((current.suggestion or {}).get("incidents", []))
    suggestion["incidents"] = sorted(had | wanted)
    current.title_zh, current.title_en = data.title_zh, data.title_en
    current.severity = data.severity.value
    current.suggestion = suggestion
    if data.source_seq is not None:
        current.source_seq = data.source_seq
    s.flush()
    body = alert_dict(current) | {"gained": sorted(wanted - had)}
    events.append(s, context=context, type="alert.updated", actor=actor, audience=AUDIENCE,
                  subject=(SUBJECT, current.id), payload=body)
    return body


def _calls_for_change(a: Alert | None, suggestion: dict[str, Any]) -> bool:
    """The same cases, but their figures or what they call for changed (a case confirmed
    raises the level; a cancelled one lowers the count)."""
    if a is None:
        return False
    old = a.suggestion or {}
    return any(old.get(k) != suggestion.get(k) for k in ("plan", "level", "figures"))


def mark_acted_in(s: Session, *, context: str, alert_id: int, actor: Actor,
                  acted: dict[str, Any]) -> dict[str, Any]:
    """Record what was done about an alert (a plan activated from it): acknowledged by
    ``actor`` if still open, ``acted`` merged into its suggestion, ``alert.acted`` logged."""
    a = s.scalars(select(Alert).where(Alert.id == alert_id, Alert.context == context)
                  .with_for_update()).first()
    if a is None:
        raise NotFound(_l("No such alert."))
    ctx = s.get(Context, context)
    assert ctx is not None
    if a.acked_at is None:
        a.acked_at = ctx.clock().now()
        a.acked_by = actor.shown
        a.acked_by_id = actor.id
    a.suggestion = dict(a.suggestion or {}) | acted
    s.flush()
    body = alert_dict(a)
    events.append(s, context=context, type="alert.acted", actor=actor, audience=AUDIENCE,
                  subject=(SUBJECT, a.id), payload=body | {"acted": acted})
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
