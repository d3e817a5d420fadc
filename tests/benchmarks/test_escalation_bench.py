"""Runs the escalation benchmark (tests/benchmarks/escalation_bench.py) and prints its figures.

    .venv/bin/pytest tests/benchmarks/test_escalation_bench.py -s
    COORDINATION_BENCH_ESCALATION_ARGS="--database-url postgresql+psycopg://postgres@127.0.0.1/postgres"

Timing is never asserted (machines differ); exactness is: every due task escalated,
none twice, none that was not due.
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


def test_escalation_bench(tmp_path: Path) -> None:
    out = tmp_path / "escalation.json"
    extra = shlex.split(os.environ.get("COORDINATION_BENCH_ESCALATION_ARGS", ""))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.escalation_bench", "--json",
                           str(out), *extra], cwd=ROOT, timeout=1800)
    assert proc.returncode == 0
    for result in json.loads(out.read_text()):
        assert result["escalated"] == result["due"]
        assert result["twice"] == 0 and result["fired_not_due"] == 0 and result["early"] == 0
