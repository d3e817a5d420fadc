"""How far behind this process is, in one place for the screens and for the writers.

Two signals: the fan-out's lag (events committed but not yet emitted, ``publisher``)
and writes recently refused by ``web/shedding.py``. Screens are told they are
*delayed* (the head ticker's ``delayed`` flag; ``static/js/live.js`` shows a badge)
instead of being disconnected; writers are told to come back later (503 with
Retry-After) once the lag is past what a screen can absorb.
"""

from __future__ import annotations

import threading
import time

from .publisher import fanout

DELAYED_AFTER = 1.0  # seconds of fan-out lag before screens show "delayed"
SHED_AFTER = 5.0  # seconds of fan-out lag before new writes are refused
SHED_MEMORY = 10.0  # a screen stays "delayed" this long after the last refused write

_lock = threading.Lock()
_last_shed = -SHED_MEMORY


def fanout_lag() -> float:
    return fanout.lag()


def note_shed() -> None:
    global _last_shed
    with _lock:
        _last_shed = time.monotonic()


def delayed() -> bool:
    """Whether screens of this process should say their picture may be behind."""
    return fanout_lag() > DELAYED_AFTER or time.monotonic() - _last_shed < SHED_MEMORY


def fanout_overloaded() -> bool:
    return fanout_lag() > SHED_AFTER
