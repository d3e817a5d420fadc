"""Who takes part in a drill run: the record the permission check and the report read.

Joining used to be only a mark in the browser session, so nothing on the
server knew who played, any caller could name a drill's context and act in it,
and the after-action report credited whoever wrote there. A participant row
is written when a user joins from ``/drills`` (or the API), or when a token is
bound to the run; the check in ``web/context.py`` asks ``is_member`` and the
report counts only the actors listed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..db import utcnow
from ..errors import Conflict, NotFound
from ..events import Actor
from ..extensions import db
from .models import DrillParticipant, DrillRun, RunStatus

TRAINERS = "role:trainer"


def _run(s: Session, run_id: int) -> DrillRun:
    run = s.get(DrillRun, run_id)
    if run is None:
        raise NotFound(_l("No such drill run."))
    return run


def _row(s: Session, context: str, actor: Actor) -> DrillParticipant | None:
    return s.scalar(select(DrillParticipant).where(
        DrillParticipant.context == context, DrillParticipant.actor_kind == actor.kind,
        DrillParticipant.actor_id.is_(None) if actor.id is None
        else DrillParticipant.actor_id == actor.id,
        DrillParticipant.actor_name == actor.name))


def _audience(actor: Actor) -> list[str]:
    return [TRAINERS] + ([f"{actor.kind}:{actor.id}"] if actor.id is not None else [])


def join(*, run_id: int, actor: Actor, roles: Iterable[str]) -> dict[str, Any]:
    """Enter the run as a player (again, after leaving); an ended run takes no one."""
    with db.unit_of_work() as s:
        run = _run(s, run_id)
        if run.status == RunStatus.ENDED.value:
            raise Conflict(_l("This drill has ended."))
        row = _row(s, run.context, actor)
        if row is None or row.left_at is not None:
            if row is None:
                row = DrillParticipant(context=run.context, actor_kind=actor.kind,
                                       actor_id=actor.id, actor_name=actor.name)
                s.add(row)
            row.display, row.roles = actor.shown[:120], sorted(roles)
            row.joined_at, row.left_at = utcnow(), None
            events.append(s, context=run.context, type="drill.joined", actor=actor,
                          audience=_audience(actor), subject=("drill_run", run.id),
                          payload={"run": run.id, "roles": row.roles})
        return {"id": run.id, "context": run.context, "title": run.title,
                "status": run.status}


def leave(*, context: str, actor: Actor) -> bool:
    """Stop playing in ``context``; False when the actor was not in it."""
    with db.unit_of_work() as s:
        row = _row(s, context, actor)
        if row is None or row.left_at is not None:
            return False
        row.left_at = utcnow()
        run = s.scalar(select(DrillRun).where(DrillRun.context == context))
        events.append(s, context=context, type="drill.left", actor=actor,
                      audience=_audience(actor),
                      subject=("drill_run", run.id) if run else None,
                      payload={"run": run.id if run else None})
        return True


def is_member(context: str, kind: str, actor_id: int) -> bool:
    """Whether this user or token has joined ``context`` and not left it."""
    with db.reading() as s:
        return s.scalar(select(DrillParticipant.id).where(
            DrillParticipant.context == context, DrillParticipant.actor_kind == kind,
            DrillParticipant.actor_id == actor_id,
            DrillParticipant.left_at.is_(None)).limit(1)) is not None


def players(s: Session, context: str) -> list[dict[str, Any]]:
    """Everyone who joined the run (left or not), for the after-action report."""
    return [
        {"kind": p.actor_kind, "id": p.actor_id, "name": p.actor_name,
         "display": p.display or p.actor_name, "roles": list(p.roles or []),
         "joined": p.joined_at.isoformat(),
         "left": p.left_at.isoformat() if p.left_at else None}
        for p in s.scalars(select(DrillParticipant).where(DrillParticipant.context == context)
                           .order_by(DrillParticipant.joined_at, DrillParticipant.id))
    ]
