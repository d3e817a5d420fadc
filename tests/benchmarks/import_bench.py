"""Import benchmark: stock and layer files of 1,000 / 10,000 / 50,000 rows through a
real server process, with a second client reading ``GET /api/incidents`` throughout.

    .venv/bin/python -m tests.benchmarks.import_bench                  # SQLite and PostgreSQL
    .venv/bin/python -m tests.benchmarks.import_bench --rows 1000 10000 --databases sqlite

For each database and size it prints the import's rows per second and the reader's
p95 latency during the import against the same reader idle just before it (measured
in the same run, so the ratio means something on a shared machine). A stock import is a job: the
POST answers 202 at once (``answered_s``) and the time runs until the job, polled as
the page polls it, has finished. Nothing is asserted here.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

from ..support import PG_ADMIN_URL, Databases, start_server


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=20)[-1]


class Reader:
    """GET /api/incidents in a loop; latencies in ms."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with requests.Session() as http:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                http.get(f"{self.url}/api/incidents", headers=self.headers, timeout=120)
                self.samples.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.05)

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join(180)


class _Finished:
    """The end of a job, shaped as the response of a synchronous import."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.status_code = 201 if body["status"] == "done" else 400
        self.text = json.dumps(body, ensure_ascii=False)


def _follow(url: str, headers: dict[str, str]) -> Any:
    """Poll a job (as the import page does, every 0.4 s) until it has finished."""
    with requests.Session() as http:
        while True:
            body = http.get(url, headers=headers, timeout=120).json()
            if body["finished"]:
                return _Finished(body)
            time.sleep(0.4)


def stock_file(rows: int, tag: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["depot", "item", "lot", "expiry", "quantity"])
    expiry = (date.today() + timedelta(days=300)).isoformat()
    for n in range(rows):
        writer.writerow(["D1", "N95", f"{tag}-{n % 2000}", expiry, 1 + n % 7])
    return out.getvalue().encode("utf-8")


def layer_file(rows: int, tag: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "lon", "lat"])
    for n in range(rows):
        writer.writerow([f"{tag}-{n}", f"发热门诊 {tag} {n}", 112.5 + (n % 1000) / 1000,
                         40.5 + (n // 1000) / 100])
    return out.getvalue().encode("utf-8")


def _setup(url: str, tmp: Path) -> str:
    """Migrate, add depot D1 and item N95, and return a logistics+operator token."""
    from coordination import create_app, migrate
    from coordination.auth import service as auth_service
    from coordination.events import Actor
    from coordination.extensions import db
    from coordination.stock import service as stock
    from coordination.stock.schemas import DepotIn, ItemIn

    app = create_app({"instance_path": tmp / "setup", "database_url": url,
                      "secret_key": "bench", "redis_url": None})
    with app.app_context():
        migrate.upgrade()
        actor = Actor.system("bench")
        stock.save_depot(data=DepotIn(code="D1", name_zh="集宁储备库", name_en="Jining depot",
                                      lon=113.12, lat=41.0), actor=actor)
        stock.save_item(data=ItemIn(code="N95", name_zh="N95 口罩", name_en="N95 mask",
                                    unit="只", category="ppe"), actor=actor)
        _tok, secret = auth_service.create_token(name="bench", roles=["logistics", "operator",
                                                                      "admin"], actor=actor)
    db.dispose()
    return secret


def run_database(name: str, url: str, sizes: list[int], tmp: Path) -> list[dict[str, Any]]:
    secret = _setup(url, tmp)
    headers = {"Authorization": f"Bearer {secret}"}
    server = start_server(database_url=url, instance=tmp / f"server-{name}")
    results = []
    try:
        with Reader(server.url, headers):
            time.sleep(2)  # warm-up: the first answers load caches
        for rows in sizes:
            for what, route, content, form in (
                    ("stock", "/api/stock/import", stock_file(rows, f"S{rows}"),
                     {"kind": "receipt"}),
                    ("layer", "/api/layers/fever_clinic", layer_file(rows, f"F{rows}"), {})):
                # The idle baseline right before each import: on a shared machine the
                # load drifts within a run, and the ratio must compare like with like.
                with Reader(server.url, headers) as idle:
                    time.sleep(4)
                idle_p95 = _p95(idle.samples)
                with Reader(server.url, headers) as busy:
                    time.sleep(0.5)
                    t0 = time.perf_counter()
                    resp = requests.post(f"{server.url}{route}", headers=headers, data=form,
                                         files={"file": (f"{what}.csv", content)}, timeout=900)
                    answered = time.perf_counter() - t0
                    if resp.status_code == 202:  # a job: poll it until it ends
                        resp = _follow(server.url + resp.headers["Location"], headers)
                    seconds = time.perf_counter() - t0
                    time.sleep(0.5)
                result = {
                    "database": name, "import": what, "rows": rows, "status": resp.status_code,
                    "seconds": round(seconds, 2), "answered_s": round(answered, 2),
                    "rows_per_s": round(rows / seconds),
                    "reader_idle_p95_ms": round(idle_p95, 1),
                    "reader_busy_p95_ms": round(_p95(busy.samples), 1),
                    "reader_busy_max_ms": round(max(busy.samples, default=0), 1),
                    "ratio": round(_p95(busy.samples) / idle_p95, 2),
                }
                if resp.status_code >= 300:
                    result["error"] = resp.text[:300]
                else:  # what the import says it stored, to check against what was sent
                    result["rows_stored"] = int(resp.json().get("rows", -1))
                print(json.dumps(result, ensure_ascii=False), flush=True)
                results.append(result)
    finally:
        server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name in args.databases:
            if name == "sqlite":
                results += run_database(name, f"sqlite:///{tmp / 'bench.db'}", args.rows, tmp)
            else:
                dbs = Databases(PG_ADMIN_URL)
                try:
                    results += run_database(name, dbs.postgres(), args.rows, tmp)
                finally:
                    dbs.drop_all()
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0 if all(r["status"] < 300 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
