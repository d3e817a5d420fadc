"""Load benchmark: N connected screens while a writer posts mixed writes at a fixed rate.

    python -m tests.benchmarks.load_bench [--duration 60] [--long] [--clients 10,100,200]
                                          [--rate 10,50] [--modes embedded,two-process,baseline]
                                          [--json PATH] [--server-env NAME=VALUE]

What the command room sees during a surge: ``N`` screens (``load_clients``: each keeps its
cursor, replays on connect, and after a drop reconnects with jittered back-off and replays,
as ``static/js/live.js`` does) while an open-loop writer posts ``rate`` writes a second
for ``--duration`` seconds (``--long``: 600 s), mixed as an operator's and a logistics
desk's day: duty-log lines, ambulance fixes, new incidents, stock receipts.

Per run it prints: writes done/sent, write latency p50/p95 (HTTP round trip), writes shed
(429/503 with Retry-After) and failed, delivery latency p50/p95 (receive time minus the
event's ``ts``), server drops (connections the server ended; the screens never close one),
events held / expected per client (expected = every event of the run the screens' token
may see, read from the log afterwards; held = received live or by replay), duplicates,
server CPU (% of one core, all server processes) and peak RSS.

Modes
  embedded     one ``coordination serve`` process: SQLite (WAL), in-process fan-out.
  two-process  two ``coordination serve`` processes on one PostgreSQL database with
               Redis as the Socket.IO queue; screens and writes split between them.
  baseline     ``bare_server``: python-socketio with none of the app (no database, no
               log, no replay), the same screens and the same writer posting to ``/emit``;
               what the Socket.IO stack alone costs on this machine in this run.

Figures are printed, never asserted (``test_load_bench`` asserts delivery only). The
machine is shared: the load average at the start and the end of each run is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.benchmarks.fanout import BareServer, cpu_seconds, log
from tests.benchmarks.fanout_clients import percentile
from tests.support import REDIS_URL, start_server

ROOT = Path(__file__).resolve().parents[2]
MODES = ("embedded", "two-process", "baseline")
PG_ADMIN_URL = os.environ.get("COORDINATION_BENCH_PG",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# The mix of writes: (kind, share). Every one of them is an event operators' screens see.
MIX = (("duty", 4), ("position", 3), ("incident", 1), ("stock", 2))
UNITS = 20  # ambulances whose fixes come in turn (one unit would make its row the bottleneck)


@dataclass
class Run:
    mode: str
    clients: int
    rate: float
    duration: float
    load_before: float = 0.0
    load_after: float = 0.0
    sent: int = 0
    done: int = 0
    shed: int = 0
    failed: int = 0
    failure_sample: list[str] = field(default_factory=list)
    unsent: int = 0
    write_p50_ms: float | None = None
    write_p95_ms: float | None = None
    write_p95_by_kind: dict[str, float | None] = field(default_factory=dict)
    expected_per_client: int = 0
    held_min: int = 0
    complete_clients: int = 0
    live_duplicates: int = 0
    replayed: int = 0
    heads: int = 0
    delayed_heads: int = 0
    drops: int = 0
    dropped_clients: int = 0
    connected_at_end: int = 0
    delivery_p50_ms: float | None = None
    delivery_p95_ms: float | None = None
    server_cpu_pct: float | None = None
    server_rss_mb: float | None = None
    clients_cpu_pct: float | None = None
    error: str | None = None


# --- setup -------------------------------------------------------------------


def _pg_database(tag: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"bench_load_{tag}"
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    engine.dispose()


def prepare(database_url: str, instance: Path) -> dict[str, Any]:
    """Migrate, then make the screens' token, the writer's token, a unit, a depot, an item."""
    import logging

    from coordination import create_app, migrate
    from coordination.auth import service as auth_service
    from coordination.events import Actor
    from coordination.extensions import db
    from coordination.stock import service as stock
    from coordination.stock.schemas import DepotIn, ItemIn
    from coordination.units import service as units
    from coordination.units.schemas import NewUnit

    create_app({"database_url": database_url, "instance_path": instance,
                "secret_key": "bench", "redis_url": None})
    try:
        migrate.upgrade()
        actor = Actor.system("bench")
        _, screens = auth_service.create_token(name="bench-screens", roles=["operator"],
                                               actor=actor)
        _, writer = auth_service.create_token(name="bench-writer",
                                              roles=["operator", "logistics"], actor=actor)
        units.create_units(items=[NewUnit(call_sign=f"BENCH-{k}", lon=113.13, lat=41.03)
                                  for k in range(1, UNITS + 1)], actor=actor, region=None)
        unit_ids = [u.id for u in units.list_units()]
        stock.save_depot(data=DepotIn(code="BD", name_zh="基准库", name_en="Bench depot",
                                      lon=113.12, lat=41.0), actor=actor)
        stock.save_item(data=ItemIn(code="BM", name_zh="口罩", name_en="Masks",
                                    category="ppe", unit="box"), actor=actor)
    finally:
        db.dispose()
        logging.getLogger().setLevel(logging.WARNING)
    return {"screens": screens, "writer": writer, "units": unit_ids}


def expected_seqs(database_url: str, instance: Path, floor: int | None
                  ) -> tuple[list[int], int]:
    """Sequence numbers after ``floor`` an operator's screen may see, and the head
    (``floor`` None: the head only)."""
    import logging

    from sqlalchemy import select

    from coordination import create_app
    from coordination.events import Event, head
    from coordination.extensions import db

    create_app({"database_url": database_url, "instance_path": instance,
                "secret_key": "bench", "redis_url": None})
    try:
        with db.reading() as s:
            top = head(s, "live")
            if floor is None:
                return [], top
            rows = s.execute(select(Event.seq, Event.audience).where(
                Event.context == "live", Event.seq > floor, Event.seq <= top))
            seqs = [seq for seq, audience in rows if "role:operator" in audience]
    finally:
        db.dispose()
        logging.getLogger().setLevel(logging.WARNING)
    return seqs, top


def live_head(database_url: str, instance: Path) -> int:
    return expected_seqs(database_url, instance, None)[1]


# --- the writer ----------------------------------------------------------------


def _body(kind: str, i: int, units: list[int]) -> tuple[str, dict[str, Any]]:
    now = datetime.now(UTC)
    if kind == "duty":
        return "/api/duty-log", {"text": f"load {i}: a duty-log line of ordinary length, "
                                         "who called and what was agreed", "category": "info"}
    if kind == "position":
        return f"/api/units/{units[i % len(units)]}/positions", {
            "lon": 113.13 + (i % 50) * 0.001, "lat": 41.03, "at": now.isoformat(),
            "speed_kmh": 40.0}
    if kind == "incident":
        return "/api/incidents", {"type": "other", "lon": 113.13, "lat": 41.03,
                                  "address": f"load {i}", "patients": 1,
                                  "notes": "load benchmark"}
    return "/api/stock/receipts", {"depot": "BD", "item": "BM", "lot": f"L{i}",
                                   "quantity": 10,
                                   "expiry": (now + timedelta(days=400)).date().isoformat()}


async def drive(urls: list[str], token: str | None, units: list[int], rate: float,
                duration: float, concurrency: int, bare: bool) -> dict[str, Any]:
    """Open loop: write ``i`` is due at ``start + i / rate``; ``concurrency`` in flight."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kinds = [k for k, share in MIX for _ in range(share)]
    n = int(round(rate * duration))
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(concurrency)
    times: dict[str, list[float]] = {k: [] for k, _ in MIX}
    out = {"sent": 0, "done": 0, "shed": 0, "failed": 0, "unsent": 0}
    failures: list[str] = []
    start = loop.time() + 0.05
    cutoff = start + duration + 5.0

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        kind = kinds[i % len(kinds)]
        path, body = ("/emit", {"text": f"load {i}"}) if bare else _body(kind, i, units)
        async with slots:
            t = loop.time()
            if t > cutoff:
                out["unsent"] += 1
                return
            out["sent"] += 1
            try:
                async with session.post(urls[i % len(urls)] + path, json=body,
                                        headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                out["failed"] += 1
                failures.append(f"{kind}: {exc!r}")
                return
        if status in (200, 201):
            out["done"] += 1
            times[kind].append(loop.time() - t)
        elif status in (429, 503):
            out["shed"] += 1
        else:
            out["failed"] += 1
            failures.append(f"{kind}: HTTP {status}")

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        tasks = []
        for i in range(n):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, i)))
        await asyncio.gather(*tasks)
    every = sorted(x for v in times.values() for x in v)
    out["p50"] = _ms(percentile(every, 50))
    out["p95"] = _ms(percentile(every, 95))
    out["by_kind"] = {k: _ms(percentile(sorted(v), 95)) for k, v in times.items() if v}
    out["failures"] = failures[:5]
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(1000 * value, 1)


# --- processes -----------------------------------------------------------------


class Sampler(threading.Thread):
    """Peak RSS of the server processes, sampled every half second."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak_kb, self.stop = pids, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            total = 0
            for pid in self.pids:
                try:
                    with open(f"/proc/{pid}/status") as f:
                        total += next(int(line.split()[1]) for line in f
                                      if line.startswith("VmRSS:"))
                except (OSError, StopIteration):
                    pass
            self.peak_kb = max(self.peak_kb, total)


class Screens:
    """The ``load_clients`` process."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.load_clients", json.dumps(cfg)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"clients process ended (rc={self.proc.wait()})")
        doc = json.loads(line)
        if "error" in doc:
            raise RuntimeError(doc["error"])
        return doc

    def finish(self, expected: list[int], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"expected": expected, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        return self.read()["result"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def run_one(mode: str, n: int, rate: float, args: argparse.Namespace, workdir: Path) -> Run:
    run = Run(mode=mode, clients=n, rate=rate, duration=args.duration,
              load_before=os.getloadavg()[0])
    tag = uuid.uuid4().hex[:8]
    here = workdir / f"{mode}-{n}-{rate:g}-{tag}"
    here.mkdir(parents=True)
    servers: list[Any] = []
    screens: Screens | None = None
    pg_url: str | None = None
    try:
        bare = mode == "baseline"
        if bare:
            token = uuid.uuid4().hex
            servers.append(BareServer(token, here, None, f"bench-load-{tag}"))
            ids = {"screens": token, "writer": None, "units": []}
            db_url = ""
        else:
            if mode == "two-process":
                db_url = pg_url = _pg_database(tag)
            else:
                db_url = f"sqlite:///{here / 'bench.db'}"
            ids = prepare(db_url, here / "setup")
            env = {"COORDINATION_SOCKETIO_CHANNEL": f"bench-load-{tag}",
                   "COORDINATION_HEAD_INTERVAL_SECONDS": "5", **args.server_env_dict}
            for k in range(2 if mode == "two-process" else 1):
                servers.append(start_server(
                    database_url=db_url, instance=here / f"instance{k}",
                    redis_url=REDIS_URL if mode == "two-process" else None, extra_env=env))
        floor = 0 if bare else live_head(db_url, here / "setup")
        urls = [s.url for s in servers]
        screens = Screens({"urls": urls, "token": ids["screens"], "clients": n,
                           "replay": not bare, "floor": floor})
        info = screens.read()
        log(f"  {mode} N={n}: {info['connected']} connected in {info['connect_seconds']} s; "
            f"writing {rate:g}/s for {args.duration:g} s (load {run.load_before:.2f})")
        time.sleep(0.5)
        pids = [s.proc.pid for s in servers]
        sampler = Sampler(pids)
        sampler.start()
        before = [sum(cpu_seconds(p)) for p in pids]
        cli_before = sum(cpu_seconds(screens.proc.pid))
        t0 = time.monotonic()
        out = asyncio.run(drive(urls, ids["writer"], ids["units"], rate, args.duration,
                                args.concurrency, bare))
        if bare:
            expected = list(range(1, out["done"] + 1))
        else:
            time.sleep(1.0)  # commits still being published
            expected, _top = expected_seqs(db_url, here / "setup", floor)
        result = screens.finish(expected, args.drain)
        wall = time.monotonic() - t0
        sampler.stop.set()
        after = [sum(cpu_seconds(p)) for p in pids]
        run.server_cpu_pct = round(100 * (sum(after) - sum(before)) / wall, 1)
        run.clients_cpu_pct = round(100 * (sum(cpu_seconds(screens.proc.pid)) - cli_before)
                                    / wall, 1)
        run.server_rss_mb = round(sampler.peak_kb / 1024, 1)
        run.sent, run.done, run.shed = out["sent"], out["done"], out["shed"]
        run.failed, run.unsent, run.failure_sample = out["failed"], out["unsent"], out["failures"]
        run.write_p50_ms, run.write_p95_ms = out["p50"], out["p95"]
        run.write_p95_by_kind = out["by_kind"]
        for key in ("expected_per_client", "held_min", "complete_clients", "live_duplicates",
                    "replayed", "heads", "delayed_heads", "drops", "dropped_clients",
                    "connected_at_end", "delivery_p50_ms", "delivery_p95_ms"):
            setattr(run, key, result[key])
    except Exception as exc:  # noqa: BLE001 - one failed run must not hide the others
        run.error = f"{type(exc).__name__}: {exc}"
        for s in servers:
            try:
                tail = "\n".join(Path(s.log_path).read_text(errors="replace")
                                 .splitlines()[-15:])
            except OSError:
                tail = ""
            run.error += f"\n--- {Path(s.log_path).name} ---\n{tail}"
    finally:
        if screens is not None:
            screens.stop()
        for s in servers:
            s.stop()
        if pg_url:
            try:
                _drop_pg(pg_url)
            except Exception as exc:  # noqa: BLE001 - a leftover database is named, not fatal
                log(f"  could not drop {pg_url}: {exc}")
        run.load_after = os.getloadavg()[0]
    return run


# --- report ----------------------------------------------------------------------


def table(runs: list[Run]) -> str:
    head = ["mode", "N", "rate/s", "done/sent", "shed", "fail", "write p50", "write p95",
            "deliv p50", "deliv p95", "held/expected (min)", "complete", "dupes", "drops",
            "srv cpu%", "srv RSS MB", "cli cpu%", "load"]
    rows = []
    for r in runs:
        rows.append([
            r.mode, str(r.clients), f"{r.rate:g}", f"{r.done}/{r.sent}", str(r.shed),
            str(r.failed + r.unsent), _f(r.write_p50_ms), _f(r.write_p95_ms),
            _f(r.delivery_p50_ms), _f(r.delivery_p95_ms),
            f"{r.held_min}/{r.expected_per_client}", f"{r.complete_clients}/{r.clients}",
            str(r.live_duplicates), f"{r.drops} ({r.dropped_clients} cl)",
            _f(r.server_cpu_pct), _f(r.server_rss_mb), _f(r.clients_cpu_pct),
            f"{r.load_before:.1f}→{r.load_after:.1f}",
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [line(head), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]
    out.append("times in ms; write = HTTP round trip of a write that succeeded; deliv = screen "
               "receive time - event ts (live deliveries); held = events a screen holds live "
               "or by replay; drops = connections the server ended; load = 1-min load average.")
    for r in runs:
        label = f"{r.mode} N={r.clients} @{r.rate:g}/s"
        if r.write_p95_by_kind:
            out.append(f"  {label}: write p95 by kind {r.write_p95_by_kind}; replayed "
                       f"{r.replayed}; heads {r.heads} ({r.delayed_heads} delayed); "
                       f"connected at end {r.connected_at_end}")
        if r.failure_sample:
            out.append(f"! {label}: failures, e.g. {r.failure_sample}")
        if r.error:
            out.append(f"! {label}: {r.error}")
    return "\n".join(out)


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.load_bench",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=60.0, help="seconds of writes per run")
    p.add_argument("--long", action="store_true", help="600 s per run (the issue's 10 min)")
    p.add_argument("--clients", default="10,100,200", help="comma-separated N values")
    p.add_argument("--rate", default="10,50", help="writes per second; comma-separated")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {MODES}")
    p.add_argument("--concurrency", type=int, default=16, help="writes in flight at most")
    p.add_argument("--drain", type=float, default=30.0,
                   help="seconds the screens get to catch up after the last write")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    args = p.parse_args(argv)
    if args.long:
        args.duration = 600.0
    args.rates = [float(x) for x in args.rate.split(",") if x.strip()]
    args.client_counts = [int(x) for x in args.clients.split(",") if x.strip()]
    args.mode_list = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in args.mode_list if m not in MODES]
    if bad:
        p.error(f"unknown mode(s) {bad}; choose from {MODES}")
    try:
        args.server_env_dict = dict(item.split("=", 1) for item in args.server_env)
    except ValueError:
        p.error("--server-env takes NAME=VALUE")
    return args


def main(argv: list[str] | None = None) -> list[Run]:
    args = parse(argv)
    runs: list[Run] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        for rate in args.rates:
            for n in args.client_counts:
                for mode in args.mode_list:
                    log(f"running {mode} with {n} screens at {rate:g} writes/s …")
                    runs.append(run_one(mode, n, rate, args, Path(tmp)))
    print()
    print(f"load: {args.duration:g} s of writes per run, mix {dict(MIX)}, writer concurrency "
          f"{args.concurrency}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"total {time.monotonic() - started:.0f} s")
    print(table(runs))
    if args.json:
        args.json.write_text(json.dumps({"duration": args.duration,
                                         "runs": [asdict(r) for r in runs]}, indent=2))
    return runs


if __name__ == "__main__":
    main()
