"""Runs the readiness benchmark (tests/benchmarks/readiness_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_readiness_bench.py -s

Timing is never asserted (machines differ); only that the new table equals the
baseline's and the page rendered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_readiness_bench(tmp_path: Path) -> None:
    out = tmp_path / "readiness.json"
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.readiness_bench", "--runs",
                           "3", "--json", str(out)], cwd=ROOT, timeout=1200)
    assert proc.returncode == 0
    assert json.loads(out.read_text())["rows"] > 0
