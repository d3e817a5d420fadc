"""Runs the command-room benchmark (tests/benchmarks/ops_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_ops_bench.py -s

Timing is never asserted; only that /ops became interactive on both databases.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_ops_bench(tmp_path: Path) -> None:
    out = tmp_path / "ops.json"
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.ops_bench", "--json",
                           str(out)], cwd=ROOT, timeout=1800)
    assert proc.returncode == 0
    report = json.loads(out.read_text())
    assert report["demo"]["loads"] and report["10x"]["loads"]
    assert report["10x"]["counts"]["units"] >= 10 * 20
