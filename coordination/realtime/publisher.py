"""Hands committed events to Socket.IO (and through it to Redis when configured)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..events import Published
from ..extensions import socketio
from .rooms import scoped

log = logging.getLogger(__name__)


def publish(batch: Sequence[Published]) -> None:
    """Emit each event once per connection, whatever number of its rooms it is in.

    python-socketio delivers locally first and then publishes to the queue, so a
    lost Redis costs other processes' clients a replay, never this process's.
    """
    for item in batch:
        rooms = [scoped(item.context, r) for r in item.rooms]
        socketio.emit("event", item.message, to=rooms)
