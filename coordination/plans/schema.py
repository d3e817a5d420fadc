"""The contingency-plan schema (应急预案): what a file in ``plans/`` must say.

A plan is reviewed like code, so the schema is strict (unknown keys are errors:
a typo must not silently drop a task) and every cross-reference inside one file
(a task's owner role, a level a task applies to) is checked here. Checks that
need the database (stock item codes) live in the loader.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

SLUG = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
ITEM_CODE = r"^[A-Z0-9][A-Z0-9_.-]{0,39}$"
_OFFSET = re.compile(r"^\s*(-)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


class Level(StrEnum):
    """Response levels Ⅰ–Ⅳ; Ⅰ is the most serious (特别重大)."""

    I = "I"  # noqa: E741 - the plans' own numbering
    II = "II"
    III = "III"
    IV = "IV"


LEVEL_ORDER = {Level.IV: 1, Level.III: 2, Level.II: 3, Level.I: 4}
LEVEL_NAMES = {
    Level.I: ("特别重大", "particularly serious"),
    Level.II: ("重大", "serious"),
    Level.III: ("较大", "relatively serious"),
    Level.IV: ("一般", "ordinary"),
}


class PPE(StrEnum):
    """Protective requirement per step, as Chinese infection-control practice grades it."""

    NONE = "none"
    STANDARD = "standard"  # 标准预防
    LEVEL1 = "level1"  # 一级防护
    LEVEL2 = "level2"  # 二级防护
    LEVEL3 = "level3"  # 三级防护


class UnitType(StrEnum):
    """Unit kinds a plan can require; matched against coordination.units."""

    AMBULANCE = "ambulance"
    NEGATIVE_PRESSURE_AMBULANCE = "negative_pressure_ambulance"


# Agencies a role can name; the liaison roster keeps the officers of each.
AGENCIES = frozenset({
    "health_commission", "cdc", "disinfection", "food_testing", "food_hygiene", "ems",
    "designated_hospital", "hospital", "fever_clinic", "township_health_centre",
    "railway", "civil_aviation", "customs", "army", "public_security", "transport",
    "market_regulation", "education", "publicity", "emergency_management", "fire_rescue",
    "blood_centre", "cadre_healthcare", "event_organiser", "community", "patriotic_health",
})


def parse_offset(value: Any) -> timedelta:
    """An offset from activation: minutes as a number, or text like ``2h``, ``1d 6h``, ``30m``.

    Negative offsets parse (so the error can say "before activation" rather than
    "not understood"); the model refuses them.
    """
    if isinstance(value, bool):
        raise ValueError("an offset is a duration like 30m, 2h or 1d")
    if isinstance(value, int | float):
        return timedelta(minutes=value)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        m = _OFFSET.match(value)
        if m and any(m.group(i) for i in (2, 3, 4)):
            sign = -1 if m.group(1) else 1
            days, hours, minutes = (int(m.group(i) or 0) for i in (2, 3, 4))
            return sign * timedelta(days=days, hours=hours, minutes=minutes)
        if value.startswith(("P", "-P")):  # ISO 8601, as a stored snapshot holds it
            return TypeAdapter(timedelta).validate_python(value)
    raise ValueError("an offset is a duration like 30m, 2h or 1d")


def format_offset(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return "".join(parts) or "0m"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A string in both UI languages; neither may be empty."""

    zh: str = Field(min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)

    def pick(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


class Hazards(Strict):
    diseases: list[str] = Field(default_factory=list)
    incident_types: list[str] = Field(default_factory=list)
    event_kinds: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Hazards:
        if not (self.diseases or self.incident_types or self.event_kinds):
            raise ValueError("name at least one disease, incident type or event kind")
        return self


class LevelTrigger(Strict):
    """The part of a level's criteria a machine can count, for the early warning.

    At least ``cases`` cases of the plan's diseases (``confirmed``: laboratory-
    confirmed only) in one county-level area within ``within``. The early
    warning suggests the most serious level whose trigger the counted cases
    meet; the criteria text stays what people read and decide by.
    """

    cases: Annotated[int, Field(ge=1, le=100_000)]
    within: timedelta
    confirmed: bool = False

    @field_validator("within", mode="before")
    @classmethod
    def _within(cls, value: Any) -> timedelta:
        return parse_offset(value)

    @field_validator("within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0) or value > timedelta(days=366):
            raise ValueError("the window is a duration between 1 minute and 366 days")
        return value


class LevelDef(Strict):
    name: Text | None = None
    criteria: list[Text]
    trigger: LevelTrigger | None = None

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, value: list[Text]) -> list[Text]:
        if not value:
            raise ValueError("a level needs at least one criterion")
        return value


class Role(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    agency: str
    title: Text
    duties: Text | None = None

    @field_validator("agency")
    @classmethod
    def _agency(cls, value: str) -> str:
        if value not in AGENCIES:
            raise ValueError(f"unknown agency {value!r} (known: {', '.join(sorted(AGENCIES))})")
        return value


class Equipment(Strict):
    """A piece of equipment a step needs; ``item`` ties it to a stock catalogue code."""

    name: Text
    item: Annotated[str | None, Field(pattern=ITEM_CODE)] = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1


class Step(Strict):
    """One checklist step: every step, piece of equipment and protection has a person."""

    text: Text
    equipment: list[Equipment] = Field(default_factory=list)
    ppe: PPE = PPE.NONE
    responsible: Annotated[str, Field(min_length=1, max_length=80)]


class Task(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    title: Text
    details: Text | None = None
    owner: str
    due: timedelta
    ack: timedelta
    levels: list[Level] | None = None
    checklist: list[Step] = Field(default_factory=list)

    @field_validator("due", "ack", mode="before")
    @classmethod
    def _offset(cls, value: Any) -> timedelta:
        return parse_offset(value)

    @field_validator("due")
    @classmethod
    def _due(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("the task is due before activation; offsets start at 0")
        return value

    @field_validator("ack")
    @classmethod
    def _ack(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("the acknowledgement deadline is before activation")
        return value

    @model_validator(mode="after")
    def _ack_before_due(self) -> Task:
        if self.ack > self.due:
            raise ValueError("the acknowledgement deadline is after the task is due")
        return self


class Phase(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    title: Text
    tasks: list[Task] = Field(min_length=1)


class ItemNeed(Strict):
    item: Annotated[str, Field(pattern=ITEM_CODE)]
    quantity: Annotated[int, Field(ge=1, le=100_000_000)]


class UnitNeed(Strict):
    type: UnitType
    count: Annotated[int, Field(ge=1, le=10_000)]


class Resources(Strict):
    items: list[ItemNeed] = Field(default_factory=list)
    units: list[UnitNeed] = Field(default_factory=list)
    isolation_rooms: Annotated[int, Field(ge=0, le=100_000)] = 0


class StandDown(Strict):
    criteria: list[Text] = Field(min_length=1)


class Reporting(Strict):
    """How often a progress report (进程报告) goes upward while the plan is active, per level.

    The initial report follows the reporting deadline and the final report the stand-down;
    a level not named here has no schedule (progress reports are then drafted on demand).
    """

    progress_every: dict[Level, timedelta] = Field(default_factory=dict)

    @field_validator("progress_every", mode="before")
    @classmethod
    def _offsets(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: parse_offset(v) for k, v in value.items()}
        return value

    @field_validator("progress_every")
    @classmethod
    def _positive(cls, value: dict[Level, timedelta]) -> dict[Level, timedelta]:
        for level, every in value.items():
            if every < timedelta(minutes=10):
                raise ValueError(f"level {level.value}: a progress report at most every 10 "
                                 "minutes")
        return value


class Plan(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    title: Text
    summary: Text
    hazards: Hazards
    levels: dict[Level, LevelDef] = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    resources: dict[Level, Resources] = Field(default_factory=dict)
    notify: list[str] = Field(default_factory=list)
    stand_down: StandDown
    reporting: Reporting = Field(default_factory=Reporting)
    sources: list[str] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    def role(self, role_id: str) -> Role:
        return next(r for r in self.roles if r.id == role_id)

    def tasks(self) -> list[tuple[Phase, Task]]:
        return [(p, t) for p in self.phases for t in p.tasks]

    def task_levels(self, task: Task) -> list[Level]:
        return list(task.levels) if task.levels is not None else list(self.levels)

    def tasks_for(self, level: Level) -> list[tuple[Phase, Task]]:
        """The tasks a plan activated at ``level`` must have, in plan order."""
        return [(p, t) for p, t in self.tasks() if level in self.task_levels(t)]

    def progress_every(self, level: Level) -> timedelta | None:
        """The progress-report interval at ``level``, or None (on demand only)."""
        return self.reporting.progress_every.get(level)

    def resources_for(self, level: Level) -> Resources:
        return self.resources.get(level) or Resources()
