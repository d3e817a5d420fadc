"""Runs the drill benchmark (tests/benchmarks/drill_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_drill_bench.py -s
    COORDINATION_BENCH_DRILL_ARGS="--injects 100" .venv/bin/pytest ...

Timing is never asserted here (machines differ): the script's exit status says
whether every inject fired within 1 s of drill time, and its figures are printed.
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


def test_drill_bench(tmp_path: Path) -> None:
    out = tmp_path / "drill.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_DRILL_ARGS", ""))
    subprocess.run([sys.executable, "-m", "tests.benchmarks.drill_bench", "--json", str(out),
                    *extra], cwd=ROOT, timeout=1800, check=False)
    result = json.loads(out.read_text())
    assert result["results"][0]["injects"] > 0
    print(json.dumps(result, indent=2))
