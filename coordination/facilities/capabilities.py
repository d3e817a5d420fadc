"""What care a facility provides, whether it can take a patient now, and who needs which.

The Ordos health plan builds chest-pain, stroke, trauma, critical maternal and
critical neonatal rescue centres (胸痛、卒中、创伤、危重孕产妇、危重新生儿救治中心)
at regional hospitals; a stroke patient taken to the nearest hospital without
a stroke centre loses the treatment window. A facility therefore carries the
services it provides, each with a live ``available`` flag (a CT scanner down,
the cath lab busy, the neonatal ICU full), and a trauma centre its level
(1 is the highest). A patient's condition names the service it needs and the
time window in which the patient must reach it.

Stored on the facility row as JSON (``{"stroke": {"available": true},
"trauma": {"available": true, "level": 1}}``): the map and the recommendation
read it with the row, no join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Capability(StrEnum):
    CHEST_PAIN = "chest_pain"
    STROKE = "stroke"
    TRAUMA = "trauma"
    NEONATAL_ICU = "neonatal_icu"
    MATERNAL_CRITICAL = "maternal_critical"
    BURNS = "burns"
    PAEDIATRICS = "paediatrics"
    DIALYSIS = "dialysis"
    NEGATIVE_PRESSURE = "negative_pressure_isolation"


CAPABILITY_LABELS = {
    Capability.CHEST_PAIN: _l("Chest pain centre (胸痛中心)"),
    Capability.STROKE: _l("Stroke centre (卒中中心)"),
    Capability.TRAUMA: _l("Trauma centre (创伤中心)"),
    Capability.NEONATAL_ICU: _l("Critical neonatal care (危重新生儿救治中心)"),
    Capability.MATERNAL_CRITICAL: _l("Critical maternal care (危重孕产妇救治中心)"),
    Capability.BURNS: _l("Burns unit"),
    Capability.PAEDIATRICS: _l("Paediatrics"),
    Capability.DIALYSIS: _l("Dialysis"),
    Capability.NEGATIVE_PRESSURE: _l("Negative-pressure isolation"),
}

# How layer files and people write them (lower-cased), Chinese and English.
CAPABILITY_ALIASES: dict[str, Capability] = {
    "胸痛": Capability.CHEST_PAIN, "胸痛中心": Capability.CHEST_PAIN,
    "chest pain": Capability.CHEST_PAIN, "chestpain": Capability.CHEST_PAIN,
    "pci": Capability.CHEST_PAIN,
    "卒中": Capability.STROKE, "卒中中心": Capability.STROKE,
    "创伤": Capability.TRAUMA, "创伤中心": Capability.TRAUMA,
    "危重新生儿": Capability.NEONATAL_ICU, "危重新生儿救治中心": Capability.NEONATAL_ICU,
    "新生儿": Capability.NEONATAL_ICU, "nicu": Capability.NEONATAL_ICU,
    "危重孕产妇": Capability.MATERNAL_CRITICAL, "危重孕产妇救治中心": Capability.MATERNAL_CRITICAL,
    "孕产妇": Capability.MATERNAL_CRITICAL, "maternal": Capability.MATERNAL_CRITICAL,
    "烧伤": Capability.BURNS, "儿科": Capability.PAEDIATRICS,
    "pediatrics": Capability.PAEDIATRICS, "血液透析": Capability.DIALYSIS,
    "透析": Capability.DIALYSIS, "负压病房": Capability.NEGATIVE_PRESSURE,
    "负压隔离": Capability.NEGATIVE_PRESSURE, "negative_pressure": Capability.NEGATIVE_PRESSURE,
}
TRAUMA_LEVELS = (1, 2, 3)


class CapabilityState(BaseModel):
    """One service as reported: available now or not, and a trauma centre's level."""

    model_config = ConfigDict(extra="forbid")

    available: bool = True
    level: int | None = Field(default=None, ge=1, le=3)


class CapabilitiesIn(BaseModel):
    """The full set of services a facility provides (a service left out is not provided)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    capabilities: dict[Capability, CapabilityState] = Field(default_factory=dict)
    note: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _level_only_for_trauma(self) -> CapabilitiesIn:
        for cap, state in self.capabilities.items():
            if state.level is not None and cap is not Capability.TRAUMA:
                raise ValueError(f"{cap.value}: only a trauma centre has a level")
        return self

    def stored(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for cap, state in sorted(self.capabilities.items()):
            entry: dict[str, Any] = {"available": state.available}
            if cap is Capability.TRAUMA:
                entry["level"] = state.level or 3
            out[cap.value] = entry
        return out


class CapabilityTextError(ValueError):
    """A capability cell that names no known service (the message names the bad part)."""


def parse_capabilities(text: str) -> CapabilitiesIn:
    """A layer cell such as ``胸痛;卒中;创伤:1`` or ``stroke, trauma:2, dialysis``.

    Parts are separated by ``;`` ``,`` ``、`` ``|`` or whitespace; a trauma part
    may carry its level after ``:`` (or as ``创伤1``/``trauma1``). A trailing ``!``
    or ``-`` marks a service provided but not available now.
    """
    caps: dict[Capability, CapabilityState] = {}
    for raw in re.split(r"[;,，；、|\s]+", text.strip()):
        part = raw.strip()
        if not part:
            continue
        available = not part.endswith(("!", "-"))
        part = part.rstrip("!-").strip()
        level: int | None = None
        m = re.match(r"^(.*?)[:：]?\s*([123])(?:级)?$", part)
        if m and m.group(1):
            part, level = m.group(1), int(m.group(2))
        key = part.lower()
        cap = CAPABILITY_ALIASES.get(key)
        if cap is None:
            try:
                cap = Capability(key)
            except ValueError:
                raise CapabilityTextError(raw) from None
        if level is not None and cap is not Capability.TRAUMA:
            raise CapabilityTextError(raw)
        caps[cap] = CapabilityState(available=available, level=level)
    return CapabilitiesIn(capabilities=caps)


def capability_text(stored: dict[str, Any] | None) -> str:
    """The stored capabilities as a layer cell (the inverse of ``parse_capabilities``)."""
    parts = []
    for key, state in sorted((stored or {}).items()):
        part = key
        if key == Capability.TRAUMA.value and state.get("level"):
            part += f":{state['level']}"
        if not state.get("available", True):
            part += "!"
        parts.append(part)
    return ";".join(parts)


# --- the patient's side ---------------------------------------------------------------------


class Condition(StrEnum):
    STEMI = "stemi"
    STROKE = "stroke"
    MAJOR_TRAUMA = "major_trauma"
    OBSTETRIC = "obstetric_emergency"
    CRITICAL_NEONATE = "critical_neonate"


CONDITION_LABELS = {
    Condition.STEMI: _l("STEMI (ST-elevation myocardial infarction)"),
    Condition.STROKE: _l("Acute stroke"),
    Condition.MAJOR_TRAUMA: _l("Major trauma"),
    Condition.OBSTETRIC: _l("Obstetric emergency"),
    Condition.CRITICAL_NEONATE: _l("Critical neonate"),
}


@dataclass(frozen=True)
class CareNeed:
    """The service a condition needs and the minutes within which the patient must reach it.

    ``window_minutes`` is the part of the treatment window that transport may
    use; ``window_label`` says which clinical window it comes from, so the
    dispatcher sees why the figure is what it is.
    """

    capability: Capability
    window_minutes: int
    window_label: Any
    max_trauma_level: int | None = None


NEEDS: dict[Condition, CareNeed] = {
    # Door-to-balloon 90 min (chest-pain centre accreditation): the ride must fit in it.
    Condition.STEMI: CareNeed(Capability.CHEST_PAIN, 90,
                              _l("first contact to balloon within 90 min")),
    # Door-to-needle 60 min for thrombolysis (卒中中心 standard).
    Condition.STROKE: CareNeed(Capability.STROKE, 60, _l("door to needle within 60 min")),
    # The golden hour; a level 1 or 2 centre.
    Condition.MAJOR_TRAUMA: CareNeed(Capability.TRAUMA, 60, _l("the golden hour (60 min)"),
                                     max_trauma_level=2),
    Condition.OBSTETRIC: CareNeed(Capability.MATERNAL_CRITICAL, 60,
                                  _l("decision to delivery within 60 min")),
    Condition.CRITICAL_NEONATE: CareNeed(Capability.NEONATAL_ICU, 60,
                                         _l("transfer to neonatal ICU within 60 min")),
}

# An incident type that by itself says what the patients need (the dispatcher may override).
TYPE_CONDITIONS = {"mass_casualty": Condition.MAJOR_TRAUMA}


def condition_for(incident_type: str, picked: str | None) -> Condition | None:
    """The dispatcher's pick, else what the incident's type implies, else none."""
    if picked:
        return Condition(picked)
    return TYPE_CONDITIONS.get(incident_type)


def lacks(stored: dict[str, Any] | None, need: CareNeed) -> str | None:
    """Why a facility cannot take this patient (a reason code), or None when it can.

    ``missing``: the service is not provided; ``unavailable``: provided but
    reported unavailable now; ``level``: a trauma centre below the needed level.
    """
    state = (stored or {}).get(need.capability.value)
    if state is None:
        return "missing"
    if not state.get("available", True):
        return "unavailable"
    if need.max_trauma_level is not None and int(state.get("level") or 3) > need.max_trauma_level:
        return "level"
    return None


def labels() -> dict[str, str]:
    return {c.value: str(v) for c, v in CAPABILITY_LABELS.items()}


def condition_labels() -> dict[str, str]:
    return {c.value: str(v) for c, v in CONDITION_LABELS.items()}
