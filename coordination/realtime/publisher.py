"""Hands committed events to Socket.IO (and through it to Redis when configured).

Two modes. Direct (the default, for the CLI and tests): emit in the committing
thread. Queued (serving processes, ``start``): the committing thread only
enqueues; one fan-out thread drains everything waiting, sorts it by sequence
and emits runs of consecutive events with the same audience as one message.
Under light load every event goes out alone at once; under heavy load each
client gets one message per run instead of one per event, which is what lets
a threaded server keep up (each delivery costs a thread wake-up per client).
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
# longer a burst is gathered: 0.15 ms per connected client, at most 20 ms. Ten
# screens get their events within a couple of milliseconds; a hundred get one
# message per 15 ms however fast events come (measured in tests/benchmarks/fanout).
GAP_PER_CLIENT = 0.00015
MAX_GAP = 0.020


class Fanout:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Published] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = False

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
        for item in batch:
            self._queue.put(item)

    def _run(self) -> None:
        last = 0.0
        while True:
            first = self._queue.get()
            # Under a burst, gather for the rest of the gap so each client wakes once
            # per gap, not once per event; an event after a quiet spell goes at once.
            gap = min(MAX_GAP, GAP_PER_CLIENT * connections.count())
            wait = last + gap - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pending = [first]
            while True:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            last = time.monotonic()
            try:
                emit_runs(sorted(pending, key=_order))
            except Exception:  # clients recover anything lost here by replay
                log.exception("fan-out of %d events failed", len(pending))


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
