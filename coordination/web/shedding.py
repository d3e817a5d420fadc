"""Load shedding on writes: a clear 503 with Retry-After instead of a server that stalls.

When the process is genuinely overloaded (more writes in flight than
``COORDINATION_MAX_WRITES_IN_FLIGHT``, or the fan-out seconds behind, see
``realtime/pressure.py``) a new write is refused before it touches anything, so
nothing is half-written and the writer knows to retry; reads, sign-in and the
socket keep working, and screens show "delayed" rather than reconnecting. The
JSON client's retry (``Retry-After``) and the domain's own retryable faults are
separate (``errors.py``); this module only decides about load.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext as _

from ..errors import CoordinationError
from ..realtime import pressure

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_AFTER_SECONDS = 2
# Signing in and out must work while writes are refused (an operator coming on shift).
EXEMPT_ENDPOINTS = frozenset({"auth.login", "auth.logout"})


class Overloaded(CoordinationError):
    status = 503
    code = "overloaded"


class WriteGate:
    """Counts the writes this process is working on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0

    def enter(self, limit: int) -> bool:
        with self._lock:
            if self.in_flight >= limit:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


gate = WriteGate()


def _admit() -> None:
    if request.method not in WRITE_METHODS or request.endpoint in EXEMPT_ENDPOINTS:
        return
    limit = current_app.config["COORDINATION"].max_writes_in_flight
    if pressure.fanout_overloaded() or not gate.enter(limit):
        pressure.note_shed()
        g.shed = True
        raise Overloaded(_("The system is busy; nothing was changed. Try again in a few "
                           "seconds."))
    g.write_admitted = True


def _retry_after(resp: Response) -> Response:
    if g.get("shed"):
        resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


def _release(_exc: Any = None) -> None:
    if g.pop("write_admitted", False):
        gate.leave()


def init_app(app: Flask) -> None:
    """Register the gate first, so a refused write costs no session or CSRF work."""
    app.before_request_funcs.setdefault(None, []).insert(0, _admit)
    app.after_request(_retry_after)
    app.teardown_request(_release)
