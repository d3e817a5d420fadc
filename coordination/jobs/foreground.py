"""Background jobs give way to requests: a job steps aside while any request is served.

Jobs run in threads of the serving process (as every background loop here does), so a
CPU-heavy job competes with requests for Python's interpreter lock; measured on a
50,000-row import, a reader's latency rose to 3.9× its idle figure. Between chunks of
work a job calls ``step_aside``: if requests are in flight it waits (up to ``MAX_WAIT``,
so a busy deployment still lets the job progress) until none is. Requests are counted by
two hooks on the Flask app (``web/job_hooks.py``); Socket.IO connections are not requests
here.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The longest one step aside lasts; a job under constant load still moves.
MAX_WAIT = 0.2
#: The interpreter's switch interval while a job runs (CPython's default is 5 ms).
JOB_SWITCH_INTERVAL = 0.0005

_lock = threading.Lock()
_idle = threading.Condition(_lock)
_in_flight = 0


def request_began() -> None:
    global _in_flight
    with _lock:
        _in_flight += 1


def request_done() -> None:
    global _in_flight
    with _lock:
        _in_flight -= 1
        if _in_flight <= 0:
            _in_flight = 0
            _idle.notify_all()


def in_flight() -> int:
    return _in_flight


def step_aside(max_wait: float = MAX_WAIT) -> None:
    """Wait while requests are being served (at most ``max_wait`` seconds)."""
    with _lock:
        if _in_flight:
            _idle.wait_for(lambda: _in_flight == 0, timeout=max_wait)


_running_jobs = 0
_saved_interval: float | None = None


@contextmanager
def job_running() -> Iterator[None]:
    """While a job runs, let the interpreter switch threads ten times as often.

    A request thread that waits for a socket or the database gives the interpreter lock
    up, and getting it back from a busy job thread takes up to one switch interval
    (5 ms by default): a request with a few dozen such waits took hundreds of
    milliseconds longer. With a 0.5 ms interval each wait costs a tenth of that; the
    price, a little more switching, is paid only while a job runs.
    """
    global _running_jobs, _saved_interval
    with _lock:
        if _running_jobs == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(JOB_SWITCH_INTERVAL)
        _running_jobs += 1
    try:
        yield
    finally:
        with _lock:
            _running_jobs -= 1
            if _running_jobs == 0 and _saved_interval is not None:
                sys.setswitchinterval(_saved_interval)
