"""The early-warning rules: a versioned YAML file, validated whole, reloaded on change.

The file (``incidents/data/warning_rules.yaml`` unless ``COORDINATION_WARNING_RULES``
names another) is written by people and reviewed like the reporting deadlines,
so an error points at its line (yamlsource). A file that fails validation is
refused whole: the rules loaded before it stay in force, and the refusal is kept
for ``coordination warnings check`` and the log. Each read compares the file's
hash, so an edited file is picked up on the next evaluation without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import yamlsource
from ..geo import boundaries
from ..geo.places import PlaceKind
from ..incidents import diseases
from ..incidents.models import DISEASE_TYPES
from ..plans.schema import SLUG, Text, parse_offset

log = logging.getLogger(__name__)

RULES_FILE = Path(__file__).resolve().parent.parent / "incidents" / "data" / "warning_rules.yaml"
ENV = "COORDINATION_WARNING_RULES"
MAX_WINDOW = timedelta(days=90)
DEFAULT_TYPES = sorted(t.value for t in DISEASE_TYPES)


class RuleKind(StrEnum):
    SINGLE_CASE = "single_case"
    AREA_COUNT = "area_count"
    PLACE_CLUSTER = "place_cluster"


class RuleSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"


class WarningRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=SLUG)]
    kind: RuleKind
    title: Text
    diseases: list[str] = Field(min_length=1)
    incident_types: list[str] = Field(default_factory=lambda: list(DEFAULT_TYPES))
    at_least: Annotated[int, Field(ge=1, le=100_000)] = 1
    window: timedelta | None = None
    areas: list[str] = Field(default_factory=list)
    place_kinds: list[PlaceKind] = Field(default_factory=list)
    within_m: Annotated[float, Field(gt=0, le=50_000)] | None = None
    severity: RuleSeverity = RuleSeverity.HIGH
    plan: Annotated[str, Field(pattern=SLUG)] | None = None

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> timedelta | None:
        return None if value is None else parse_offset(value)

    @field_validator("window")
    @classmethod
    def _window_possible(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and not timedelta(0) < value <= MAX_WINDOW:
            raise ValueError("an impossible window: give a duration above 0 and at most 90 days")
        return value

    @field_validator("diseases")
    @classmethod
    def _known_diseases(cls, value: list[str]) -> list[str]:
        unknown = [d for d in value if d not in diseases.DISEASES]
        if unknown:
            raise ValueError(f"unknown disease {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(diseases.DISEASES))})")
        return value

    @field_validator("incident_types")
    @classmethod
    def _case_types(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in DEFAULT_TYPES]
        if unknown:
            raise ValueError(f"not a case type: {', '.join(unknown)} "
                             f"(cases are {', '.join(DEFAULT_TYPES)})")
        return value

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, value: list[str]) -> list[str]:
        known = boundaries.by_code()
        unknown = [a for a in value if a not in known]
        if unknown:
            raise ValueError(f"unknown area {', '.join(unknown)} (GB/T 2260 codes of the "
                             "shipped boundaries)")
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> WarningRule:
        if self.kind in (RuleKind.AREA_COUNT, RuleKind.PLACE_CLUSTER) and self.window is None:
            raise ValueError(f"a {self.kind.value} rule needs a window")
        if self.kind == RuleKind.PLACE_CLUSTER and (not self.place_kinds or not self.within_m):
            raise ValueError("a place_cluster rule needs place_kinds and within_m")
        if self.kind == RuleKind.SINGLE_CASE and self.at_least != 1:
            raise ValueError("a single_case rule fires on one case; leave at_least out")
        return self


class WarningRuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=SLUG)]
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    effective_from: date
    effective_until: date | None = None
    rules: list[WarningRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> WarningRuleSet:
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError("effective_until must follow effective_from")
        return self


class WarningRulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Asia/Shanghai"
    rule_sets: list[WarningRuleSet] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


def _cross_checks(f: WarningRulesFile) -> list[tuple[yamlsource.FieldPath, str]]:
    """Ids unique across the file; rule sets in date order, each on its own date."""
    out: list[tuple[yamlsource.FieldPath, str]] = []
    seen: set[str] = set()
    for n, rs in enumerate(f.rule_sets):
        if rs.id in seen:
            out.append((("rule_sets", n, "id"), f"duplicate id {rs.id}"))
        seen.add(rs.id)
        if n and rs.effective_from <= f.rule_sets[n - 1].effective_from:
            out.append((("rule_sets", n, "effective_from"),
                        "rule sets must be listed by effective_from, each on its own date"))
        ids: set[str] = set()
        for m, r in enumerate(rs.rules):
            if r.id in ids:
                out.append((("rule_sets", n, "rules", m, "id"), f"duplicate rule id {r.id}"))
            ids.add(r.id)
    return out


@dataclass(frozen=True)
class WarningRules:
    """Loaded rules; ``for_time`` picks the rule set in force."""

    data: WarningRulesFile
    file_hash: str
    path: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.data.timezone)

    def for_time(self, at: datetime) -> WarningRuleSet | None:
        chosen = None
        for rs in self.data.rule_sets:
            start = datetime(rs.effective_from.year, rs.effective_from.month,
                             rs.effective_from.day, tzinfo=self.zone)
            if start <= at:
                chosen = rs
        if chosen is not None and chosen.effective_until is not None:
            end = chosen.effective_until
            if at >= datetime(end.year, end.month, end.day, tzinfo=self.zone):
                return None
        return chosen


def parse(text: str, *, name: str) -> yamlsource.Loaded[WarningRulesFile]:
    return yamlsource.load_model(text, name=name, model=WarningRulesFile,
                                 what="warning-rules", checks=_cross_checks)


def rules_path() -> Path:
    configured = os.environ.get(ENV)
    return Path(configured) if configured else RULES_FILE


@dataclass
class RuleBook:
    """The rules in force, kept across a refused edit of the file."""

    current: WarningRules | None = None
    refused: tuple[yamlsource.SourceError, ...] = ()
    refused_hash: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, path: Path | None = None) -> WarningRules | None:
        """The rules of ``path`` if it is valid, else the ones loaded before it."""
        where = path or rules_path()
        try:
            text = where.read_text(encoding="utf-8")
        except OSError as exc:
            log.error("early-warning rules %s unreadable (%s); previous rules stay", where, exc)
            return self.current
        loaded = parse(text, name=str(where))
        with self.lock:
            if self.current is not None and loaded.file_hash == self.current.file_hash:
                return self.current
            if loaded.file_hash == self.refused_hash:
                return self.current
            if not loaded.ok or loaded.model is None:
                self.refused, self.refused_hash = loaded.errors, loaded.file_hash
                for e in loaded.errors:
                    log.error("early-warning rules refused, previous rules stay: %s", e)
                return self.current
            self.current = WarningRules(loaded.model, loaded.file_hash, str(where))
            self.refused, self.refused_hash = (), None
            return self.current


book = RuleBook()


def in_force() -> WarningRules | None:
    return book.load()
