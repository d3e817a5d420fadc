"""Runs the stock benchmark (tests/benchmarks/stock_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_stock_bench.py -s
    COORDINATION_BENCH_STOCK_ARGS="--entries 100000 --databases sqlite" .venv/bin/pytest ...

Timing is never asserted (machines differ); only that the ledger loaded and the
report covered every depot and item.
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


def test_stock_bench(tmp_path: Path) -> None:
    out = tmp_path / "stock.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_STOCK_ARGS", ""))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.stock_bench", "--json",
                           str(out), *extra], cwd=ROOT, timeout=1200)
    assert proc.returncode == 0
    for result in json.loads(out.read_text()):
        assert result["entries"] > 0 and result["gap_rows"] > 0
        assert result["issues_per_s"] > 0
