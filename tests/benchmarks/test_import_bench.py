"""Runs the import benchmark (tests/benchmarks/import_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_import_bench.py -s
    COORDINATION_BENCH_IMPORT_ARGS="--rows 1000 --databases sqlite" .venv/bin/pytest ...

Timing is never asserted (machines differ); only that every import was accepted and
stored every row it was sent, on every database measured.
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


def test_import_bench(tmp_path: Path) -> None:
    out = tmp_path / "imports.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_IMPORT_ARGS", ""))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.import_bench", "--json",
                           str(out), *extra], cwd=ROOT, timeout=1800)
    assert proc.returncode == 0
    results = json.loads(out.read_text())
    assert results, "no import was measured"
    assert {r["import"] for r in results} == {"stock", "layer"}
    for result in results:
        label = f"{result['database']} {result['import']} x{result['rows']}"
        assert result["status"] == 201, f"{label}: {result.get('error')}"
        assert result["rows_stored"] == result["rows"], label
