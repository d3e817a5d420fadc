"""The Redis message queue, hardened for a command room whose Redis may hang or drop.

python-socketio's RedisManager publishes with no socket timeout (a frozen Redis
stalls every emit of the process) and its listener backs off to 60 s after an
outage. Here publishing has a short timeout and, after a failure, is skipped for
a few seconds with one log line per outage: this process's own clients are
served locally meanwhile and other processes' clients catch up by replay (the
head ticker tells them). The listener retries at most every few seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 2.0
PAUSE_AFTER_FAILURE = 5.0
MAX_LISTEN_BACKOFF = 5.0


class ResilientRedisManager(socketio.RedisManager):
    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__(url, channel=channel)
        self._publisher: Any = None
        self._paused_until = 0.0
        self._failing = False

    def _publish(self, data: Any) -> None:
        now = time.monotonic()
        if now < self._paused_until:
            return
        try:
            if self._publisher is None:
                self._publisher = self._get_redis_module().Redis.from_url(
                    self.redis_url, socket_timeout=PUBLISH_TIMEOUT,
                    socket_connect_timeout=PUBLISH_TIMEOUT,
                )
            self._publisher.publish(self.channel, self.json.dumps(data))
        except Exception as exc:  # any failure: serve locally, others replay
            self._publisher = None
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
            if not self._failing:
                self._failing = True
                log.warning("Redis unreachable (%s); serving this process's clients only, "
                            "others catch up from the event log", exc)
            return
        if self._failing:
            self._failing = False
            log.warning("Redis reachable again; fan-out between processes resumed")

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        retry = 1.0
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry = 1.0
                yield from self.pubsub.listen()
            except Exception as exc:
                log.warning("Redis listener lost (%s); retrying in %.0f s", exc, retry)
                subscribed = False
                time.sleep(retry)
                retry = min(retry * 2, MAX_LISTEN_BACKOFF)
