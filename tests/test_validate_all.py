"""Validators report every problem of a file in one pass: field and cross-reference errors."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from coordination.cli import main
from coordination.drills import loader as drills_loader

ROOT = Path(__file__).resolve().parent.parent
PLAGUE = ROOT / "plans" / "plague-human-case.yaml"
COVID_DRILL = ROOT / "plans" / "drills" / "covid-hotel-cluster.yaml"


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_plan_with_three_kinds_of_error_reports_all_three_in_one_run(tmp_path: Path):
    text = PLAGUE.read_text("utf-8")
    # 1. an impossible offset (field error), 2. a duplicate task id and 3. an unknown
    # owner (both cross-reference errors), in three different tasks.
    text = text.replace("        owner: first_clinic\n        due: 30m\n",
                        "        owner: first_clinic\n        due: -30m\n", 1)
    assert "due: -30m" in text
    text = text.replace("      - id: direct-report\n", "      - id: isolate-at-clinic\n", 1)
    text = text.replace("owner: cdc\n", "owner: cdc_office\n", 1)
    bad = tmp_path / "plague.yaml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["plans", "validate", "--no-catalogue", str(bad)])
    assert result.exit_code == 1
    out = result.output
    name = re.escape(str(bad))
    assert re.search(rf"^{name}:{_line(text, 'due: -30m')}: phases\.0\.tasks\.0\.due: "
                     r"the task is due before activation", out, re.M), out
    assert re.search(rf"^{name}:\d+: phases\.0\.tasks\.1\.id: duplicate task id "
                     r"'isolate-at-clinic'", out, re.M), out
    assert re.search(rf"^{name}:{_line(text, 'owner: cdc_office')}: phases\.\d+\.tasks\.\d+\."
                     r"owner: unknown role 'cdc_office'", out, re.M), out


def test_drill_scenario_reports_field_and_reference_errors_together():
    text = COVID_DRILL.read_text("utf-8")
    text = text.replace('  - number: "1"\n    offset: 1m\n', '  - number: "1"\n    offset: soon\n')
    text = text.replace('  - number: "2"\n', '  - number: "1"\n', 1)
    text = text.replace("critical_task: ct-transfer", "critical_task: ct-teleport", 1)
    loaded = drills_loader.load_text(text, name="covid.yaml")
    fields = {e.field for e in loaded.errors}
    assert loaded.model is None
    assert "injects.0.offset" in fields, loaded.errors
    assert "injects.1.number" in fields, loaded.errors
    assert "injects.0.expected.1.critical_task" in fields, loaded.errors
    for e in loaded.errors:
        assert str(e).startswith(f"covid.yaml:{e.line}: {e.field}: ")


def test_a_step_naming_an_unknown_position_is_refused(tmp_path: Path):
    text = PLAGUE.read_text("utf-8").replace("responsible: crew_leader", "responsible: crewleader",
                                              1)
    bad = tmp_path / "plague.yaml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["plans", "validate", "--no-catalogue", str(bad)])
    assert result.exit_code == 1
    assert re.search(rf":{_line(text, 'responsible: crewleader')}: phases\.\d+\.tasks\.\d+\."
                     r"checklist\.\d+\.responsible: unknown position 'crewleader'", result.output)
