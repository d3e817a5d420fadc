"""Runs the coverage benchmark (tests/benchmarks/coverage_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_coverage_bench.py -s
    COORDINATION_BENCH_COVERAGE_ARGS="--places 20000 --centres 100" .venv/bin/pytest ...

Timing is never asserted (machines differ); only that both methods ran on the
same data and that where they disagree the geodesic distance sides with ours.
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


def test_coverage_bench(tmp_path: Path) -> None:
    out = tmp_path / "coverage.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_COVERAGE_ARGS", ""))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.coverage_bench", "--json",
                           str(out), *extra], cwd=ROOT, timeout=1200)
    assert proc.returncode == 0
    report = json.loads(out.read_text())
    assert report["places"] > 0 and report["places_scored"] == report["places"]
    assert report["verdicts_equal"], "the verdicts-only pass and the full pass differ"
    assert 0 < report["covered_share"] < 1
    # The baseline is a different method; where it differs from ours (places on a
    # radius's edge), the geodesic distance decides, and it must side with ours.
    assert report["disagreements"] <= report["places"] // 100
    assert report["ours_agree_with_geodesic"] == report["disagreements"]
    # The two baselines compute the same thing by different means.
    assert report["sjoin_equals_loop"] and report["sjoin_s"] > 0
