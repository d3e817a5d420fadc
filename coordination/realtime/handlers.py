"""Socket.IO events. Each handler checks the caller, validates, calls one service.

A reconnecting python-socketio client gets a new sid and has left every room,
so rooms are (re)joined on every connect and the client replays from its last
sequence number. Malformed payloads get an error ack to that client only.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from pydantic import BaseModel, ConfigDict, Field

from .. import events
from ..auth import service as auth_service
from ..auth.identity import current_principal
from ..auth.principal import Principal, allowed, can_join, can_see
from ..auth.roles import Permission
from ..errors import CoordinationError, PermissionDenied, ValidationFailed
from ..extensions import db, socketio
from ..vocab import messages
from ..web.context import authorize, resolve, where_for
from . import pressure
from .connections import connections
from .rooms import EVERYONE, everyone, scoped

log = logging.getLogger(__name__)

# What each client-sent event needs; the access test walks this table.
EVENT_PERMISSIONS: dict[str, Permission | None] = {
    "join": None,  # decided per room by can_join
    "leave": None,
    "replay": Permission.READ_EVENTS,
}




class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: str = Field(min_length=1, max_length=80)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: int = Field(ge=0)
    limit: int | None = Field(default=None, ge=1, le=10000)


def _caller() -> tuple[Principal, str]:
    """Re-resolve the connection's principal, so a revoked token or role stops at once."""
    state = connections.get(request.sid)  # type: ignore[attr-defined]
    if state is None:
        raise PermissionDenied(_("Not connected."))
    ident, context = state
    principal = auth_service.load_principal(ident)
    if principal is None:
        raise PermissionDenied(_("Your access has ended; sign in again."))
    # A player who left the drill (or a token unbound from it) stops here too.
    authorize(principal, Permission.READ_EVENTS, where=where_for(principal, context),
              write=False)
    return principal, context


def _parse(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValidationFailed(_("The message must be a JSON object."))
    return messages.validated(model, data)


def _require(principal: Principal, event: str) -> None:
    perm = EVENT_PERMISSIONS[event]
    if perm is not None and not allowed(principal, perm):
        raise PermissionDenied(_("You may not do this."))


def register() -> None:
    """Bind the handlers to the (unbound, shared) SocketIO object."""

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        principal = current_principal(auth)
        if principal is None:
            raise ConnectionRefusedError("authentication required")
        wanted = None
        if isinstance(auth, dict) and isinstance(auth.get("context"), str):
            wanted = auth["context"]
        try:  # the one resolver and check, as for pages and the API
            where = resolve(principal, wanted)
            authorize(principal, Permission.READ_EVENTS, where=where, write=False)
        except CoordinationError as exc:
            raise ConnectionRefusedError(str(exc.message)) from None
        context = where.name
        sid = request.sid  # type: ignore[attr-defined]
        connections.put(sid, principal.get_id(), context)
        for room in principal.rooms():
            join_room(scoped(context, room))
        join_room(everyone(context))
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_args: Any) -> None:
        sid = request.sid  # type: ignore[attr-defined]
        connections.drop(sid)

    @socketio.on("join")
    def on_join(data: Any = None) -> dict[str, Any]:
        principal, context = _caller()
        room = _parse(JoinIn, data).room
        if room == EVERYONE or not can_join(principal, room):
            raise PermissionDenied(_("You may not join this room."))
        join_room(scoped(context, room))
        return {"ok": True, "room": room}

    @socketio.on("leave")
    def on_leave(data: Any = None) -> dict[str, Any]:
        _principal, context = _caller()
        room = _parse(JoinIn, data).room
        if room == EVERYONE:
            raise PermissionDenied(_("You may not leave this room."))
        leave_room(scoped(context, room))
        return {"ok": True, "room": room}

    @socketio.on("replay")
    def on_replay(data: Any = None) -> dict[str, Any]:
        principal, context = _caller()
        _require(principal, "replay")
        req = _parse(ReplayIn, data)
        limit = req.limit or current_app.config["COORDINATION"].replay_page_size
        with db.reading() as s:
            page = events.replay(
                s, context=context, since=req.since, limit=limit,
                visible=lambda audience: can_see(principal, audience),
            )
        return {"ok": True, "events": page.events, "head": page.head, "more": page.more}

    @socketio.on_error_default
    def on_error(exc: Exception) -> dict[str, Any]:
        if isinstance(exc, CoordinationError):
            return {"ok": False, "error": str(exc.message), "code": exc.code}
        log.exception("socket handler failed")
        return {"ok": False, "error": _("Internal error; the request changed nothing."),
                "code": "internal"}


def head_ticker(interval: float) -> None:
    """Tell each context's clients the newest seq now and then (this process only).

    Redis pub/sub drops what is sent while a subscriber is cut off; a client that
    sees a head beyond its cursor replays, so no gap stays silent for long. The
    head announced is the one read a tick earlier: what committed that long ago
    has been emitted unless the fan-out is behind, so under load 200 screens do
    not all replay events that are still on their way. ``delayed`` says the
    process is behind (``pressure``): screens show it and wait for the live events.
    """
    announced: dict[str, int] = {}
    while True:
        socketio.sleep(interval)
        try:
            contexts = connections.contexts()
            if not contexts:
                continue
            with db.reading() as s:
                heads = {c: events.head(s, c) for c in contexts}
            delayed = pressure.delayed()
            for context, seq in heads.items():
                previous = announced.get(context, seq)
                announced[context] = seq
                socketio.server.emit(
                    "head", {"context": context, "seq": previous, "delayed": delayed},
                    to=everyone(context), ignore_queue=True,
                )
        except Exception:
            log.exception("head ticker failed; retrying")
