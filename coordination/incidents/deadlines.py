"""Reporting deadlines: versioned rule sets with effective dates, not constants.

The deadline to report an incident to the next level up follows the law in
force when the case was found: the 2003 regulations, the COVID-19 class-A
period, the Public Health Emergency Response Law from 2025-11-01, the 2026
notifiable-disease rules... The rule sets live in
``data/reporting_rules.yaml``; a new law is a new rule set appended there,
and an incident found before it keeps the deadline it had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RULES_FILE = Path(__file__).with_name("data") / "reporting_rules.yaml"


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    hours: float | None = Field(gt=0, le=24 * 30)
    diseases: list[str] = Field(default_factory=list)
    incident_types: list[str] = Field(default_factory=list)
    any: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _matches_something(self) -> RuleIn:
        if not (self.any or self.diseases or self.incident_types):
            raise ValueError(f"rule {self.id}: give diseases, incident_types or any: true")
        return self


class RuleSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    title: str
    title_en: str = ""
    effective_from: date
    effective_until: date | None = None
    rules: list[RuleIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_with_catch_all(self) -> RuleSetIn:
        if not self.rules[-1].any:
            raise ValueError(f"rule set {self.id}: the last rule must have any: true, so every "
                             "incident gets an answer")
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError(f"rule set {self.id}: effective_until must follow effective_from")
        return self


class RulesFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "Asia/Shanghai"
    aliases: dict[str, str] = Field(default_factory=dict)
    rule_sets: list[RuleSetIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_ordered(self) -> RulesFileIn:
        ids = [r.id for rs in self.rule_sets for r in rs.rules] + [rs.id for rs in self.rule_sets]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate ids: {', '.join(dupes)}")
        starts = [rs.effective_from for rs in self.rule_sets]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("rule sets must be listed by effective_from, each on its own date")
        ZoneInfo(self.timezone)
        return self


@dataclass(frozen=True)
class Deadline:
    """The answer with what it was derived from (the board shows the rule)."""

    deadline: datetime | None
    rule_id: str
    rule_set_id: str
    hours: float | None
    note: str


class ReportingRules:
    """The loaded, validated rule sets; ``for_time`` picks the one in force."""

    def __init__(self, data: RulesFileIn) -> None:
        self.data = data
        self.zone = ZoneInfo(data.timezone)
        self.aliases = {k.casefold(): v for k, v in data.aliases.items()}

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> ReportingRules:
        """Read and validate a rules file; ValueError names what is wrong."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        try:
            return cls(RulesFileIn.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{path}: {where}: {first['msg']}") from None

    def _start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.zone)

    def for_time(self, at: datetime) -> RuleSetIn:
        if at.tzinfo is None:
            raise ValueError("found_at must be timezone-aware")
        chosen: RuleSetIn | None = None
        for rs in self.data.rule_sets:
            if self._start(rs.effective_from) <= at:
                chosen = rs
        if chosen is None or (chosen.effective_until is not None
                              and at >= self._start(chosen.effective_until)):
            raise LookupError(f"no reporting rule set is in force at {at.isoformat()}")
        return chosen

    def canonical_disease(self, disease: str | None) -> str | None:
        if disease is None or not disease.strip():
            return None
        key = disease.strip().casefold()
        return self.aliases.get(key, key)

    def deadline(self, *, disease: str | None, incident_type: str | None,
                 found_at: datetime) -> Deadline:
        rule_set = self.for_time(found_at)
        canon = self.canonical_disease(disease)
        kind = (incident_type or "").strip().casefold() or None
        for rule in rule_set.rules:
            if rule.any or (canon is not None and canon in rule.diseases) or (
                    kind is not None and kind in rule.incident_types):
                when = None if rule.hours is None else found_at + timedelta(hours=rule.hours)
                return Deadline(when, rule.id, rule_set.id, rule.hours, rule.note)
        raise AssertionError("unreachable: the last rule matches anything")  # pragma: no cover


@lru_cache(maxsize=1)
def default_rules() -> ReportingRules:
    return ReportingRules.load()


def report_deadline(*, disease: str | None, incident_type: str | None,
                    found_at: datetime) -> tuple[datetime | None, str]:
    """Deadline to report to the higher level, and the id of the rule that set it.

    ``None`` as deadline: the rule set in force requires no such report for
    this kind of incident. Raises LookupError before the first rule set.
    """
    d = default_rules().deadline(disease=disease, incident_type=incident_type, found_at=found_at)
    return d.deadline, d.rule_id


def describe(at: datetime) -> dict[str, Any]:
    """The rule set in force at ``at``, for the CLI and pages."""
    rs = default_rules().for_time(at)
    return {"id": rs.id, "title": rs.title, "title_en": rs.title_en,
            "effective_from": rs.effective_from.isoformat(),
            "rules": [{"id": r.id, "hours": r.hours, "diseases": r.diseases,
                       "incident_types": r.incident_types, "any": r.any} for r in rs.rules]}
