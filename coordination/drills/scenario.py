"""The drill scenario file: objectives, starting state and the master scenario events list.

The shape follows the exercise methodology emergency planners already use
(HSEEP): every inject has a number, a scenario time, a delivery method, who it
comes from (simulated or a real controller), the intended player, the message,
the expected player actions with target times, the objective and capability it
tests, the responsible controller, evaluator notes and contingency injects for
when players do not act as expected. Expected actions are matched against the
event log of the run, so "dispatch a negative-pressure ambulance within 5 min"
is measured, not ticked by hand.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$")
_CLOCK = re.compile(r"^\s*(\d+):(\d{2})(?::(\d{2}))?\s*$")


def parse_duration(value: Any) -> timedelta:
    """``5m``, ``1h30m``, ``90s``, ``01:30`` (h:mm), ``01:30:00`` or seconds as a number."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration such as 5m, 1h30m, 90s or 01:30:00 is needed")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().lower()
        m = _CLOCK.match(text)
        if m:
            return timedelta(hours=int(m[1]), minutes=int(m[2]), seconds=int(m[3] or 0))
        m = _DURATION.match(text)
        if text and m and any(m.groups()):
            h, mi, s = (int(g or 0) for g in m.groups())
            return timedelta(hours=h, minutes=mi, seconds=s)
    raise ValueError(f"{value!r} is not a duration such as 5m, 1h30m, 90s or 01:30:00")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    # Durations are stored as seconds in the run's copy of the scenario.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_timedelta="float")


class Text(Strict):
    """Every line a player or trainer reads exists in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


class InjectType(StrEnum):
    INCIDENT_REPORTED = "incident_reported"
    CASE_CONFIRMED = "case_confirmed"
    UNIT_BREAKDOWN = "unit_breakdown"
    FACILITY_FULL = "facility_full"
    STOCK_LOST = "stock_lost"
    DELIVERY_LATE = "delivery_late"
    LIAISON_UNREACHABLE = "liaison_unreachable"
    MESSAGE = "message"


class Delivery(StrEnum):
    SYSTEM = "system"
    PHONE = "phone"
    RADIO = "radio"
    EMAIL = "email"
    SMS = "sms"
    IN_PERSON = "in_person"


class Source(StrEnum):
    SIMULATED = "simulated"
    REAL = "real"


class Capability(StrEnum):
    """Improvement-plan capability elements (HSEEP POETE)."""

    PLANNING = "planning"
    ORGANISATION = "organisation"
    EQUIPMENT = "equipment"
    TRAINING = "training"
    EXERCISE = "exercise"


class Rating(StrEnum):
    """P/S/M/U: performed without challenges, with some, with major, unable."""

    P = "P"
    S = "S"
    M = "M"
    U = "U"


class Objective(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: Text
    capability: str = Field(min_length=1, description="e.g. 'Public health surveillance'")


class CountedFrom(StrEnum):
    """Where an expected action's clock starts."""

    INJECT = "inject"  # only what the player does after the inject fired counts
    START = "start"  # anything since the run started counts; before the inject is "early"


class ExpectedAction(Strict):
    """What a player should do after the inject, recognised by an event in the run's log."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: Text
    event: str = Field(min_length=1, description="the event type that proves it, e.g. "
                                                 "incident.unit_dispatched")
    where: dict[str, Any] = Field(default_factory=dict,
                                  description="payload fields the event must carry "
                                              "(dotted keys), e.g. {unit.negative_pressure: true}")
    within: Duration
    player: str = Field(min_length=1, description="agency code or role expected to act")
    critical_task: str | None = None
    counted_from: CountedFrom = Field(
        default=CountedFrom.INJECT,
        description="inject: count from the inject; start: from the start of the run, so an "
                    "action taken before the inject is achieved early")


class From(Strict):
    source: Source = Source.SIMULATED
    name: str = Field(min_length=1)


class Inject(Strict):
    number: str = Field(min_length=1, max_length=20)
    offset: Duration
    type: InjectType
    delivery: Delivery = Delivery.SYSTEM
    sender: From = Field(alias="from")
    to: str = Field(min_length=1, description="the intended player: agency code or role")
    message: Text
    payload: dict[str, Any] = Field(default_factory=dict)
    objective: str | None = None
    capability: str | None = None
    controller: str = Field(min_length=1)
    evaluator_notes: str = ""
    expected: list[ExpectedAction] = Field(default_factory=list)
    contingency: list[Contingency] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              ser_json_timedelta="float")


class Contingency(Strict):
    """An inject kept in reserve, fired when an expected action misses its target."""

    number: str = Field(min_length=1, max_length=20)
    when_missed: str = Field(min_length=1, description="id of the expected action")
    type: InjectType
    delivery: Delivery = Delivery.SYSTEM
    to: str = Field(min_length=1)
    message: Text
    payload: dict[str, Any] = Field(default_factory=dict)


class CriticalTask(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: Text
    objective: str
    capability: str = Field(min_length=1)


class Participant(Strict):
    agency: str = Field(min_length=1)
    role: Text


class UnitState(Strict):
    call_sign: str
    status: str | None = None
    lon: float | None = None
    lat: float | None = None


class FacilityState(Strict):
    code: str
    status: str = "open"
    occupied: dict[str, int] = Field(default_factory=dict)


class StockState(Strict):
    depot: str
    item: str
    quantity: int = Field(ge=0)


class StartingState(Strict):
    """Where the drill starts: a copy of live reference data, then these overrides."""

    seed: str = Field(default="live", pattern="^(live|empty)$")
    clock: datetime | None = Field(default=None, description="scenario start time; now if unset")
    units: list[UnitState] = Field(default_factory=list)
    facilities: list[FacilityState] = Field(default_factory=list)
    stock: list[StockState] = Field(default_factory=list)


class Scenario(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: str = Field(min_length=1)
    title: Text
    summary: Text
    plans: list[str] = Field(default_factory=list)
    objectives: list[Objective] = Field(min_length=1)
    critical_tasks: list[CriticalTask] = Field(default_factory=list)
    participants: list[Participant] = Field(min_length=1)
    start: StartingState = Field(default_factory=StartingState)
    injects: list[Inject] = Field(min_length=1)

    def inject(self, number: str) -> Inject | None:
        return next((i for i in self.injects if i.number == number), None)

    @property
    def duration(self) -> timedelta:
        """Scenario time of the last expected action's deadline: when the drill can end."""
        ends = [i.offset + max((a.within for a in i.expected), default=timedelta())
                for i in self.injects]
        return max(ends)


Inject.model_rebuild()
