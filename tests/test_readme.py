"""The README's two commands are the ones that work: CI runs the second verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_readme_starts_with_run_then_test_command():
    run, test = _commands()[:2]
    assert "coordination serve --demo" in run and "pip install -e ." in run
    assert "[test]" in test and "pytest" in test


def test_ci_runs_exactly_the_readme_test_command():
    test = _commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci, "the CI script must run the README's test command verbatim"
