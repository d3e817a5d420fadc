"""Runs the readiness benchmark (tests/benchmarks/readiness_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_readiness_bench.py -s

Timing is never asserted (machines differ); only that the new table equals the
baseline's (row for row: plan, level, on-duty cover, stock available; the script
exits non-zero on the first difference) and the page rendered every row.
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
    assert proc.returncode == 0, "the new table differs from the baseline; see above"
    report = json.loads(out.read_text())
    assert report["rows"] > 0 and report["rows"] == report["baseline_rows"]
    assert report["agencies_compared"] > 0 and report["items_compared"] > 0
    assert report["page_status"] == 200 and report["page_rows"] >= report["rows"]
