"""Runs the live-map benchmark (tests/benchmarks/map_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_map_bench.py -s
    COORDINATION_BENCH_MAP_ARGS="--facilities 2000 --databases sqlite" .venv/bin/pytest ...

Timing is never asserted; only that the map loaded, positions were stored and
every socket client received every moved fix.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_map_bench(tmp_path: Path) -> None:
    out = tmp_path / "map.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_MAP_ARGS", ""))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.map_bench", "--json",
                           str(out), *extra], cwd=ROOT, timeout=1200)
    assert proc.returncode == 0
    report = json.loads(out.read_text())
    if "map" in report:
        assert report["map"]["loads"][0]["counts"]["facilities"] > 0
    for name, run in report.items():
        if not name.startswith("ingest_"):
            continue
        assert run["stored"] > 0, name
        # Every client got every fix the responses said moved, once (not a timing).
        assert run["moved_fixes_per_client_min"] == run["moved_fixes_expected_per_client"], name
        assert run["moved_events_duplicates"] == 0, name
