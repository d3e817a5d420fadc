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
import math
import os
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import (
    ClientProcess,
    CpuMeter,
    app_servers,
    bare_servers,
    common_args,
    cpu_seconds,
    failure_text,
    finish_args,
    fmt,
    format_table,
    log,
    migrate_with_tokens,
    open_loop,
    run_dir,
    run_matrix,
)

__all__ = ["Clients", "cpu_seconds", "main"]  # map_bench uses Clients

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


def make_tokens(database_url: str, instance: Path) -> tuple[str, str]:
    """Migrate a fresh database and create two operator tokens: clients', driver's."""
    made = migrate_with_tokens(database_url, instance, {"bench-clients": ["operator"],
                                                        "bench-driver": ["operator"]})
    return made["bench-clients"], made["bench-driver"]


class Clients(ClientProcess):
    """The ``fanout_clients`` process."""

    def __init__(self, urls: list[str], token: str, n: int, impl: str,
                 count: dict[str, str] | None = None) -> None:
        cfg: dict[str, Any] = {"urls": urls, "token": token, "clients": n,
                               "measure_prefix": MEASURE_PREFIX, "impl": impl}
        if count:
            cfg["count"] = count  # counting mode, see fanout_clients
        super().__init__("tests.benchmarks.fanout_clients", cfg)

    def drain(self, expected: int, timeout: float) -> dict[str, Any]:
        return self.order({"drain": expected, "timeout": timeout})


# --- driver ------------------------------------------------------------------


async def _drive(urls: list[str], path: str, token: str | None, rate: float, warmup: float,
                 duration: float, concurrency: int, grace: float) -> dict[str, Any]:
    """Open-loop posts at ``rate`` (``harness.open_loop``): a warm-up second that is
    not counted, then the window; returns what was posted and how fast."""
    n_warm = int(round(rate * warmup))
    n = int(round(rate * duration))
    loop = asyncio.get_running_loop()
    http: list[float] = []
    done: list[float] = []
    errors: list[str] = []
    posted_all = 0

    def request(i: int) -> tuple[str, dict[str, Any]]:
        prefix = MEASURE_PREFIX if i >= n_warm else WARM_PREFIX
        return path, {"text": f"{prefix}{i} fan-out benchmark entry, about the length of "
                              "a real duty-log line", "category": "info"}

    def outcome(i: int, result: int | BaseException, seconds: float) -> None:
        nonlocal posted_all
        ok = result == 201
        if not ok:
            errors.append(f"HTTP {result}" if isinstance(result, int) else repr(result))
            return
        posted_all += 1
        if i >= n_warm:
            http.append(seconds)
            done.append(loop.time())

    out = await open_loop(urls, token, rate, n_warm + n, concurrency, grace, request,
                          outcome)
    window_start = out["start"] + n_warm / rate
    http.sort()
    elapsed = max(max(done) - window_start, duration) if done else duration
    return {
        "posted": len(done),
        "posted_all": posted_all,
        "unsent": out["unsent"],
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
    here, tag = run_dir(workdir, mode, n, rate)
    channel = f"bench-fanout-{tag}"
    servers: list[Any] = []
    clients: Clients | None = None
    count = 2 if mode in ("redis", "baseline-redis") else 1
    try:
        if mode in ("embedded", "redis"):
            db_url = f"sqlite:///{here / 'bench.db'}"
            client_token, driver_token = make_tokens(db_url, here / "setup")
            servers = app_servers(db_url, here, count, redis=mode == "redis",
                                  channel=channel, extra_env=args.server_env_dict)
            path, auth = "/api/duty-log", driver_token
        else:
            client_token = uuid.uuid4().hex
            servers = list(bare_servers(client_token, here, count,
                                        redis=mode == "baseline-redis", channel=channel))
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
        meter = CpuMeter(pids)
        drive = asyncio.run(_drive(urls, path, auth, rate, args.warmup, args.duration,
                                   args.concurrency, args.grace))
        result = clients.drain(drive["posted"], args.drain)
        meter.stop()
        for spy in spies:
            spy.wait(timeout=args.warmup + args.duration + args.drain + 30)
        for k, (user, system) in meter.used.items():
            run.cpu[k] = round(100 * (user + system) / meter.wall, 1)
            if k != "driver":
                run.cpu_user_sys[k] = (round(user, 2), round(system, 2))
        sent = drive["posted_all"]
        run.server_cpu_ms_per_event = (round(1000 * meter.seconds("server") / sent, 2)
                                       if sent else None)
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
        run.error = failure_text(exc, servers)
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
            fmt(r.p50_ms), fmt(r.p95_ms), fmt(r.p99_ms), fmt(r.max_ms),
            ratio(r, r.p95_vs_baseline, "baseline"),
            ratio(r, r.p95_vs_baseline_redis, "baseline-redis"),
            fmt(r.http_p95_ms), fmt(r.server_cpu_ms_per_event, 2), cpu,
        ])
    out = format_table(head, rows)
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
                         f"{'met' if ok else 'NOT met'} (p95 {fmt(r.p95_ms)} ms at "
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


# --- entry point ---------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.fanout",
                                description=(__doc__ or "").split("\n\n")[0])
    common_args(p, duration=10.0, clients="10,100", rate="200,30", modes=DEFAULT_MODES,
                concurrency=8, drain=10.0)
    p.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds before")
    p.add_argument("--client", choices=("socketio", "raw"), default="raw",
                   help="client implementation (see fanout_clients)")
    p.add_argument("--grace", type=float, default=2.0,
                   help="seconds after the window in which late posts may still start")
    p.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                   help="profile every process with py-spy (if installed) into DIR; "
                        "profiling costs CPU, so figures from such a run are not comparable")
    args = finish_args(p, p.parse_args(argv), MODES)
    if args.py_spy and not Path(sys.executable).with_name("py-spy").exists():
        p.error("--py-spy needs py-spy in this virtualenv (pip install py-spy)")
    return args


def main(argv: list[str] | None = None) -> list[Run]:
    args = parse(argv)
    if any("redis" in m for m in args.mode_list):
        from tests.support import redis_available

        ok, why = redis_available()
        if not ok:
            log(f"Redis not available ({why}); skipping the redis modes")
            args.mode_list = [m for m in args.mode_list if "redis" not in m]
    runs, took = run_matrix(args, "fanout", run_one)
    compare(runs)
    print()
    print(f"fan-out: {args.duration:g} s measured (+{args.warmup:g} s warm-up) per run, "
          f"{args.client} clients, driver concurrency {args.concurrency}, "
          f"{os.cpu_count()} CPUs, total {took:.0f} s")
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
