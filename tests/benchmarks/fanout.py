"""Fan-out benchmark: service call to delivery at N connected clients.

    python -m tests.benchmarks.fanout [--duration S] [--rate R[,R2]] [--clients 10,100]
                                      [--modes embedded,redis,baseline,baseline-redis]
                                      [--client raw|socketio] [--json PATH]

For every rate, N and mode it starts fresh server process(es), connects N
socket.io clients (one asyncio loop in one separate process, see
``fanout_clients``), drives duty-log posts at a fixed open-loop rate from this
process, and measures, per delivery, receive time minus the message's ``ts``.
The default rates are 200/s (the goal's load) and 30/s, a load every mode
carries on a 2-core machine, so the p95 ratio to the baseline is also given at
equal load.

Modes
  embedded        one ``coordination serve`` process, SQLite (WAL), no Redis;
                  the driver POSTs /api/duty-log with an operator token, which
                  emits ``dutylog.posted`` to role:operator (and admin, trainer).
  redis           two ``coordination serve`` processes sharing one SQLite (WAL)
                  file and Redis (a unique COORDINATION_SOCKETIO_CHANNEL per
                  run); half the clients on each, the driver alternating posts.
  baseline        a bare python-socketio server (``bare_server``): the same
                  server stack (socketio threading mode, simple-websocket,
                  werkzeug threaded server, request logging), the same driver
                  (HTTP POST of the same body at the same rate), the same rooms,
                  message shape and clients; ``ts`` is stamped just before its
                  emit. Triggered by the driver's posts, not by a timer, so both
                  sides pay for one HTTP request per event.
  baseline-redis  two bare servers on a RedisManager, as ``redis`` is to
                  ``embedded``.

What a latency contains
  ours      ``ts`` is the event's ``recorded_at``, taken in ``events.append``
            inside the service call's transaction, so it covers the rest of the
            service call, the commit, ``after_commit`` → publisher → emit, the
            per-socket writer threads, the network and client decoding.
  baseline  the same from the emit on (no service call, no transaction).
  Time spent before ``ts`` (HTTP, auth, taking the SQLite write lock) is not in
  the latency; when it limits, it shows as a lower posted rate and a higher
  ``http p95``.

The driver is open-loop: post ``i`` is due at ``t0 + i / rate`` and waits for
one of ``--concurrency`` slots; a post that cannot start on time starts late,
and one still waiting ``--grace`` seconds after the window is not sent, so an
overloaded server shows as a lower posted rate, never as an endless run. A
warm-up second of posts (another text prefix) runs first and is not counted.

Figures are printed, never asserted. All processes share one machine, so the
clients' and the driver's CPU compete with the servers'; the table shows each
side's CPU use during the window, and server CPU per event (a load-independent
cost figure). ``--client raw`` (the default) is a minimal Engine.IO/Socket.IO
client on aiohttp; ``--client socketio`` uses python-socketio's AsyncClient,
which costs about twice the CPU per message and saturates its process at
N=100 on a small machine (the latencies then measure the clients' backlog).
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
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import requests

from tests.support import REDIS_URL, free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
MODES = ("embedded", "redis", "baseline", "baseline-redis")
DEFAULT_MODES = "embedded,redis,baseline,baseline-redis"
WARM_PREFIX = "w-"
MEASURE_PREFIX = "m-"
GOAL_P95_MS = 50.0
GOAL_RATIO = 1.5


@dataclass
class Run:
    mode: str
    clients: int
    target_rate: float
    duration: float
    client_impl: str = "raw"
    posted: int = 0
    unsent: int = 0
    post_errors: int = 0
    post_error_sample: list[str] = field(default_factory=list)
    achieved_rate: float = 0.0
    delivered_rate: float = 0.0
    delivered: int = 0
    expected: int = 0
    min_per_client: int = 0
    connected_at_end: int = 0
    duplicates: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    http_p50_ms: float | None = None
    http_p95_ms: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    cpu_user_sys: dict[str, tuple[float, float]] = field(default_factory=dict)
    server_cpu_ms_per_event: float | None = None
    error: str | None = None
    p95_vs_baseline: float | None = None
    p95_vs_baseline_redis: float | None = None


# --- processes ---------------------------------------------------------------


class BareServer:
    """A ``bare_server`` process, shaped like support.ServerProcess for our purposes."""

    command = [sys.executable, "-m", "tests.benchmarks.bare_server"]

    def __init__(self, token: str, workdir: Path, redis_url: str | None, channel: str,
                 index: int = 0, stride: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"bare-{self.port}.log"
        cmd = [*self.command, "--port", str(self.port),
               "--token", token, "--channel", channel, "--index", str(index),
               "--stride", str(stride)]
        if redis_url:
            cmd += ["--redis", redis_url]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bare server exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/api/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("bare server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def make_tokens(database_url: str, instance: Path) -> tuple[str, str]:
    """Migrate a fresh database and create two operator tokens: clients', driver's."""
    from coordination import create_app, migrate
    from coordination.auth import service as auth_service
    from coordination.events import Actor
    from coordination.extensions import db

    create_app({"database_url": database_url, "instance_path": instance,
                "secret_key": "bench", "redis_url": None})
    try:
        migrate.upgrade()
        actor = Actor.system("bench")
        _, clients = auth_service.create_token(name="bench-clients", roles=["operator"],
                                               actor=actor)
        _, driver = auth_service.create_token(name="bench-driver", roles=["operator"],
                                              actor=actor)
    finally:
        db.dispose()
        logging.getLogger().setLevel(logging.WARNING)  # create_app set INFO for the server
    return clients, driver


class Clients:
    """The ``fanout_clients`` process."""

    def __init__(self, urls: list[str], token: str, n: int, impl: str,
                 count: dict[str, str] | None = None) -> None:
        cfg: dict[str, Any] = {"urls": urls, "token": token, "clients": n,
                               "measure_prefix": MEASURE_PREFIX, "impl": impl}
        if count:
            cfg["count"] = count  # counting mode, see fanout_clients
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.fanout_clients", json.dumps(cfg)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"clients process ended (rc={self.proc.wait()})")
        doc = json.loads(line)
        if "error" in doc:
            raise RuntimeError(doc["error"])
        return doc

    def ready(self) -> dict[str, Any]:
        return self._read()

    def drain(self, expected: int, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"drain": expected, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        return self._read()["result"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


# --- driver ------------------------------------------------------------------


async def _drive(urls: list[str], path: str, token: str | None, rate: float, warmup: float,
                 duration: float, concurrency: int, grace: float) -> dict[str, Any]:
    """Open-loop posts at ``rate``; returns what was posted and how fast.

    Post ``i`` is due at ``start + i / rate`` and waits for one of
    ``concurrency`` slots; a post that has not got a slot ``grace`` seconds
    after the window's end is not sent (counted as ``unsent``), so a server
    that cannot keep up costs a lower achieved rate, never an unbounded run.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    n_warm = int(round(rate * warmup))
    n = int(round(rate * duration))
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(concurrency)
    http: list[float] = []
    done: list[float] = []
    errors: list[str] = []
    unsent = 0
    posted_all = 0
    start = loop.time() + 0.05
    window_start = start + n_warm / rate
    cutoff = window_start + duration + grace

    async def post(session: aiohttp.ClientSession, i: int, measured: bool) -> None:
        nonlocal unsent, posted_all
        body = {"text": f"{MEASURE_PREFIX if measured else WARM_PREFIX}{i} fan-out benchmark "
                        "entry, about the length of a real duty-log line",
                "category": "info"}
        async with slots:
            t = loop.time()
            if t > cutoff:
                unsent += measured
                return
            try:
                async with session.post(urls[i % len(urls)] + path, json=body,
                                        headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == 201
                    if not ok:
                        errors.append(f"HTTP {resp.status}")
            except (TimeoutError, aiohttp.ClientError) as exc:
                ok = False
                errors.append(repr(exc))
        posted_all += ok
        if measured and ok:
            end = loop.time()
            http.append(end - t)
            done.append(end)

    # werkzeug's dev server answers every request with "Connection: close", so
    # each post is a new connection (and a new server thread), ours and baseline's alike.
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = []
        for i in range(n_warm + n):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(session, i, i >= n_warm)))
        await asyncio.gather(*tasks)
    http.sort()
    elapsed = max(max(done) - window_start, duration) if done else duration
    return {
        "posted": len(done),
        "posted_all": posted_all,
        "unsent": unsent,
        "errors": len(errors),
        "error_sample": errors[:3],
        "window_start_wall": time.time() - (loop.time() - window_start),
        "elapsed": elapsed,
        "achieved_rate": len(done) / elapsed,
        "http_p50_ms": 1000 * http[len(http) // 2] if http else None,
        "http_p95_ms": 1000 * http[max(0, math.ceil(0.95 * len(http)) - 1)] if http else None,
    }


# --- one run -----------------------------------------------------------------


def run_one(mode: str, n: int, rate: float, args: argparse.Namespace, workdir: Path) -> Run:
    run = Run(mode=mode, clients=n, target_rate=rate, duration=args.duration,
              client_impl=args.client)
    tag = uuid.uuid4().hex[:8]
    here = workdir / f"{mode}-{n}-{rate:g}-{tag}"
    here.mkdir(parents=True)
    channel = f"bench-fanout-{tag}"
    servers: list[Any] = []
    clients: Clients | None = None
    try:
        if mode in ("embedded", "redis"):
            db_url = f"sqlite:///{here / 'bench.db'}"
            client_token, driver_token = make_tokens(db_url, here / "setup")
            env = {"COORDINATION_SOCKETIO_CHANNEL": channel,
                   "COORDINATION_HEAD_INTERVAL_SECONDS": "5", **args.server_env_dict}
            count = 2 if mode == "redis" else 1
            for k in range(count):
                servers.append(start_server(
                    database_url=db_url, instance=here / f"instance{k}",
                    redis_url=REDIS_URL if mode == "redis" else None, extra_env=env,
                ))
            path, auth = "/api/duty-log", driver_token
        else:
            client_token = driver_token = uuid.uuid4().hex
            count = 2 if mode == "baseline-redis" else 1
            for k in range(count):
                servers.append(BareServer(client_token, here,
                                          REDIS_URL if mode == "baseline-redis" else None,
                                          channel, index=k, stride=count))
            path, auth = "/emit", None
        urls = [s.url for s in servers]
        clients = Clients(urls, client_token, n, args.client)
        info = clients.ready()
        log(f"  {mode} N={n}: {info['connected']} clients connected in "
            f"{info['connect_seconds']} s; driving {rate:g}/s for {args.duration:g} s")
        time.sleep(0.5)  # let connect-time work settle
        pids = {f"server{k}" if count > 1 else "server": s.proc.pid
                for k, s in enumerate(servers)}
        pids["clients"] = clients.proc.pid
        spies = _start_py_spy(args, pids, f"{mode}-{n}-{rate:g}") if args.py_spy else []
        before = {k: cpu_seconds(p) for k, p in pids.items()}
        me_before = os.times()
        t_before = time.monotonic()
        drive = asyncio.run(_drive(urls, path, auth, rate, args.warmup, args.duration,
                                   args.concurrency, args.grace))
        result = clients.drain(drive["posted"], args.drain)
        wall = time.monotonic() - t_before
        me_after = os.times()
        for spy in spies:
            spy.wait(timeout=args.warmup + args.duration + args.drain + 30)
        after = {k: cpu_seconds(p) for k, p in pids.items()}
        for k in pids:
            user, system = (after[k][0] - before[k][0]), (after[k][1] - before[k][1])
            run.cpu[k] = round(100 * (user + system) / wall, 1)
            run.cpu_user_sys[k] = (round(user, 2), round(system, 2))
        run.cpu["driver"] = round(100 * ((me_after.user - me_before.user)
                                         + (me_after.system - me_before.system)) / wall, 1)
        server_cpu = sum(sum(after[k]) - sum(before[k]) for k in pids if k.startswith("server"))
        sent = drive["posted_all"]
        run.server_cpu_ms_per_event = round(1000 * server_cpu / sent, 2) if sent else None
        run.posted = drive["posted"]
        run.unsent = drive["unsent"]
        run.post_errors = drive["errors"]
        run.post_error_sample = drive["error_sample"]
        run.achieved_rate = round(drive["achieved_rate"], 1)
        run.http_p50_ms = _r(drive["http_p50_ms"])
        run.http_p95_ms = _r(drive["http_p95_ms"])
        for key in ("delivered", "expected", "min_per_client", "duplicates",
                    "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"):
            setattr(run, key, result[key])
        run.connected_at_end = result["connected"]
        if result["delivered"] and result["last_receive"]:
            span = max(result["last_receive"] - drive["window_start_wall"], args.duration)
            run.delivered_rate = round(result["delivered"] / n / span, 1)
    except Exception as exc:  # noqa: BLE001 - one failed run must not hide the others
        run.error = f"{type(exc).__name__}: {exc}"
        for s in servers:
            tail = _tail(s.log_path)
            if tail:
                run.error += f"\n--- {s.log_path.name} ---\n{tail}"
    finally:
        if clients is not None:
            clients.stop()
        for s in servers:
            s.stop()
    return run


def _start_py_spy(args: argparse.Namespace, pids: dict[str, int],
                  label: str) -> list[subprocess.Popen[bytes]]:
    """Sample each process with py-spy (collapsed stacks) over warm-up + window."""
    args.py_spy.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    seconds = int(math.ceil(args.warmup + args.duration)) + 1
    procs = []
    for name, pid in pids.items():
        out = args.py_spy / f"{label}-{name}.txt"
        procs.append(subprocess.Popen(
            [str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
             "--format", "raw", "--gil", "--nonblocking", "--threads", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
    time.sleep(0.5)  # py-spy attaches
    return procs


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- report ------------------------------------------------------------------


def kept_up(r: Run) -> bool:
    """Did the run carry the target: ≥95 % of the rate posted and every delivery made?"""
    return (r.error is None and r.achieved_rate >= 0.95 * r.target_rate
            and r.expected > 0 and r.delivered == r.expected)


def compare(runs: list[Run]) -> None:
    base = {(r.mode, r.clients, r.target_rate): r for r in runs if r.p95_ms}
    for r in runs:
        if not r.p95_ms:
            continue
        b = base.get(("baseline", r.clients, r.target_rate))
        if b and r.mode in ("embedded", "redis"):
            r.p95_vs_baseline = round(r.p95_ms / b.p95_ms, 2)  # type: ignore[operator]
        b = base.get(("baseline-redis", r.clients, r.target_rate))
        if b and r.mode == "redis":
            r.p95_vs_baseline_redis = round(r.p95_ms / b.p95_ms, 2)  # type: ignore[operator]


def table(runs: list[Run]) -> str:
    head = ["mode", "N", "target/s", "posted/s", "deliv ev/s", "delivered/expected",
            "p50 ms", "p95 ms", "p99 ms", "max ms", "p95÷base", "p95÷base-redis",
            "http p95 ms", "srv cpu ms/ev", "cpu% srv/cli/drv"]
    by_key = {(r.mode, r.clients, r.target_rate): r for r in runs}

    def ratio(r: Run, value: float | None, other: str) -> str:
        if value is None:
            return "-"
        b = by_key.get((other, r.clients, r.target_rate))
        fair = kept_up(r) and b is not None and kept_up(b)
        return f"{value:.2f}×" + ("" if fair else "*")

    rows = []
    for r in runs:
        srv = "+".join(f"{v:g}" for k, v in r.cpu.items() if k.startswith("server"))
        cpu = f"{srv}/{r.cpu.get('clients', 0):g}/{r.cpu.get('driver', 0):g}" if r.cpu else "-"
        rows.append([
            r.mode + ("" if kept_up(r) else " (!)"), str(r.clients), f"{r.target_rate:g}",
            f"{r.achieved_rate:g}", f"{r.delivered_rate:g}",
            f"{r.delivered}/{r.expected}" + (f" ({100 * r.delivered / r.expected:.1f}%)"
                                             if r.expected else ""),
            _f(r.p50_ms), _f(r.p95_ms), _f(r.p99_ms), _f(r.max_ms),
            ratio(r, r.p95_vs_baseline, "baseline"),
            ratio(r, r.p95_vs_baseline_redis, "baseline-redis"),
            _f(r.http_p95_ms), _f(r.server_cpu_ms_per_event, digits=2), cpu,
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [line(head), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]
    out.append("(!) did not carry the target: <95 % of the rate posted or deliveries missing; "
               "its latencies are at the load it did carry.")
    out.append("*   a side of this ratio did not carry the target, so the two p95s are at "
               "different loads: not a like-for-like ratio.")
    out.append("latency = client receive time - message ts; srv cpu ms/ev = server CPU "
               "(all server processes) per posted event, warm-up included;")
    out.append("cpu% = share of one core during the window, server(s)/clients process/driver.")
    for r in runs:
        if r.unsent:
            out.append(f"! {r.mode} N={r.clients} @{r.target_rate:g}/s: {r.unsent} posts not "
                       "sent (still waiting for a slot when the window + grace ended)")
        if r.cpu and r.connected_at_end < r.clients:
            out.append(f"! {r.mode} N={r.clients} @{r.target_rate:g}/s: only "
                       f"{r.connected_at_end} clients still connected at the end")
        if r.post_errors:
            out.append(f"! {r.mode} N={r.clients} @{r.target_rate:g}/s: {r.post_errors} posts "
                       f"failed, e.g. {r.post_error_sample}")
        if r.duplicates:
            out.append(f"! {r.mode} N={r.clients} @{r.target_rate:g}/s: {r.duplicates} "
                       "duplicate deliveries (same seq twice to one client; not counted)")
        if r.error:
            out.append(f"! {r.mode} N={r.clients} @{r.target_rate:g}/s: {r.error}")
    return "\n".join(out)



def goals(runs: list[Run]) -> str:
    lines = []
    for r in runs:
        if r.mode == "embedded" and r.clients == 100 and r.target_rate >= 200:
            ok = kept_up(r) and r.p95_ms is not None and r.p95_ms < GOAL_P95_MS
            lines.append(f"goal: embedded p95 < {GOAL_P95_MS:g} ms at 200 ev/s to 100 clients: "
                         f"{'met' if ok else 'NOT met'} (p95 {_f(r.p95_ms)} ms at "
                         f"{r.achieved_rate:g} ev/s posted, {r.delivered}/{r.expected} "
                         "delivered)")
        if r.mode in ("embedded", "redis") and r.p95_vs_baseline is not None:
            b = next((x for x in runs if x.mode == "baseline" and x.clients == r.clients
                      and x.target_rate == r.target_rate), None)
            fair = kept_up(r) and b is not None and kept_up(b)
            ok = fair and r.p95_vs_baseline <= GOAL_RATIO
            lines.append(f"goal: {r.mode} N={r.clients} @{r.target_rate:g}/s p95 within "
                         f"{GOAL_RATIO:g}× baseline: {'met' if ok else 'NOT met'} "
                         f"({r.p95_vs_baseline:g}×" + ("" if fair else ", loads differ") + ")")
    return "\n".join(lines)


def _f(value: float | None, suffix: str = "", digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


# --- entry point ---------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.fanout",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds before")
    p.add_argument("--rate", default="200,30",
                   help="target events per second; comma-separated for several")
    p.add_argument("--clients", default="10,100", help="comma-separated N values")
    p.add_argument("--modes", default=DEFAULT_MODES, help=f"comma-separated, of {MODES}")
    p.add_argument("--client", choices=("socketio", "raw"), default="raw",
                   help="client implementation (see fanout_clients)")
    p.add_argument("--concurrency", type=int, default=8,
                   help="driver's posts in flight at once (in total)")
    p.add_argument("--grace", type=float, default=2.0,
                   help="seconds after the window in which late posts may still start")
    p.add_argument("--drain", type=float, default=10.0,
                   help="seconds to wait for late deliveries after the last post")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for `coordination serve` (repeatable), e.g. a "
                        "COORDINATION_* setting to compare")
    p.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                   help="profile every process with py-spy (if installed) into DIR; "
                        "profiling costs CPU, so figures from such a run are not comparable")
    args = p.parse_args(argv)
    args.rates = [float(x) for x in args.rate.split(",") if x.strip()]
    try:
        args.server_env_dict = dict(item.split("=", 1) for item in args.server_env)
    except ValueError:
        p.error("--server-env takes NAME=VALUE")
    args.client_counts = [int(x) for x in args.clients.split(",") if x.strip()]
    args.mode_list = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.py_spy and not Path(sys.executable).with_name("py-spy").exists():
        p.error("--py-spy needs py-spy in this virtualenv (pip install py-spy)")
    bad = [m for m in args.mode_list if m not in MODES]
    if bad:
        p.error(f"unknown mode(s) {bad}; choose from {MODES}")
    return args


def main(argv: list[str] | None = None) -> list[Run]:
    args = parse(argv)
    if any("redis" in m for m in args.mode_list):
        from tests.support import redis_available

        ok, why = redis_available()
        if not ok:
            log(f"Redis not available ({why}); skipping the redis modes")
            args.mode_list = [m for m in args.mode_list if "redis" not in m]
    runs: list[Run] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        for rate in args.rates:
            for n in args.client_counts:
                for mode in args.mode_list:
                    log(f"running {mode} with {n} clients at {rate:g}/s …")
                    runs.append(run_one(mode, n, rate, args, Path(tmp)))
    compare(runs)
    print()
    print(f"fan-out: {args.duration:g} s measured (+{args.warmup:g} s warm-up) per run, "
          f"{args.client} clients, driver concurrency {args.concurrency}, "
          f"{os.cpu_count()} CPUs, total {time.monotonic() - started:.0f} s")
    print(table(runs))
    g = goals(runs)
    if g:
        print(g)
    if args.json:
        args.json.write_text(json.dumps({
            "rates": args.rates, "duration": args.duration, "warmup": args.warmup,
            "client": args.client, "concurrency": args.concurrency,
            "cpus": os.cpu_count(), "runs": [asdict(r) for r in runs],
        }, indent=2))
    return runs


if __name__ == "__main__":
    main()
