"""Which context a request works in: live, or the drill run the user has joined.

A participant joins a drill from the drill list; from then on every page and
API call of their session reads and writes the drill's context, and every
page carries the EXERCISE banner, until they leave or the run ends. An API
client (a tracker, an integration) may name a drill context explicitly with
the ``X-Coordination-Context`` header. Nothing else ever selects a drill, so
live work can never land in one by accident, nor drill work in live.
"""

from __future__ import annotations

from typing import Any

from flask import g, request, session

from ..contexts import LIVE

SESSION_KEY = "drill_context"
HEADER = "X-Coordination-Context"


def _active_run(context: str) -> dict[str, Any] | None:
    from ..drills import service as drills
    from ..drills.models import RunStatus

    run = drills.run_for_context(context)
    if run is None or run["status"] == RunStatus.ENDED.value:
        return None
    return run


def current_drill() -> dict[str, Any] | None:
    """The active run this request plays in, or None for live (cached per request)."""
    if "drill_run" in g:
        return g.drill_run
    wanted = request.headers.get(HEADER) or session.get(SESSION_KEY)
    run = _active_run(wanted) if wanted and wanted != LIVE else None
    if run is None and session.get(SESSION_KEY):
        session.pop(SESSION_KEY, None)  # the run ended: back to live
    g.drill_run = run
    return run


def current_context() -> str:
    run = current_drill()
    return run["context"] if run else LIVE


def join(context: str) -> None:
    session[SESSION_KEY] = context
    g.pop("drill_run", None)


def leave() -> None:
    session.pop(SESSION_KEY, None)
    g.pop("drill_run", None)
