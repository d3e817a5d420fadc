"""The event log: append in the change's transaction, publish after commit, replay.

This is the one path every change takes (see DESIGN.md). An event is written in
the same transaction as the rows it describes, so a rolled-back change leaves
no event; it is handed to the publisher only once the transaction has
committed, so no client ever sees a change that did not happen; and a client
that missed anything asks for ``since=seq`` and gets exactly what it missed.
The log is also the audit trail and the source of every response-time figure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from .contexts import Context, clock_from_row
from .db import Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)

OUTBOX = "coordination.outbox"
ADMIN_ROOM = "role:admin"


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a user, a device/integration token, or the system.

    ``name`` is the account's unique name (username), what the audit log
    records and searches; ``display`` is what people read (王芳…), shown in
    feeds and the duty log. An actor without a display name shows its name.
    """

    kind: str
    id: int | None
    name: str
    display: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind="system", id=None, name=name)

    @property
    def shown(self) -> str:
        return self.display or self.name

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "display": self.shown}


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("context", "seq", name="uq_events_context_seq"),
        Index("ix_events_type", "type"),
        Index("ix_events_occurred_at", "occurred_at"),
        # Timelines and "events about X" cost their answer, not the log (issue 19).
        Index("ix_events_context_subject", "context", "subject_type", "subject_id", "seq"),
        Index("ix_events_actor_name", "actor_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    # What people read (the display name at the time); actor_name stays the audit key.
    actor_display: Mapped[str | None] = mapped_column(String(120), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    subject_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audience: Mapped[list[str]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    def as_message(self) -> dict[str, Any]:
        """The shape clients receive, live and on replay alike."""
        return {
            "seq": self.seq,
            "context": self.context,
            "type": self.type,
            "at": self.occurred_at.isoformat(),
            "ts": self.recorded_at.timestamp(),
            "actor": {"kind": self.actor_kind, "id": self.actor_id, "name": self.actor_name,
                      "display": self.actor_display or self.actor_name},
            "subject": (
                {"type": self.subject_type, "id": self.subject_id} if self.subject_type else None
            ),
            "payload": self.payload,
        }


@dataclass(frozen=True)
class Published:
    """What the publisher receives after commit: the message and its rooms."""

    context: str
    rooms: tuple[str, ...]
    message: dict[str, Any]


def append(
    session: Session,
    *,
    context: str,
    type: str,
    actor: Actor,
    payload: dict[str, Any],
    audience: Iterable[str],
    subject: tuple[str, Any] | None = None,
) -> Event:
    """Append an event to ``context`` inside the caller's transaction.

    Takes the next sequence number by incrementing the context's counter row;
    that row stays locked until the transaction ends, so sequence numbers are
    gap-free and become visible in order.
    """
    row = session.execute(
        update(Context)
        .where(Context.name == context)
        .values(last_seq=Context.last_seq + 1)
        .returning(
            Context.last_seq,
            Context.kind,
            Context.clock_anchor_real,
            Context.clock_anchor_sim,
            Context.clock_speed,
            Context.clock_paused,
        )
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        raise LookupError(f"unknown context {context!r}")
    seq, kind, anchor_real, anchor_sim, speed, paused = row
    rooms = sorted(set(audience) | {ADMIN_ROOM})
    ev = Event(
        context=context,
        seq=seq,
        type=type,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_display=actor.display,
        occurred_at=clock_from_row(kind, anchor_real, anchor_sim, speed, paused).now(),
        recorded_at=utcnow(),
        subject_type=subject[0] if subject else None,
        subject_id=str(subject[1]) if subject else None,
        audience=rooms,
        payload=payload,
    )
    session.add(ev)
    session.info.setdefault(OUTBOX, []).append(ev)
    return ev


Publisher = Callable[[Sequence[Published]], None]


@dataclass
class _Hooks:
    publisher: Publisher | None = None


_hooks = _Hooks()


def set_publisher(publisher: Publisher | None) -> None:
    _hooks.publisher = publisher


def install(factory: sessionmaker[Session]) -> None:
    """Publish each session's outbox after commit; drop it on rollback."""
    if getattr(factory, "_coordination_outbox", False):
        return
    factory._coordination_outbox = True  # type: ignore[attr-defined]

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        pending: list[Event] = session.info.pop(OUTBOX, [])
        if not pending or _hooks.publisher is None:
            return
        batch = [Published(e.context, tuple(e.audience), e.as_message()) for e in pending]
        try:
            _hooks.publisher(batch)
        except Exception:  # the change is committed; clients recover it by replay
            log.exception("publishing %d events failed; clients will replay them", len(batch))

    @event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop(OUTBOX, None)


@dataclass(frozen=True)
class ReplayPage:
    events: list[dict[str, Any]]
    head: int
    more: bool


def head(session: Session, context: str) -> int:
    value = session.scalar(select(Context.last_seq).where(Context.name == context))
    if value is None:
        raise LookupError(context)
    return value


def replay(
    session: Session,
    *,
    context: str,
    since: int,
    limit: int,
    visible: Callable[[Sequence[str]], bool],
) -> ReplayPage:
    """Events of ``context`` after ``since`` that the reader may see, oldest first.

    ``head`` is read before the events, so a client that sets its cursor to
    ``head`` (when ``more`` is false) can never skip an event committed meanwhile.
    """
    top = head(session, context)
    rows = list(
        session.scalars(
            select(Event)
            .where(Event.context == context, Event.seq > since, Event.seq <= top)
            .order_by(Event.seq)
            .limit(limit)
        )
    )
    more = len(rows) == limit and rows[-1].seq < top
    cursor = rows[-1].seq if more else top
    return ReplayPage(
        events=[e.as_message() for e in rows if visible(e.audience)],
        head=cursor,
        more=more,
    )
