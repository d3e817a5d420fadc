"""Which context a request works in, and whether its caller may work there: one resolver.

A participant joins a drill from the drill list (or ``POST /api/drills/runs/<id>/join``);
the join is recorded (``drills/participants.py``), and from then on every page
and API call of their session reads and writes the drill's context, with the
EXERCISE banner, until they leave or the run ends. An API token names a drill
context with the ``X-Coordination-Context`` header, and may act there once it is
bound to the run (it joined through the API, or ``create-token --drill``). A
socket names it in its connect ``auth``. Nothing else selects a context: no
query parameter, and a session cannot be steered by the header into a drill it
has not joined. Pages, JSON routes and socket handlers ask :func:`authorize`,
which hands the resolved context to ``permit()`` (auth/principal.py).

Refusals are logged on the ``coordination.security`` logger and change nothing:
they are not written to the event log, whose rows the access test counts to
prove a denied write left no trace (and whose growth an attacker could drive).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request, session

from ..auth.identity import current_principal
from ..auth.principal import LIVE_WHERE, Principal, Refusal, Where, permit
from ..auth.principal import refusal as refusal_for
from ..auth.roles import Permission
from ..contexts import LIVE, ContextKind
from ..errors import CoordinationError, PermissionDenied

SESSION_KEY = "drill_context"
HEADER = "X-Coordination-Context"
SAFE = {"GET", "HEAD", "OPTIONS"}
_CACHE = "_coordination_where"

security_log = logging.getLogger("coordination.security")


class Refused(CoordinationError):
    """A refusal from ``permit``: its status is 403, or 404 where a context is unknown."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal.message))
        self.status = refusal.status
        self.code = refusal.reason


def _run(context: str) -> dict[str, Any] | None:
    from ..drills import service as drills

    return drills.run_for_context(context)


def where_for(principal: Principal | None, name: str) -> Where:
    """The context ``name`` as seen by ``principal``: live, or a run and their part in it."""
    if name == LIVE:
        return LIVE_WHERE
    run = _run(name)
    if run is None:
        return Where(name=name, kind=ContextKind.DRILL, exists=False)
    from ..drills import participants
    from ..drills.models import RunStatus

    member = principal is not None and participants.is_member(name, principal.kind,
                                                               principal.id)
    return Where(name=name, kind=ContextKind.DRILL,
                 ended=run["status"] == RunStatus.ENDED.value, member=member)


def _log(principal: Principal | None, what: str, where: str, refusal: Refusal) -> None:
    who = principal.get_id() if principal is not None else "anonymous"
    security_log.warning("refused %s: %s %s in %s (%s)", who, what, refusal.reason, where,
                         _request_line())


def _request_line() -> str:
    try:
        return f"{request.method} {request.path}"
    except RuntimeError:  # outside a request (a CLI command)
        return "-"


def resolve(principal: Principal | None, wanted: str | None = None) -> Where:
    """The one resolver. ``wanted`` is what the caller named (header or socket auth).

    Sessions work where they joined; naming another context there is refused
    (a forgotten header must not move a write). After the run ends its players
    still read it (read-only) until they leave. A session whose run was deleted
    or left elsewhere drops back to live on its next read; a write is refused
    instead, so it never lands in live by surprise.
    """
    if principal is not None and principal.kind == "token":
        return where_for(principal, wanted or LIVE)
    joined = session.get(SESSION_KEY)
    where = where_for(principal, joined) if joined else LIVE_WHERE
    stale = where.kind == ContextKind.DRILL and (not where.exists or not where.member)
    if stale and request.method in SAFE:
        session.pop(SESSION_KEY, None)
        where = LIVE_WHERE
    if wanted and wanted != where.name:
        refusal = refusal_for("leave_first" if wanted == LIVE else "join_first")
        _log(principal, "context", wanted, refusal)
        raise Refused(refusal)
    return where


def current_where() -> Where:
    """The resolved context of this request (cached on the request, like the principal)."""
    cached = getattr(request, _CACHE, None)
    if cached is None:
        cached = resolve(current_principal(), request.headers.get(HEADER))
        setattr(request, _CACHE, cached)
    return cached


def authorize(principal: Principal | None, permission: Permission, *,
              where: Where | None = None, write: bool | None = None) -> None:
    """Raise the refusal (logged) unless ``principal`` may use ``permission`` here."""
    if where is None:  # resolved even when the permission ignores it: a session naming
        where = current_where()  # a drill it did not join is refused everywhere
    if write is None:
        write = request.method not in SAFE
    refusal = permit(principal, permission, where, write=write)
    if refusal is not None:
        _log(principal, str(permission), where.name, refusal)
        if refusal.reason == "role":
            raise PermissionDenied(str(refusal.message))
        raise Refused(refusal)


def current_drill() -> dict[str, Any] | None:
    """The run this request plays in, or None for live (for the banner and drill pages).

    Never raises: the error page that shows a refusal renders the banner too.
    """
    try:
        where = current_where()
    except Refused:
        return None
    if where.kind != ContextKind.DRILL:
        return None
    return _run(where.name)


def current_context() -> str:
    """The context services must be given; never a drill the caller may not work in."""
    where = current_where()
    if where.kind == ContextKind.DRILL:
        # Membership only: READ_EVENTS is every role's, so this asks "may they be here?".
        authorize(current_principal(), Permission.READ_EVENTS, where=where, write=False)
    return where.name


def join(run_id: int, principal: Principal) -> dict[str, Any]:
    """Record the join and, for a browser session, switch it into the run's context."""
    from ..drills import participants

    run = participants.join(run_id=run_id, actor=principal.actor,
                            roles=[r.value for r in principal.roles])
    if principal.kind == "user":
        session[SESSION_KEY] = run["context"]
    if hasattr(request, _CACHE):
        delattr(request, _CACHE)
    return run


def leave(principal: Principal, context: str | None = None) -> None:
    """Leave the session's drill (or, for a token, ``context``); live again."""
    from ..drills import participants

    name = context or session.get(SESSION_KEY)
    if principal.kind == "user":
        session.pop(SESSION_KEY, None)
    if name and name != LIVE:
        participants.leave(context=name, actor=principal.actor)
    if hasattr(request, _CACHE):
        delattr(request, _CACHE)



def authorize_run(run_id: int) -> None:
    """A run's report and evaluation show its event log: its players and trainers only."""
    from ..drills import service as drills

    principal = current_principal()
    context = drills.get_run(run_id=run_id)["context"]  # 404 for no such run
    authorize(principal, Permission.READ_EVENTS, where=where_for(principal, context),
              write=False)
