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
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks import harness
from tests.benchmarks.fanout_clients import percentile

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


def prepare(database_url: str, instance: Path) -> dict[str, Any]:
    """Migrate, then make the screens' token, the writer's token, units, a depot, an item."""

    def stock_and_units(actor: Any) -> dict[str, Any]:
        from coordination.stock import service as stock
        from coordination.stock.schemas import DepotIn, ItemIn
        from coordination.units import service as units
        from coordination.units.schemas import NewUnit

        units.create_units(items=[NewUnit(call_sign=f"BENCH-{k}", lon=113.13, lat=41.03)
                                  for k in range(1, UNITS + 1)], actor=actor, region=None)
        stock.save_depot(data=DepotIn(code="BD", name_zh="基准库", name_en="Bench depot",
                                      lon=113.12, lat=41.0), actor=actor)
        stock.save_item(data=ItemIn.model_validate({
            "code": "BM", "name_zh": "口罩", "name_en": "Masks", "category": "ppe",
            "unit": "box"}), actor=actor)
        return {"units": [u.id for u in units.list_units()]}

    made = harness.migrate_with_tokens(database_url, instance,
                               {"bench-screens": ["operator"],
                                "bench-writer": ["operator", "logistics"]}, stock_and_units)
    return {"screens": made["bench-screens"], "writer": made["bench-writer"],
            "units": made["units"]}


def expected_seqs(database_url: str, instance: Path, floor: int | None
                  ) -> tuple[list[int], int]:
    """Sequence numbers after ``floor`` an operator's screen may see, and the head
    (``floor`` None: the head only)."""
    from sqlalchemy import select

    from coordination.events import Event, head
    from coordination.extensions import db

    with harness.app_for(database_url, instance), db.reading() as s:
        top = head(s, "live")
        if floor is None:
            return [], top
        rows = s.execute(select(Event.seq, Event.audience).where(
            Event.context == "live", Event.seq > floor, Event.seq <= top))
        return [seq for seq, audience in rows if "role:operator" in audience], top


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
    """Open loop (``harness.open_loop``): write ``i`` is due at ``start + i / rate``,
    ``concurrency`` in flight; 429/503 count as shed, anything else but 200/201 failed."""
    kinds = [k for k, share in MIX for _ in range(share)]
    times: dict[str, list[float]] = {k: [] for k, _ in MIX}
    out: dict[str, Any] = {"sent": 0, "done": 0, "shed": 0, "failed": 0}
    failures: list[str] = []

    def request(i: int) -> tuple[str, dict[str, Any]]:
        return ("/emit", {"text": f"load {i}"}) if bare else _body(kinds[i % len(kinds)],
                                                                  i, units)

    def outcome(i: int, result: int | BaseException, seconds: float) -> None:
        kind = kinds[i % len(kinds)]
        out["sent"] += 1
        if result in (200, 201):
            out["done"] += 1
            times[kind].append(seconds)
        elif result in (429, 503):
            out["shed"] += 1
        else:
            out["failed"] += 1
            failures.append(f"{kind}: " + (f"HTTP {result}" if isinstance(result, int)
                                           else repr(result)))

    loop = await harness.open_loop(urls, token, rate, int(round(rate * duration)),
                                   concurrency, 5.0, request, outcome)
    every = sorted(x for v in times.values() for x in v)
    out["unsent"] = loop["unsent"]
    out["p50"] = harness.ms(percentile(every, 50))
    out["p95"] = harness.ms(percentile(every, 95))
    out["by_kind"] = {k: harness.ms(percentile(sorted(v), 95)) for k, v in times.items() if v}
    out["failures"] = failures[:5]
    return out


# --- processes -----------------------------------------------------------------


class Screens(harness.ClientProcess):
    """The ``load_clients`` process."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__("tests.benchmarks.load_clients", cfg)

    def finish(self, expected: list[int], timeout: float) -> dict[str, Any]:
        return self.order({"expected": expected, "timeout": timeout})


def run_one(mode: str, n: int, rate: float, args: argparse.Namespace, workdir: Path) -> Run:
    run = Run(mode=mode, clients=n, rate=rate, duration=args.duration,
              load_before=os.getloadavg()[0])
    here, tag = harness.run_dir(workdir, mode, n, rate)
    channel = f"bench-load-{tag}"
    servers: list[Any] = []
    screens: Screens | None = None
    pg_url: str | None = None
    try:
        bare = mode == "baseline"
        if bare:
            token = uuid.uuid4().hex
            servers = list(harness.bare_servers(token, here, 1, redis=False, channel=channel))
            ids: dict[str, Any] = {"screens": token, "writer": None, "units": []}
            db_url = ""
        else:
            if mode == "two-process":
                db_url = pg_url = harness.pg_database(PG_ADMIN_URL, f"load_{tag}")
            else:
                db_url = f"sqlite:///{here / 'bench.db'}"
            ids = prepare(db_url, here / "setup")
            servers = harness.app_servers(db_url, here, 2 if mode == "two-process" else 1,
                                  redis=mode == "two-process", channel=channel,
                                  extra_env=args.server_env_dict)
        floor = 0 if bare else live_head(db_url, here / "setup")
        urls = [s.url for s in servers]
        screens = Screens({"urls": urls, "token": ids["screens"], "clients": n,
                           "replay": not bare, "floor": floor})
        info = screens.ready()
        harness.log(f"  {mode} N={n}: {info['connected']} connected in "
                    f"{info['connect_seconds']} s; writing {rate:g}/s for {args.duration:g} s "
                    f"(load {run.load_before:.2f})")
        time.sleep(0.5)
        sampler = harness.RssSampler([s.proc.pid for s in servers])
        sampler.start()
        meter = harness.CpuMeter({**{f"server{k}": s.proc.pid for k, s in enumerate(servers)},
                          "clients": screens.proc.pid})
        out = asyncio.run(drive(urls, ids["writer"], ids["units"], rate, args.duration,
                                args.concurrency, bare))
        if bare:
            expected = list(range(1, out["done"] + 1))
        else:
            time.sleep(1.0)  # commits still being published
            expected, _top = expected_seqs(db_url, here / "setup", floor)
        result = screens.finish(expected, args.drain)
        meter.stop()
        sampler.stop.set()
        run.server_cpu_pct = meter.pct("server")
        run.clients_cpu_pct = meter.pct("clients")
        run.server_rss_mb = sampler.peak_mb
        run.sent, run.done, run.shed = out["sent"], out["done"], out["shed"]
        run.failed, run.unsent, run.failure_sample = out["failed"], out["unsent"], out["failures"]
        run.write_p50_ms, run.write_p95_ms = out["p50"], out["p95"]
        run.write_p95_by_kind = out["by_kind"]
        for key in ("expected_per_client", "held_min", "complete_clients", "live_duplicates",
                    "replayed", "heads", "delayed_heads", "drops", "dropped_clients",
                    "connected_at_end", "delivery_p50_ms", "delivery_p95_ms"):
            setattr(run, key, result[key])
    except Exception as exc:  # noqa: BLE001 - one failed run must not hide the others
        run.error = harness.failure_text(exc, servers)
    finally:
        if screens is not None:
            screens.stop()
        for s in servers:
            s.stop()
        if pg_url:
            try:
                harness.drop_pg(PG_ADMIN_URL, pg_url)
            except Exception as exc:  # noqa: BLE001 - a leftover database is named, not fatal
                harness.log(f"  could not drop {pg_url}: {exc}")
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
            str(r.failed + r.unsent), harness.fmt(r.write_p50_ms), harness.fmt(r.write_p95_ms),
            harness.fmt(r.delivery_p50_ms), harness.fmt(r.delivery_p95_ms),
            f"{r.held_min}/{r.expected_per_client}", f"{r.complete_clients}/{r.clients}",
            str(r.live_duplicates), f"{r.drops} ({r.dropped_clients} cl)",
            harness.fmt(r.server_cpu_pct), harness.fmt(r.server_rss_mb),
            harness.fmt(r.clients_cpu_pct),
            f"{r.load_before:.1f}→{r.load_after:.1f}",
        ])
    out = harness.format_table(head, rows)
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


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.load_bench",
                                description=(__doc__ or "").split("\n\n")[0])
    harness.common_args(p, duration=60.0, clients="10,100,200", rate="10,50",
                        modes=",".join(MODES), concurrency=16, drain=30.0)
    p.add_argument("--long", action="store_true", help="600 s per run (the issue's 10 min)")
    args = harness.finish_args(p, p.parse_args(argv), MODES)
    if args.long:
        args.duration = 600.0
    return args


def main(argv: list[str] | None = None) -> list[Run]:
    args = parse(argv)
    runs, took = harness.run_matrix(args, "load", run_one)
    print()
    print(f"load: {args.duration:g} s of writes per run, mix {dict(MIX)}, writer concurrency "
          f"{args.concurrency}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"total {took:.0f} s")
    print(table(runs))
    if args.json:
        args.json.write_text(json.dumps({"duration": args.duration,
                                         "runs": [asdict(r) for r in runs]}, indent=2))
    return runs


if __name__ == "__main__":
    main()
