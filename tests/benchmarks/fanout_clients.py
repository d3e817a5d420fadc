"""The fan-out benchmark's clients: N socket.io clients on one asyncio loop.

Two implementations, chosen by ``"impl"`` in the config:

``socketio`` (default)
    python-socketio ``AsyncClient`` with ``transports=["websocket"]``, the
    client the project's tests use.
``raw``
    a minimal Engine.IO 4 / Socket.IO 5 client on an aiohttp WebSocket: open,
    ``40{auth}``, answer pings, decode ``42[...]`` frames. The same messages
    over the same connection, for a fraction of python-socketio's CPU per
    message, so a small machine measures the server rather than its clients.

Run by ``tests.benchmarks.fanout`` as a separate process, so the clients' CPU
is not the servers' or the driver's. It talks to its parent over stdin/stdout,
one JSON document per line:

    argv[1]   {"urls": [...], "token": "...", "clients": N, "measure_prefix": "m-",
               "impl": "socketio" | "raw"}
    stdout    {"ready": true, "connected": N, "connect_seconds": s}   (or "error")
    stdin     {"drain": K, "timeout": s}   K = events the driver posted in the window
    stdout    {"result": {...}}            per-delivery latency summary, then exit

Client i connects to ``urls[i % len(urls)]``. Each ``"event"`` message of type
``dutylog.posted`` whose payload text starts with the measure prefix counts
(warm-up posts use another prefix); its latency is receive time minus the
message's ``ts`` (same machine clock), taken first thing in the handler.

With ``"count": {"type": "unit.moved", "items": "positions"}`` in the config
(the ingestion benchmark, ``map_bench``) every event of that type counts
instead, once per sequence number, and what a client has received is the sum
of the lengths of its payload lists (the fixes it was told about): ``drain`` K
then waits until every client holds K items, and the result adds
``items_min_per_client`` / ``items_max_per_client``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from typing import Any

import aiohttp
import socketio

TYPE = "dutylog.posted"


class Stats:
    __slots__ = ("latencies", "seqs", "dupes", "first", "last", "others", "items")

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seqs: set[int] = set()
        self.dupes = 0
        self.first = math.inf
        self.last = 0.0
        self.others = 0
        self.items = 0  # payload list entries received (counting mode)


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[k]


def _out(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def _handler(stats: Stats, kind: str, prefix: str | None = None,
             items: str | None = None) -> Any:
    """Count each event of ``kind`` once per sequence number, with its latency.

    Measuring mode (``prefix``): only duty-log posts whose text starts with it count
    (warm-up posts use another). Counting mode (``items``): every event counts,
    weighted by the length of its payload's ``items`` list.
    """
    now = time.time

    def on_event(msg: Any, t: float | None = None) -> None:
        if t is None:
            t = now()
        if not isinstance(msg, dict) or msg.get("type") != kind:
            stats.others += 1
            return
        if prefix is not None and not msg["payload"]["text"].startswith(prefix):
            return
        seq = msg["seq"]
        if seq in stats.seqs:
            stats.dupes += 1
            return
        stats.seqs.add(seq)
        if items is not None:
            stats.items += len(msg["payload"].get(items) or ())
        stats.latencies.append(t - msg["ts"])
        if t < stats.first:
            stats.first = t
        if t > stats.last:
            stats.last = t

    return on_event


def _make_handler(cfg: dict[str, Any], stats: Stats) -> Any:
    count = cfg.get("count")
    if count:
        return _handler(stats, count["type"], items=count["items"])
    return _handler(stats, TYPE, prefix=cfg["measure_prefix"])


async def _connect(i: int, url: str, token: str, handler: Any,
                   gate: asyncio.Semaphore) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("event", handler)  # plain function: no coroutine per message
    sio.on("events", lambda run: [handler(one) for one in run])
    async with gate:
        await sio.connect(url, transports=["websocket"], auth={"token": token},
                          wait_timeout=20)
    return sio


async def open_raw(session: aiohttp.ClientSession, url: str, token: str,
                   timeout: float = 20.0) -> aiohttp.ClientWebSocketResponse:
    """Engine.IO 4 open and Socket.IO 5 connect (``40{"token": ...}``) over one
    WebSocket; the socket, once the server has accepted. An emit that races the
    connect's answer is dropped here (a replaying client asks the log for it)."""
    ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    ws = await session.ws_connect(ws_url, autoping=True, max_msg_size=0)
    opening = await ws.receive_str(timeout=timeout)
    if not opening.startswith("0"):
        raise ConnectionError(f"unexpected Engine.IO open {opening[:80]!r}")
    await ws.send_str("40" + json.dumps({"token": token}))
    while True:
        reply = await ws.receive_str(timeout=timeout)
        if reply == "2":
            await ws.send_str("3")
        elif reply.startswith("40"):
            return ws
        elif not reply.startswith("42"):
            raise ConnectionError(f"Socket.IO connect refused: {reply[:200]!r}")


async def pump(ws: aiohttp.ClientWebSocketResponse, on_event: Any,
               on_other: Any = None, on_ack: Any = None) -> None:
    """Read Socket.IO frames until the server ends the connection (or it breaks).

    ``on_event(event, t)`` gets every event of an ``"event"`` or ``"events"`` (a run in
    one message) emit, ``t`` the receive time taken first; ``on_other(name, args)``
    other emits, ``on_ack(body)`` acknowledgements (``43<id>[...]``). Pings are answered.
    """
    now = time.time
    async for msg in ws:
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        data = msg.data
        if data.startswith("42"):
            t = now()
            name, *args = json.loads(data[2:])
            if name == "event" and args:
                on_event(args[0], t)
            elif name == "events" and args:
                for one in args[0]:
                    on_event(one, t)
            elif on_other is not None:
                on_other(name, args)
        elif data.startswith("43"):
            if on_ack is not None:
                on_ack(data[2:])
        elif data == "2":
            await ws.send_str("3")
        elif data.startswith("1") or data.startswith("41"):
            break  # Engine.IO close / Socket.IO disconnect from the server


class RawClient:
    """Just enough Engine.IO 4 + Socket.IO 5 over one aiohttp WebSocket."""

    def __init__(self, session: aiohttp.ClientSession, on_event: Any) -> None:
        self.session = session
        self.on_event = on_event
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.connected = False
        self.task: asyncio.Task[None] | None = None

    async def connect(self, url: str, token: str) -> None:
        self.ws = await open_raw(self.session, url, token)
        self.connected = True
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            await pump(self.ws, self.on_event)
        finally:
            self.connected = False


async def _connect_raw(url: str, token: str, handler: Any,
                       gate: asyncio.Semaphore, session: aiohttp.ClientSession) -> RawClient:
    client = RawClient(session, handler)
    async with gate:
        await client.connect(url, token)
    return client


async def _main(cfg: dict[str, Any]) -> None:
    urls: list[str] = cfg["urls"]
    n: int = cfg["clients"]
    stats = [Stats() for _ in range(n)]
    handlers = [_make_handler(cfg, st) for st in stats]
    counting = bool(cfg.get("count"))
    gate = asyncio.Semaphore(cfg.get("connect_concurrency", 10))
    t0 = time.monotonic()
    raw = cfg.get("impl", "socketio") == "raw"
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) if raw else None
    try:
        if raw:
            assert session is not None
            clients: list[Any] = list(await asyncio.gather(*(
                _connect_raw(urls[i % len(urls)], cfg["token"], handlers[i], gate, session)
                for i in range(n)
            )))
        else:
            clients = list(await asyncio.gather(*(
                _connect(i, urls[i % len(urls)], cfg["token"], handlers[i], gate)
                for i in range(n)
            )))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        _out({"error": f"connect failed: {exc!r}"})
        os._exit(1)
    _out({"ready": True, "connected": len(clients),
          "connect_seconds": round(time.monotonic() - t0, 2)})

    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    order = json.loads(line)
    expected = int(order["drain"])
    deadline = time.monotonic() + float(order.get("timeout", 5.0))
    while time.monotonic() < deadline:
        if all((s.items if counting else len(s.seqs)) >= expected for s in stats):
            break
        await asyncio.sleep(0.05)

    every = sorted(x for s in stats for x in s.latencies)
    counts = [len(s.seqs) for s in stats]
    first = min((s.first for s in stats), default=math.inf)
    last = max((s.last for s in stats), default=0.0)
    ms = 1000.0
    result = {
        "clients": n,
        "connected": sum(1 for c in clients if c.connected),
        "expected_per_client": expected,
        "delivered": len(every),
        "expected": expected * n,
        "min_per_client": min(counts) if counts else 0,
        "max_per_client": max(counts) if counts else 0,
        "duplicates": sum(s.dupes for s in stats),
        "other_messages": sum(s.others for s in stats),
        "first_receive": first if every else None,
        "last_receive": last if every else None,
        "p50_ms": _ms(percentile(every, 50), ms),
        "p95_ms": _ms(percentile(every, 95), ms),
        "p99_ms": _ms(percentile(every, 99), ms),
        "max_ms": _ms(every[-1] if every else None, ms),
        "mean_ms": _ms(sum(every) / len(every) if every else None, ms),
    }
    if counting:
        items = [s.items for s in stats]
        result["items_min_per_client"] = min(items) if items else 0
        result["items_max_per_client"] = max(items) if items else 0
    _out({"result": result})
    # No graceful disconnects: the servers are stopped next anyway.
    os._exit(0)


def _ms(value: float | None, scale: float) -> float | None:
    return None if value is None else round(value * scale, 3)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    asyncio.run(_main(cfg))


if __name__ == "__main__":
    main()
