"""Command-room benchmark: /ops on the demo and on ten times its units, facilities and
open incidents, in headless Chromium.

    python -m tests.benchmarks.ops_bench [--scale 10] [--loads 3] [--json PATH]

For each database (the demo with its running situation; the demo plus
``scale - 1`` times as many more units, facilities and open incidents) a server
is started, Chromium signs in as the operator and opens /ops. "Interactive" is
the moment the live channel is live, the map reports ``ready`` and every panel
is filled (``data-populated``): time from navigation start. Also reported: the
bytes transferred (Resource Timing, as sent) and, for every request the page
makes, the server's time to first byte (requestStart → responseStart, measured
on this machine with nothing in between). The operator signs in on /me, so the
first load of /ops is cold on both sides (a fresh server process, an empty
browser cache); each load after it is warm (browser cache, as on a wall screen).
The ratio compares the two databases in the same run, on the median load and on
the best one (the machine is shared: the median is the honest figure, the best
the least disturbed). Goals: interactive under 2 s on the demo, ratio under 2.

Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support import start_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PANELS = 6


def seed(url: str, instance: Path, *, scale: int) -> dict[str, int]:
    """The demo with its situation, then (scale - 1)× more of what /ops shows."""
    from sqlalchemy import func, select

    from coordination import create_app, migrate
    from coordination.demo import ACTOR, load_demo
    from coordination.extensions import db
    from coordination.facilities.models import Facility
    from coordination.facilities.schemas import CapacityReportIn, NewFacility
    from coordination.facilities.service import create_facilities
    from coordination.incidents import service as incidents
    from coordination.incidents.schemas import IncidentIn
    from coordination.units.models import Unit
    from coordination.units.schemas import NewUnit
    from coordination.units.service import create_units

    app = create_app({"instance_path": instance, "database_url": url, "secret_key": "bench",
                      "redis_url": None})
    rng = random.Random(13)
    with app.app_context():
        migrate.upgrade()
        load_demo(situation=True)

        def count(model: Any) -> int:
            with db.reading() as s:
                return int(s.scalar(select(func.count()).select_from(model)) or 0)

        base = {"units": count(Unit), "facilities": count(Facility),
                "incidents": len(incidents.list_incidents())}
        extra = scale - 1
        if extra > 0:
            kinds = ["fever_clinic", "isolation_point", "designated_hospital",
                     "township_health_centre"]
            create_facilities(items=[NewFacility(
                code=f"X{n}", name=f"设施 {n} (facility {n})", kind=kinds[n % 4],
                lon=rng.uniform(111.2, 114.6), lat=rng.uniform(40.2, 42.6),
                initial=CapacityReportIn.model_validate({"figures": {"isolation_room": {
                    "capacity": 10, "occupied": rng.randint(0, 10)}}}))
                for n in range(base["facilities"] * extra)], actor=ACTOR, region=None)
            create_units(items=[NewUnit(call_sign=f"X120-{n:04d}", crew=["甲", "乙"],
                                        negative_pressure=n % 5 == 0,
                                        lon=rng.uniform(111.2, 114.6),
                                        lat=rng.uniform(40.2, 42.6))
                                for n in range(base["units"] * extra)], actor=ACTOR, region=None)
            for n in range(base["incidents"] * extra):
                incidents.create_incident(data=IncidentIn.model_validate({
                    "type": "suspected_case", "disease": "fever",
                    "lon": rng.uniform(111.2, 114.6), "lat": rng.uniform(40.2, 42.6),
                    "address": f"测试地点 {n} (place {n})"}), actor=ACTOR, region=None)
        out = {"units": count(Unit), "facilities": count(Facility),
               "incidents": len(incidents.list_incidents())}
    db.dispose()
    return out


MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const bytes = (nav.transferSize || 0) + res.reduce((n, r) => n + (r.transferSize || 0), 0);
  const requests = [nav].concat(res).map(r => ({
    path: new URL(r.name).pathname + new URL(r.name).search,
    server_ms: r.responseStart > 0 && r.requestStart > 0
      ? Math.round(r.responseStart - r.requestStart) : null,
    bytes: r.transferSize || 0}));
  return {bytes: bytes, requests: requests};
}"""


def bench(url: str, instance: Path, *, scale: int, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    t = time.monotonic()
    counts = seed(url, instance, scale=scale)
    seeded = round(time.monotonic() - t, 1)
    server = start_server(database_url=url, instance=instance)
    results = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = ctx.new_page()
            errors: list[str] = []  # what went wrong while loading, per load
            page.on("pageerror", lambda exc: errors.append(f"script: {exc}"))
            page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}")
                    if r.status >= 400 else None)
            # Land on /me, not /ops: the first measured load must find the server cold.
            page.goto(server.url + "/login?next=/me")
            page.fill("input[name=username]", "operator")
            page.fill("input[name=password]", "operator-demo")
            page.click("main form button[type=submit].primary")
            page.wait_for_url(server.url + "/me")
            for _ in range(loads):
                errors.clear()
                page.goto(server.url + "/ops")
                page.wait_for_selector("#livemap[data-state=ready]", state="attached",
                                       timeout=60000)
                page.wait_for_selector("#conn-state[data-state=live]", timeout=60000)
                page.wait_for_function(
                    f"document.querySelectorAll('[data-panel][data-populated]').length >= "
                    f"{PANELS}", timeout=60000)
                interactive = page.evaluate("performance.now()")
                populated = page.evaluate(
                    "document.querySelectorAll('[data-panel][data-populated]').length")
                results.append({"interactive_ms": round(interactive), "panels": populated,
                                "errors": list(errors)} | page.evaluate(MEASURE))
            browser.close()
    finally:
        server.stop()
    return {"counts": counts, "seed_s": seeded, "loads": results}


def _print(name: str, run: dict[str, Any]) -> None:
    c = run["counts"]
    print(f"\n== {name}: {c['units']} units, {c['facilities']} facilities, "
          f"{c['incidents']} open incidents (seeded in {run['seed_s']} s)")
    for n, load in enumerate(run["loads"]):
        kind = "cold" if n == 0 else "warm"
        print(f"  load {n + 1} ({kind}): interactive {load['interactive_ms']} ms, "
              f"{load['bytes'] / 1024:.0f} KiB transferred")
    print("  server time to first byte per request (first load):")
    for r in sorted(run["loads"][0]["requests"], key=lambda r: -(r["server_ms"] or 0)):
        if r["server_ms"] is not None and (r["path"].startswith(("/ops", "/api", "/socket"))):
            print(f"    {r['server_ms']:>6} ms  {r['bytes'] / 1024:>7.1f} KiB  {r['path'][:80]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    with tempfile.TemporaryDirectory() as tmp:
        for name, scale in (("demo", 1), (f"{args.scale}x", args.scale)):
            folder = Path(tmp) / name
            folder.mkdir()
            run = bench(f"sqlite:///{folder / 'db.sqlite'}", folder / "inst", scale=scale,
                        loads=args.loads)
            report[name] = run
            _print(name, run)
    times = {name: [load["interactive_ms"] for load in report[name]["loads"]]
             for name in ("demo", f"{args.scale}x")}
    demo, big = times["demo"], times[f"{args.scale}x"]
    report["ratio"] = round(statistics.median(big) / statistics.median(demo), 2)
    report["ratio_best"] = round(min(big) / min(demo), 2)
    print(f"\ninteractive over {args.loads} loads: demo median {statistics.median(demo):.0f} ms, "
          f"best {min(demo)} ms, cold {demo[0]} ms (goal < 2000); {args.scale}x median "
          f"{statistics.median(big):.0f} ms, best {min(big)} ms, cold {big[0]} ms")
    print(f"ratio {args.scale}x/demo: median {report['ratio']}, best {report['ratio_best']} "
          f"(goal < 2), measured {report['measured_at']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
