"""The connections this process holds: who each sid is and which context it watches."""

from __future__ import annotations

import threading


class _Conn:
    """Per-connection state kept in this process (a sid lives in one process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_sid: dict[str, tuple[str, str]] = {}

    def put(self, sid: str, ident: str, context: str) -> None:
        with self.lock:
            self.by_sid[sid] = (ident, context)

    def get(self, sid: str) -> tuple[str, str] | None:
        with self.lock:
            return self.by_sid.get(sid)

    def drop(self, sid: str) -> None:
        with self.lock:
            self.by_sid.pop(sid, None)

    def count(self) -> int:
        with self.lock:
            return len(self.by_sid)

    def contexts(self) -> set[str]:
        with self.lock:
            return {ctx for _, ctx in self.by_sid.values()}


connections = _Conn()
