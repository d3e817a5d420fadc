"""Reporting deadlines follow the rule set in force when the case was found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from coordination.incidents import deadlines
from coordination.incidents.deadlines import ReportingRules, report_deadline

CST = timezone(timedelta(hours=8))


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=CST)


@pytest.mark.parametrize("disease", ["plague", "cholera", "鼠疫", "霍乱", "pneumonic_anthrax",
                                     "SARS"])
def test_class_a_and_class_a_managed_are_two_hours(disease):
    found = at(2026, 3, 1)
    deadline, rule = report_deadline(disease=disease, incident_type="suspected_case",
                                     found_at=found)
    assert deadline == found + timedelta(hours=2)
    assert rule == "notifiable-2026.class-a"


def test_other_notifiable_diseases_are_24_hours_in_2026():
    found = at(2026, 3, 1)
    assert report_deadline(disease="brucellosis", incident_type="confirmed_case",
                           found_at=found) == (found + timedelta(hours=24),
                                               "notifiable-2026.other-notifiable")


@pytest.mark.parametrize("kw", [
    {"disease": None, "incident_type": "cluster"},
    {"disease": "unexplained", "incident_type": "suspected_case"},
    {"disease": "不明原因疾病", "incident_type": "other"},
    {"disease": "new_disease", "incident_type": "confirmed_case"},
])
def test_outbreaks_new_and_unexplained_diseases_are_two_hours(kw):
    found = at(2026, 5, 1)
    deadline, rule = report_deadline(found_at=found, **kw)
    assert deadline == found + timedelta(hours=2)
    assert rule == "notifiable-2026.new-unexplained-outbreak"


def test_covid19_deadline_depends_on_when_it_was_found():
    assert report_deadline(disease="COVID-19", incident_type="confirmed_case",
                           found_at=at(2020, 6, 1))[1] == "covid-class-a-2020.class-a"
    assert report_deadline(disease="新冠肺炎", incident_type="confirmed_case",
                           found_at=at(2023, 6, 1)) == (
        at(2023, 6, 2), "covid-class-b-2023.other-notifiable")


def test_the_2025_law_starts_at_midnight_china_time():
    before = datetime(2025, 10, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Beijing
    after = datetime(2025, 10, 31, 16, 0, 0, tzinfo=UTC)
    kw = {"disease": None, "incident_type": "food_poisoning"}
    assert report_deadline(found_at=before, **kw)[1] == "covid-class-b-2023.other-notifiable"
    assert report_deadline(found_at=after, **kw) == (after + timedelta(hours=2),
                                                     "phe-law-2025.emergency")


def test_no_report_needed_for_an_event_medical_call():
    assert report_deadline(disease=None, incident_type="event_medical",
                           found_at=at(2026, 7, 1)) == (None, "notifiable-2026.not-required")


def test_naive_and_too_early_times_are_refused():
    with pytest.raises(ValueError):
        report_deadline(disease="plague", incident_type="x", found_at=datetime(2026, 1, 1))
    with pytest.raises(LookupError):
        report_deadline(disease="plague", incident_type="x", found_at=at(1999, 1, 1))


def test_shipped_file_validates_and_describe_names_the_rule_set():
    ReportingRules.load()
    assert deadlines.describe(at(2026, 1, 2))["id"] == "notifiable-2026"


def _write(tmp_path, text):
    p = tmp_path / "rules.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_rule_set_must_end_with_a_catch_all(tmp_path):
    p = _write(tmp_path, """
rule_sets:
  - id: a
    title: A
    effective_from: 2026-01-01
    rules:
      - {id: a.1, hours: 2, diseases: [plague]}
""")
    with pytest.raises(ValueError, match="any: true"):
        ReportingRules.load(p)


def test_rule_sets_must_be_in_date_order(tmp_path):
    p = _write(tmp_path, """
rule_sets:
  - id: b
    title: B
    effective_from: 2026-01-01
    rules: [{id: b.1, hours: 24, any: true}]
  - id: a
    title: A
    effective_from: 2025-01-01
    rules: [{id: a.1, hours: 24, any: true}]
""")
    with pytest.raises(ValueError, match="effective_from"):
        ReportingRules.load(p)


def test_a_new_rule_set_changes_only_later_incidents(tmp_path):
    p = _write(tmp_path, """
rule_sets:
  - id: old
    title: Old
    effective_from: 2020-01-01
    rules: [{id: old.all, hours: 12, any: true}]
  - id: new
    title: New
    effective_from: 2026-06-01
    effective_until: 2027-01-01
    rules: [{id: new.plague, hours: 1, diseases: [plague]}, {id: new.all, hours: 6, any: true}]
""")
    rules = ReportingRules.load(p)
    assert rules.deadline(disease="plague", incident_type=None,
                          found_at=at(2026, 5, 31)).rule_id == "old.all"
    d = rules.deadline(disease="plague", incident_type=None, found_at=at(2026, 6, 1))
    assert (d.rule_id, d.hours) == ("new.plague", 1)
    with pytest.raises(LookupError):
        rules.deadline(disease="plague", incident_type=None, found_at=at(2027, 1, 2))


def test_cli_show_and_check(tmp_path):
    from click.testing import CliRunner

    from coordination.cli import main

    runner = CliRunner()
    shown = runner.invoke(main, ["deadlines", "show", "--at", "2025-12-01T08:00:00+08:00"])
    assert shown.exit_code == 0 and '"id": "phe-law-2025"' in shown.output
    naive = runner.invoke(main, ["deadlines", "show", "--at", "2025-12-01T08:00:00"])
    assert naive.exit_code == 1
    assert runner.invoke(main, ["deadlines", "check"]).output.startswith("OK: 5 rule sets")
    bad = _write(tmp_path, "rule_sets: []\n")
    result = runner.invoke(main, ["deadlines", "check", str(bad)])
    assert result.exit_code == 1 and "rule_sets" in result.output
