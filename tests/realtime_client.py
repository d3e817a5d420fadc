"""A Python twin of static/js/live.js for tests and benchmarks.

It keeps ``last_seq``, replays on every connect (paging while ``more``), applies
live events strictly in order (drops ``seq <= last_seq``, replays on a gap or on
a newer ``head``) and records what it applied — so a test can assert "all of
them, contiguous, no duplicate" exactly as an operator's screen would see them.
Failover to another server is a reconnect with the same cursor.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import socketio

from .support import close_socket


class LiveClient:
    def __init__(self, token: str, *, context: str = "live", since: int = 0) -> None:
        self.token = token
        self.context = context
        self.last_seq = since
        self.applied: list[dict[str, Any]] = []
        self.replays = 0
        self._lock = threading.RLock()
        self._client: socketio.Client | None = None
        self.url: str | None = None

    # --- connection -------------------------------------------------------

    def connect(self, url: str) -> None:
        """Connect (or fail over) to ``url`` and catch up from the log."""
        self.close()
        client = socketio.Client(reconnection=False)
        client.on("event", self._on_event)
        client.on("events", lambda run: [self._on_event(ev) for ev in run])
        client.on("head", self._on_head)
        client.connect(url, transports=["websocket"], wait_timeout=10,
                       auth={"token": self.token, "context": self.context})
        self._client, self.url = client, url
        self.replay()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    def close(self) -> None:
        if self._client is not None:
            close_socket(self._client)
            self._client = None

    # --- the live.js rules -------------------------------------------------

    def replay(self) -> None:
        with self._lock:
            client = self._client
            if client is None:
                return
            while True:
                ack = client.call("replay", {"since": self.last_seq}, timeout=15)
                if not ack or not ack.get("ok"):
                    raise RuntimeError(f"replay refused: {ack}")
                self.replays += 1
                for ev in ack["events"]:
                    self._apply(ev)
                self.last_seq = max(self.last_seq, ack["head"])
                if not ack["more"]:
                    return

    def _apply(self, ev: dict[str, Any]) -> None:
        if ev["seq"] <= self.last_seq:
            return
        self.last_seq = ev["seq"]
        self.applied.append(ev)

    def _on_event(self, ev: dict[str, Any]) -> None:
        with self._lock:
            if ev["context"] != self.context or ev["seq"] <= self.last_seq:
                return
            if ev["seq"] == self.last_seq + 1:
                self._apply(ev)
                return
        # A gap: fetch it from the log (in a thread: handlers must not block on calls).
        threading.Thread(target=self._safe_replay, daemon=True).start()

    def _on_head(self, msg: dict[str, Any]) -> None:
        if msg.get("context") == self.context and msg.get("seq", 0) > self.last_seq:
            threading.Thread(target=self._safe_replay, daemon=True).start()

    def _safe_replay(self) -> None:
        try:
            self.replay()
        except Exception:  # noqa: BLE001 - a dropped connection; the next connect replays
            pass

    # --- helpers for tests --------------------------------------------------

    def texts(self, prefix: str) -> list[str]:
        with self._lock:
            return [ev["payload"]["text"] for ev in self.applied
                    if ev["type"] == "dutylog.posted" and ev["payload"]["text"].startswith(prefix)]

    def wait_for(self, prefix: str, count: int, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.texts(prefix)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.texts(prefix)
