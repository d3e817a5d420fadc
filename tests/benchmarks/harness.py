"""What the socket benchmarks share: servers, the clients' process, the open-loop
writer, CPU and RSS meters, the run matrix and the table.

``fanout`` (service call to delivery, duty-log posts) and ``load_bench`` (a command
room of screens under a mixed write load) measure different things with the same
machinery; it lives here once, so a fix to how a server is started, a write is timed
or CPU is counted holds for both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import REDIS_URL, ServerProcess, free_port, start_server

ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the application, set up from the driver's side ------------------------------


@contextmanager
def app_for(database_url: str, instance: Path) -> Iterator[None]:
    """An app on ``database_url`` for setting up or reading a benchmark's database,
    disposed afterwards (its engine must not outlive the run's database)."""
    from coordination import create_app
    from coordination.extensions import db

    create_app({"database_url": database_url, "instance_path": instance,
                "secret_key": "bench", "redis_url": None})
    try:
        yield
    finally:
        db.dispose()
        logging.getLogger().setLevel(logging.WARNING)  # create_app set INFO for the server


def migrate_with_tokens(database_url: str, instance: Path, tokens: dict[str, list[str]],
                        then: Callable[[Any], dict[str, Any]] | None = None
                        ) -> dict[str, Any]:
    """Migrate a fresh database and create API tokens (name: roles); their secrets by
    name, and whatever ``then(actor)`` adds (more setup, in the same app)."""
    from coordination import migrate
    from coordination.auth import service as auth_service
    from coordination.events import Actor

    with app_for(database_url, instance):
        migrate.upgrade()
        actor = Actor.system("bench")
        out: dict[str, Any] = {name: auth_service.create_token(name=name, roles=roles,
                                                               actor=actor)[1]
                               for name, roles in tokens.items()}
        if then is not None:
            out.update(then(actor))
    return out


def pg_database(admin_url: str, tag: str) -> str:
    """A fresh, empty PostgreSQL database for one run; its URL."""
    from sqlalchemy import create_engine, text

    name = f"bench_{tag}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_pg(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    engine.dispose()


def app_servers(database_url: str, workdir: Path, count: int, *, redis: bool, channel: str,
                extra_env: dict[str, str]) -> list[Any]:
    """``count`` ``coordination serve`` processes on one database (Redis between them
    when ``redis``), on their own Socket.IO channel, with a 5 s head interval."""
    env = {"COORDINATION_SOCKETIO_CHANNEL": channel,
           "COORDINATION_HEAD_INTERVAL_SECONDS": "5", **extra_env}
    servers: list[Any] = []
    try:
        for k in range(count):
            servers.append(start_server(database_url=database_url,
                                        instance=workdir / f"instance{k}",
                                        redis_url=REDIS_URL if redis else None,
                                        extra_env=env))
    except Exception:
        for s in servers:
            s.stop()
        raise
    return servers


def start_bare(token: str, workdir: Path, redis_url: str | None, channel: str,
               index: int = 0, stride: int = 1) -> ServerProcess:
    """A ``bare_server`` process (the baseline), started and answering its health check."""
    port = free_port()
    log_path = workdir / f"bare-{port}.log"
    cmd = [sys.executable, "-m", "tests.benchmarks.bare_server", "--port", str(port),
           "--token", token, "--channel", channel, "--index", str(index),
           "--stride", str(stride)]
    if redis_url:
        cmd += ["--redis", redis_url]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = ServerProcess(url=f"http://127.0.0.1:{port}", port=port, proc=proc,
                           log_path=log_path)
    return server.wait_healthy(120)


def bare_servers(token: str, workdir: Path, count: int, *, redis: bool,
                 channel: str) -> list[ServerProcess]:
    servers: list[ServerProcess] = []
    try:
        for k in range(count):
            servers.append(start_bare(token, workdir, REDIS_URL if redis else None, channel,
                                      index=k, stride=count))
    except Exception:
        for s in servers:
            s.stop()
        raise
    return servers


def failure_text(exc: BaseException, servers: Sequence[Any], lines: int = 15) -> str:
    """The exception, then the last lines of every server's log: why a run failed."""
    text = f"{type(exc).__name__}: {exc}"
    for s in servers:
        try:
            tail = "\n".join(Path(s.log_path).read_text(errors="replace")
                             .splitlines()[-lines:])
        except OSError:
            tail = ""
        if tail:
            text += f"\n--- {Path(s.log_path).name} ---\n{tail}"
    return text


# --- the clients' process -----------------------------------------------------------


class ClientProcess:
    """A process of socket clients (``fanout_clients``, ``load_clients``) that talks to
    the driver one JSON document a line: a ready line, then an order and its result."""

    def __init__(self, module: str, cfg: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, json.dumps(cfg)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"clients process ended (rc={self.proc.wait()})")
        doc: dict[str, Any] = json.loads(line)
        if "error" in doc:
            raise RuntimeError(doc["error"])
        return doc

    def ready(self) -> dict[str, Any]:
        return self.read()

    def order(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Send one order; its ``result``."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(doc) + "\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = self.read()["result"]
        return result

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


# --- meters --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


class CpuMeter:
    """CPU of named processes (and of this driver) from ``start`` to ``stop``."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before = {k: cpu_seconds(p) for k, p in pids.items()}
        self.me = os.times()
        self.t0 = time.monotonic()
        self.used: dict[str, tuple[float, float]] = {}
        self.wall = 0.0

    def stop(self) -> CpuMeter:
        me = os.times()
        self.wall = time.monotonic() - self.t0
        for k, pid in self.pids.items():
            after = cpu_seconds(pid)
            self.used[k] = (after[0] - self.before[k][0], after[1] - self.before[k][1])
        self.used["driver"] = (me.user - self.me.user, me.system - self.me.system)
        return self

    def seconds(self, prefix: str) -> float:
        """CPU seconds of every process whose name starts with ``prefix``."""
        return sum(u + s for k, (u, s) in self.used.items() if k.startswith(prefix))

    def pct(self, prefix: str) -> float:
        """Share of one core during the window, in per cent."""
        return round(100 * self.seconds(prefix) / self.wall, 1) if self.wall else 0.0


class RssSampler(threading.Thread):
    """Peak RSS (sum over ``pids``), sampled every half second until ``stop`` is set."""

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

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)


# --- the writer ------------------------------------------------------------------------

#: What one write is: (URL path, JSON body) for write ``i``.
Request = Callable[[int], tuple[str, dict[str, Any]]]
#: What became of it: (i, HTTP status or the exception, seconds from start to answer).
Outcome = Callable[[int, "int | BaseException", float], None]


async def open_loop(urls: list[str], token: str | None, rate: float, count: int,
                    concurrency: int, grace: float, request: Request,
                    outcome: Outcome) -> dict[str, float | int]:
    """Open-loop writes: write ``i`` is due at ``start + i / rate`` and waits for one of
    ``concurrency`` slots; one still waiting ``grace`` s after the last is due is not sent
    (``unsent``), so an overloaded server shows as fewer writes, never an endless run.

    Write ``i`` goes to ``urls[i % len(urls)]``. Returns ``start`` (loop time) and
    ``unsent``.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(concurrency)
    start = loop.time() + 0.05
    cutoff = start + count / rate + grace
    unsent = 0

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal unsent
        path, body = request(i)
        async with slots:
            t = loop.time()
            if t > cutoff:
                unsent += 1
                return
            result: int | BaseException
            try:
                async with session.post(urls[i % len(urls)] + path, json=body,
                                        headers=headers) as resp:
                    await resp.read()
                    result = resp.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                result = exc
        outcome(i, result, loop.time() - t)

    # werkzeug's dev server answers every request with "Connection: close", so each
    # write is a new connection (and a new server thread), ours and the baseline's alike.
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        tasks: list[Awaitable[None]] = []
        for i in range(count):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, i)))
        await asyncio.gather(*tasks)
    return {"start": start, "unsent": unsent}


# --- the run matrix and the report ---------------------------------------------------------


def common_args(p: argparse.ArgumentParser, *, duration: float, clients: str, rate: str,
                modes: str, concurrency: int, drain: float) -> None:
    """The options both benchmarks take, with each one's defaults."""
    p.add_argument("--duration", type=float, default=duration, help="seconds of writes per run")
    p.add_argument("--clients", default=clients, help="comma-separated N values")
    p.add_argument("--rate", default=rate, help="writes per second; comma-separated")
    p.add_argument("--modes", default=modes, help="comma-separated modes")
    p.add_argument("--concurrency", type=int, default=concurrency,
                   help="writes in flight at most")
    p.add_argument("--drain", type=float, default=drain,
                   help="seconds the clients get to catch up after the last write")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for `coordination serve` (repeatable)")


def finish_args(p: argparse.ArgumentParser, args: argparse.Namespace,
                modes: Sequence[str]) -> argparse.Namespace:
    """Split the comma-separated options; refuse unknown modes and bad NAME=VALUEs."""
    args.rates = [float(x) for x in args.rate.split(",") if x.strip()]
    args.client_counts = [int(x) for x in args.clients.split(",") if x.strip()]
    args.mode_list = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in args.mode_list if m not in modes]
    if bad:
        p.error(f"unknown mode(s) {bad}; choose from {tuple(modes)}")
    try:
        args.server_env_dict = dict(item.split("=", 1) for item in args.server_env)
    except ValueError:
        p.error("--server-env takes NAME=VALUE")
    return args


def run_matrix(args: argparse.Namespace, name: str,
               run_one: Callable[[str, int, float, argparse.Namespace, Path], Any]
               ) -> tuple[list[Any], float]:
    """Every rate × N × mode, each in a fresh folder; the runs and the seconds taken."""
    runs: list[Any] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
        for rate in args.rates:
            for n in args.client_counts:
                for mode in args.mode_list:
                    log(f"running {mode} with {n} clients at {rate:g}/s …")
                    runs.append(run_one(mode, n, rate, args, Path(tmp)))
    return runs, time.monotonic() - started


def run_dir(workdir: Path, mode: str, n: int, rate: float) -> tuple[Path, str]:
    """A fresh folder for one run, and the run's tag (for channels and database names)."""
    tag = uuid.uuid4().hex[:8]
    here = workdir / f"{mode}-{n}-{rate:g}-{tag}"
    here.mkdir(parents=True)
    return here, tag


def format_table(head: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned columns: the first left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return [line(head), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def ms(value: float | None, digits: int = 1) -> float | None:
    """Seconds to milliseconds, rounded; None stays None."""
    return None if value is None else round(1000 * value, digits)
