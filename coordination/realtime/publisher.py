"""Hands committed events to Socket.IO (and through it to Redis when configured).

Two modes. Direct (the default, for the CLI and tests): emit in the committing
thread. Queued (serving processes, ``start``): the committing thread only
enqueues; one fan-out thread drains everything waiting, sorts it by sequence
and emits runs of consecutive events with the same audience as one message.
Under light load every event goes out alone at once; under heavy load each
client gets one message per run instead of one per event, which is what lets
a threaded server keep up (each delivery costs a thread wake-up per client).

The fan-out also knows how far behind it is (``lag``: the age of the oldest
event committed but not yet emitted); the head ticker tells screens they are
delayed, and ``web/shedding.py`` refuses new writes, when it grows.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from ..events import Published
from ..extensions import socketio
from .connections import connections
from .rooms import scoped

log = logging.getLogger(__name__)

MAX_RUN = 200  # events per message at most, so one message stays small
# Each message costs a thread wake-up per client, so the busier the process, the
# longer a burst is gathered: 0.25 ms per connected client, at most 50 ms. Ten
# screens get their events within a few milliseconds; two hundred get one message
# per 50 ms (20 a second) however fast events come, which keeps a 2-core server's
# writer threads from taking the CPU the writes need (tests/benchmarks/load_bench).
GAP_PER_CLIENT = 0.00025
MAX_GAP = 0.050


class Fanout:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[float, Published]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = False
        self._waiting_since: float | None = None  # enqueue time of the oldest pending event

    @property
    def queued(self) -> bool:
        return self._started

    def start(self) -> None:
        """Switch to queued mode: one background thread does every emit."""
        with self._lock:
            if not self._started:
                self._started = True
                socketio.start_background_task(self._run)

    def publish(self, batch: Sequence[Published]) -> None:
        if not self._started:
            emit_runs(sorted(batch, key=_order))
            return
        now = time.monotonic()
        for item in batch:
            self._queue.put((now, item))

    def lag(self) -> float:
        """Seconds the oldest committed, not yet emitted event has waited (0 when none)."""
        since = self._waiting_since
        return 0.0 if since is None else max(0.0, time.monotonic() - since)

    def _run(self) -> None:
        last = 0.0
        while True:
            queued_at, first = self._queue.get()
            self._waiting_since = queued_at
            # Under a burst, gather for the rest of the gap so each client wakes once
            # per gap, not once per event; an event after a quiet spell goes at once.
            gap = min(MAX_GAP, GAP_PER_CLIENT * connections.count())
            wait = last + gap - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pending = [first]
            while True:
                try:
                    pending.append(self._queue.get_nowait()[1])
                except queue.Empty:
                    break
            last = time.monotonic()
            try:
                emit_runs(sorted(pending, key=_order))
            except Exception:  # clients recover anything lost here by replay
                log.exception("fan-out of %d events failed", len(pending))
            finally:
                self._waiting_since = None


def _order(item: Published) -> tuple[str, int]:
    return item.context, item.message["seq"]


Run = tuple[str, tuple[str, ...], list[dict[str, Any]]]


def runs(items: Sequence[Published]) -> list[Run]:
    """Group consecutive events with the same context and rooms (at most MAX_RUN)."""
    out: list[Run] = []
    for item in items:
        last = out[-1] if out else None
        if last and (last[0], last[1]) == (item.context, item.rooms) and len(last[2]) < MAX_RUN:
            last[2].append(item.message)
        else:
            out.append((item.context, item.rooms, [item.message]))
    return out


def emit_runs(items: Sequence[Published]) -> None:
    """Emit each run as one message: ``events`` (a list), or ``event`` when alone.

    python-socketio sends a message once per connection however many of its
    rooms the connection is in.
    """
    for context, rooms, messages in runs(items):
        to = [scoped(context, r) for r in rooms]
        if len(messages) == 1:
            socketio.emit("event", messages[0], to=to)
        else:
            socketio.emit("events", messages, to=to)


fanout = Fanout()
publish = fanout.publish
