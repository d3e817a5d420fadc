"""Many events of one context with one bump of its counter (the sweeper's batches).

Exactly what ``events.append`` does for one event, for N at once: the context's
counter row is incremented by N in one UPDATE (and stays locked until commit, so
sequence numbers stay gap-free and visible in order), the N events get the N
numbers, and they join the session's outbox so they are published after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from ..contexts import Context, clock_from_row
from ..db import utcnow
from ..events import ADMIN_ROOM, OUTBOX, Actor, Event

Item = tuple[str, dict[str, Any], list[str], tuple[str, Any] | None]  # type, payload, rooms, subj


@dataclass(frozen=True)
class Written:
    """What the after-commit publisher reads of an event (``context``, ``audience``,
    ``as_message()``), without building an ORM object per event: rows go in with one
    executemany INSERT."""

    context: str
    audience: list[str]
    message: dict[str, Any]

    def as_message(self) -> dict[str, Any]:
        return self.message


def append_many(s: Session, *, context: str, actor: Actor, items: list[Item]) -> list[Written]:
    if not items:
        return []
    clock_row = s.execute(
        update(Context).where(Context.name == context)
        .values(last_seq=Context.last_seq + len(items))
        .returning(Context.last_seq, Context.kind, Context.clock_anchor_real,
                   Context.clock_anchor_sim, Context.clock_speed, Context.clock_paused)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if clock_row is None:
        raise LookupError(f"unknown context {context!r}")
    last, kind, anchor_real, anchor_sim, speed, paused = clock_row
    occurred = clock_from_row(kind, anchor_real, anchor_sim, speed, paused).now()
    recorded = utcnow()
    rows: list[dict[str, Any]] = []
    out: list[Written] = []
    for n, (type_, payload, audience, subject) in enumerate(items):
        row: dict[str, Any] = {
            "context": context, "seq": last - len(items) + 1 + n, "type": type_,
            "actor_kind": actor.kind, "actor_id": actor.id, "actor_name": actor.name,
            "occurred_at": occurred, "recorded_at": recorded,
            "subject_type": subject[0] if subject else None,
            "subject_id": str(subject[1]) if subject else None,
            "audience": sorted(set(audience) | {ADMIN_ROOM}), "payload": payload,
        }
        rows.append(row)
        out.append(Written(context=context, audience=row["audience"], message={
            "seq": row["seq"], "context": context, "type": type_,
            "at": occurred.isoformat(), "ts": recorded.timestamp(),
            "actor": {"kind": actor.kind, "id": actor.id, "name": actor.name},
            "subject": ({"type": row["subject_type"], "id": row["subject_id"]}
                        if subject else None),
            "payload": payload,
        }))
    s.execute(insert(cast(Table, Event.__table__)), rows)
    s.info.setdefault(OUTBOX, []).extend(out)
    return out
