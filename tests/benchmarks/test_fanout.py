"""Runs the fan-out benchmark and prints its table; asserts only that events flowed.

    .venv/bin/pytest tests/benchmarks -s
    COORDINATION_BENCH_FANOUT_ARGS="--duration 3 --clients 10" .venv/bin/pytest tests/benchmarks -s

Timing is never asserted: the figures depend on the machine. The benchmark runs
in its own process (``python -m tests.benchmarks.fanout``), so its server and
client processes, and the warnings of the libraries it drives, stay out of this
pytest process.
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


def test_fanout(tmp_path: Path) -> None:
    out = tmp_path / "fanout.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_FANOUT_ARGS", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.fanout", "--json", str(out), *extra],
        cwd=ROOT, timeout=900,
    )
    assert proc.returncode == 0, "the benchmark itself failed; see its output above"
    report = json.loads(out.read_text())
    runs = report["runs"]
    assert runs, "no run took place"
    for run in runs:
        label = f"{run['mode']} N={run['clients']} @{run['target_rate']:g}/s"
        assert run["error"] is None, f"{label}: {run['error']}"
        assert run["posted"] > 0, f"{label}: no service call succeeded"
        assert run["delivered"] > 0, f"{label}: no event reached a client"
        assert run["duplicates"] == 0, f"{label}: a client got the same event twice"
