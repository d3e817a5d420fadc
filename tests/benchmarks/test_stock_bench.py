"""Runs the stock benchmark (tests/benchmarks/stock_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_stock_bench.py -s
    COORDINATION_BENCH_STOCK_ARGS="--entries 100000 --databases sqlite" .venv/bin/pytest ...

Timing is never asserted (machines differ); correctness is: the kept balances equal
the ledger's sums, every issue was booked once, and the gap report and dashboard kept
up to date from the event log equal the ones computed from scratch.
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
        db = result["database"]
        assert result["entries"] > 0 and result["gap_rows"] > 0, db
        assert result["balances_equal_ledger"], f"{db}: balances differ from the ledger"
        assert result["issued"] > 0, db
        assert result["on_hand_all_lots"] == result["on_hand_expected"], db
        assert result["gap_kept_equals_fresh"], f"{db}: the kept gap report is stale"
        assert result["dashboard_kept_equals_fresh"], f"{db}: the kept dashboard is stale"
