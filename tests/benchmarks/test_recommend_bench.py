"""Runs the recommendation benchmark (tests/benchmarks/recommend_bench.py) and prints it.

    .venv/bin/pytest tests/benchmarks/test_recommend_bench.py -s

Timing is never asserted (machines differ); only that both methods ran on the
same candidates and gave the same answers: the vectorised ranking and the naive
loop rank every incident alike, and the whole service call recommends the units the
naive loop over the same reads picks.
"""

from __future__ import annotations

import pytest

from .recommend_bench import _print, run

pytestmark = pytest.mark.slow


def test_recommend_bench() -> None:
    result = run(units=5000, queries=200, database_url=None)
    _print(result)
    assert result["candidates"] > 0 and result["incidents_compared"] > 0
    assert result["rankings_differ"] == 0
    assert result["recommendations_differ"] == 0
