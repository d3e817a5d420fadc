"""The load benchmark's screens: N Socket.IO clients in one asyncio process that behave
like ``static/js/live.js``: keep the last sequence number, replay on every connect, and
after a drop reconnect with jittered back-off and replay what they missed.

    python -m tests.benchmarks.load_clients '<json config>'

Config: ``urls`` (spread round-robin), ``token``, ``clients``, ``replay`` (false for the
bare baseline server, which has no log). It prints ``{"ready": ...}`` once all are
connected, then waits for one stdin line ``{"expected": [seq, ...], "timeout": s}`` (the
sequence numbers every client should hold, from the log) and prints ``{"result": ...}``:
per client what it holds (live or replayed), what is missing, duplicates, how often the
server dropped it, and the live delivery latency (receive time minus the event's ``ts``).

A raw Engine.IO 4 / Socket.IO 5 client over aiohttp (as ``fanout_clients``' raw one):
python-socketio's own client costs twice the CPU and would starve on 200 connections.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import sys
import time
from typing import Any

import aiohttp

from .fanout_clients import open_raw, percentile, pump


class Screen:
    """One connection that survives drops the way live.js does."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str,
                 replay: bool, floor: int) -> None:
        self.session, self.url, self.token, self.use_replay = session, url, token, replay
        self.last = floor  # the cursor: every event up to here is held (live.js's lastSeq)
        self.held: set[int] = set()
        self.top = floor  # the highest sequence number held
        self.by_replay: set[int] = set()  # replayed, not yet also seen live
        self.live_dupes = 0
        self.replayed = 0
        self.latencies: list[float] = []
        self.drops = 0  # connections the server ended (we never close one ourselves)
        self.failed_connects = 0
        self.connected = False
        self.stopping = False
        self.replaying = False
        self.heads = 0
        self.delayed_heads = 0
        self.stuck_at = -1  # the cursor at the last tick, to spot a gap that stays
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)

    async def connect(self) -> None:
        self.ws = await open_raw(self.session, self.url, self.token, timeout=30)
        self.connected = True

    async def run(self) -> None:
        """Read until the server ends the connection; then back off, reconnect, replay."""
        backoff = 0.5
        while not self.stopping:
            if not self.connected:
                try:
                    await self.connect()
                    backoff = 0.5
                except (OSError, aiohttp.ClientError, TimeoutError, ConnectionError):
                    self.failed_connects += 1
                    await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                    backoff = min(backoff * 2, 10.0)
                    continue
            reader = asyncio.create_task(self._read())
            if self.use_replay:
                asyncio.create_task(self.replay())
            await reader
            if self.stopping:
                return
            self.drops += 1
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            await pump(self.ws, self._live, self._other, self._ack)
        except (aiohttp.ClientError, OSError):
            pass
        finally:
            self.connected = False
            for fut in self._acks.values():
                if not fut.done():
                    fut.cancel()
            self._acks.clear()

    def _other(self, name: str, args: list[Any]) -> None:
        if name == "head" and args:
            self._head(args[0])

    def _ack(self, body: str) -> None:
        split = body.index("[")
        fut = self._acks.pop(int(body[:split]), None)
        if fut is not None and not fut.done():
            fut.set_result(json.loads(body[split:]))

    def _head(self, msg: dict[str, Any]) -> None:
        """As live.js: behind a newer head, replay after a random moment, unless delayed."""
        self.heads += 1
        self.delayed_heads += bool(msg.get("delayed"))
        if not self.use_replay or msg.get("delayed") or msg.get("seq", 0) <= self.last:
            return

        async def later() -> None:
            await asyncio.sleep(random.uniform(0, 2.0))
            if msg["seq"] > self.last:
                await self.replay()

        asyncio.create_task(later())

    def _live(self, ev: dict[str, Any], t: float) -> None:
        if ev.get("context") != "live":
            return
        seq = ev["seq"]
        if seq in self.held:
            if seq in self.by_replay:
                self.by_replay.discard(seq)  # replayed first, now live: discarded, once
            else:
                self.live_dupes += 1  # the server sent it live twice
            return
        if seq <= self.last and self.use_replay:
            return  # already replayed: live.js discards it the same way
        self.held.add(seq)
        self.top = max(self.top, seq)
        if "ts" in ev:
            self.latencies.append(t - ev["ts"])

    async def _ask(self, name: str, body: dict[str, Any], timeout: float) -> Any:
        assert self.ws is not None
        ident = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ident] = fut
        await self.ws.send_str(f"42{ident}" + json.dumps([name, body]))
        return (await asyncio.wait_for(fut, timeout))[0]

    async def replay(self) -> int:
        """Fetch everything after the cursor from the log, in pages of 5,000 (few trips)."""
        if self.replaying:
            return 0
        self.replaying = True
        try:
            return await self._replay()
        finally:
            self.replaying = False

    async def _replay(self) -> int:
        trips = 0
        while self.connected:
            try:
                res = await self._ask("replay", {"since": self.last, "limit": 5000}, 30)
            except (asyncio.CancelledError, TimeoutError, aiohttp.ClientError, OSError):
                return trips
            trips += 1
            if not res.get("ok"):
                return trips
            for ev in res["events"]:
                if ev["seq"] not in self.held:
                    self.held.add(ev["seq"])
                    self.by_replay.add(ev["seq"])
                    self.top = max(self.top, ev["seq"])
                    self.replayed += 1
            self.last = max(self.last, res["head"])
            if not res.get("more"):
                return trips
        return trips

    def advance(self) -> None:
        """Live.js moves its cursor over consecutive events it holds; so does the screen.

        A gap that stays for a tick (an event not for this screen, or one lost) is asked
        of the log, as live.js does on a gap.
        """
        while self.last + 1 in self.held:
            self.last += 1
        gap = self.use_replay and self.connected and self.top > self.last
        if gap and self.stuck_at == self.last and not self.replaying:
            asyncio.create_task(self.replay())
        self.stuck_at = self.last


def _out(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


async def _main(cfg: dict[str, Any]) -> None:
    urls: list[str] = cfg["urls"]
    n: int = cfg["clients"]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                    timeout=aiohttp.ClientTimeout(total=None))
    screens = [Screen(session, urls[i % len(urls)], cfg["token"], cfg.get("replay", True),
                      cfg.get("floor", 0)) for i in range(n)]
    gate = asyncio.Semaphore(10)
    t0 = time.monotonic()

    async def first(s: Screen) -> None:
        async with gate:
            await s.connect()

    try:
        await asyncio.gather(*(first(s) for s in screens))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        _out({"error": f"connect failed: {exc!r}"})
        os._exit(1)
    tasks = [asyncio.create_task(s.run()) for s in screens]
    _out({"ready": True, "connected": n, "connect_seconds": round(time.monotonic() - t0, 2)})

    async def cursor_keeper() -> None:
        while True:
            await asyncio.sleep(0.5)
            for s in screens:
                s.advance()

    keeper = asyncio.create_task(cursor_keeper())
    loop = asyncio.get_running_loop()
    order = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    expected = set(order["expected"])
    deadline = time.monotonic() + float(order.get("timeout", 30.0))
    while time.monotonic() < deadline and not all(expected <= s.held for s in screens):
        await asyncio.sleep(0.2)
    # What is still missing now is asked for once more, as a screen would on the next head.
    if cfg.get("replay", True):
        await asyncio.gather(*(s.replay() for s in screens
                               if s.connected and not expected <= s.held))
    keeper.cancel()
    for s in screens:
        s.stopping = True
    every = sorted(x for s in screens for x in s.latencies)
    holding = [len(expected & s.held) for s in screens]
    result = {
        "clients": n,
        "expected_per_client": len(expected),
        "held_min": min(holding), "held_max": max(holding),
        "complete_clients": sum(1 for h in holding if h == len(expected)),
        "extra": sum(len(s.held - expected) for s in screens),
        "live_duplicates": sum(s.live_dupes for s in screens),
        "replayed": sum(s.replayed for s in screens),
        "heads": sum(s.heads for s in screens),
        "delayed_heads": sum(s.delayed_heads for s in screens),
        "drops": sum(s.drops for s in screens),
        "dropped_clients": sum(1 for s in screens if s.drops),
        "failed_connects": sum(s.failed_connects for s in screens),
        "connected_at_end": sum(1 for s in screens if s.connected),
        "delivery_p50_ms": _ms(percentile(every, 50)),
        "delivery_p95_ms": _ms(percentile(every, 95)),
        "delivery_max_ms": _ms(every[-1] if every else None),
    }
    _out({"result": result})
    for t in tasks:
        t.cancel()
    os._exit(0)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def main() -> None:
    asyncio.run(_main(json.loads(sys.argv[1])))


if __name__ == "__main__":
    main()
