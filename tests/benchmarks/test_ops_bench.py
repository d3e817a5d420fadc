"""Runs the command-room benchmark (tests/benchmarks/ops_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_ops_bench.py -s

Timing is never asserted; only that /ops became interactive on the demo and at ten
times its size, every load with all its panels filled, no script error and no failed
request, and that the large set really holds ten times the demo's units.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .ops_bench import PANELS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_ops_bench(tmp_path: Path) -> None:
    out = tmp_path / "ops.json"
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.ops_bench", "--json",
                           str(out)], cwd=ROOT, timeout=1800)
    assert proc.returncode == 0
    report = json.loads(out.read_text())
    assert report["demo"]["loads"] and report["10x"]["loads"]
    for name in ("demo", "10x"):
        for n, load in enumerate(report[name]["loads"]):
            assert load["panels"] >= PANELS, f"{name} load {n + 1}: panels left empty"
            assert load["errors"] == [], f"{name} load {n + 1}: {load['errors']}"
    for kind in ("units", "facilities"):
        assert report["10x"]["counts"][kind] == 10 * report["demo"]["counts"][kind] > 0, kind
