"""Runs the load benchmark briefly and asserts delivery only: every screen holds every
event it should see (live or by replay), none twice. Figures are printed, not asserted.

    .venv/bin/python -m pytest tests/benchmarks/test_load_bench.py -s -n 0
    COORDINATION_BENCH_LOAD_ARGS="--long --clients 200 --rate 50" .venv/bin/python -m pytest ...
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


def test_load_bench_delivers_every_event_once(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    extra = shlex.split(os.environ.get(
        "COORDINATION_BENCH_LOAD_ARGS",
        "--duration 10 --clients 10 --rate 10 --modes embedded,two-process,baseline"))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.load_bench", "--json", str(out), *extra],
        cwd=ROOT, timeout=3600)
    assert proc.returncode == 0, "the benchmark itself failed; see its output above"
    runs = json.loads(out.read_text())["runs"]
    assert runs, "no run took place"
    for run in runs:
        label = f"{run['mode']} N={run['clients']} @{run['rate']:g}/s"
        assert run["error"] is None, f"{label}: {run['error']}"
        assert run["done"] > 0 and run["expected_per_client"] > 0, f"{label}: nothing written"
        assert run["held_min"] == run["expected_per_client"], f"{label}: a screen missed events"
        assert run["complete_clients"] == run["clients"], f"{label}: a screen missed events"
        assert run["live_duplicates"] == 0, f"{label}: an event came live twice"
