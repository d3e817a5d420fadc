"""What a CAP alert means as an incident: its disease, its kind and its priority.

Senders name diseases in many ways: an ``eventCode`` (value name ``disease``,
or an ICD-10 code, which several health profiles use), a ``parameter``, or only
the ``<event>`` text, in Chinese or English ("疑似鼠疫病例", "Suspected plague
case", "COVID-19 cluster"). The event text is searched for every name the
catalogue and the reporting rules know (ids, zh and English labels, aliases)
as a substring; the longest name found wins, so 人感染高致病性禽流感 is avian
influenza and not 流感. The catalogue's ``other`` is never matched from text:
``<event>Other</event>`` is an unnamed disease, not the id ``other``.

The kind comes from the words around it (疑似/suspected, 确诊/confirmed,
聚集/cluster/outbreak), the priority from the CAP severity × urgency grid. An
alert that names no known disease is still an incident, flagged for an
operator to classify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import deadlines, diseases
from .cap import CapInfo
from .models import IncidentType, Priority

# ICD-10 three-character categories (and the WHO emergency codes) of the
# catalogue's diseases; a code is matched on its category, "A20.9" → A20.
ICD10 = {
    "A20": "plague", "A00": "cholera", "A22": "pneumonic_anthrax", "U04": "sars",
    "U07": "covid19", "J09": "hpai", "J10": "influenza", "J11": "influenza",
    "B05": "measles", "R50": "fever",
}
_ICD_NAMES = {"icd10", "icd-10", "icd"}
# Value names that carry a catalogue id, alias or name.
_DISEASE_NAMES = {"disease", "disease_id", "diseasecode", "疾病", "病种"}
# English names a sender writes that neither the labels nor the aliases spell.
_EXTRA_NAMES = {
    "plague": "plague", "pneumonic plague": "plague", "bubonic plague": "plague",
    "cholera": "cholera", "pulmonary anthrax": "pneumonic_anthrax",
    "inhalation anthrax": "pneumonic_anthrax", "sars-cov-2": "covid19",
    "coronavirus disease": "covid19", "avian influenza": "hpai", "bird flu": "hpai",
    "h5n1": "hpai", "h7n9": "hpai", "flu": "influenza", "measles": "measles",
    "unexplained": "unexplained", "新冠": "covid19", "禽流感": "hpai", "流感": "influenza",
    "甲流": "influenza", "麻疹": "measles", "发热待查": "fever", "不明原因": "unexplained",
}
_CLUSTER = ("聚集", "暴发", "爆发", "cluster", "outbreak")
_CONFIRMED = ("确诊", "confirmed")
_SUSPECTED = ("疑似", "suspected", "suspect", "possible", "probable")
_FOOD = ("食物中毒", "food poisoning", "foodborne")

# CAP severity × urgency → priority (1 critical … 4 low): the sum of the two ranks.
_SEVERITY_RANK = {"Extreme": 0, "Severe": 1, "Moderate": 2, "Minor": 3, "Unknown": 2}
_URGENCY_RANK = {"Immediate": 0, "Expected": 1, "Future": 2, "Past": 3, "Unknown": 1}


@dataclass(frozen=True)
class Meaning:
    type: IncidentType
    disease: str | None
    priority: Priority
    # True: no known disease in the alert; an operator must classify it.
    unclassified: bool
    matched: str  # where the disease came from: eventCode, parameter, event, or ""


@lru_cache(maxsize=1)
def _names() -> list[tuple[str, str]]:
    """Every (name, disease id) the text search knows, longest name first."""
    rules = deadlines.default_rules()
    found: dict[str, str] = {}
    for d in diseases.DISEASES.values():
        if d.id == diseases.OTHER:
            continue
        found[d.id.replace("_", " ")] = d.id
        label = d.label._args[0] if getattr(d.label, "_args", None) else str(d.label)
        english, _sep, rest = str(label).partition(" (")
        found[english.casefold()] = d.id
        if rest:
            found[rest.rstrip(")").casefold()] = d.id
    for alias, target in rules.aliases.items():
        if target in diseases.DISEASES and target != diseases.OTHER and alias != "unknown":
            found[alias.casefold()] = target
    for name, target in _EXTRA_NAMES.items():
        found.setdefault(name, target)
    return sorted(found.items(), key=lambda kv: -len(kv[0]))


def _whole(name: str) -> re.Pattern[str]:
    """ASCII names match on word boundaries (``flu`` not in ``fluid``); Chinese as is."""
    if name.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])")
    return re.compile(re.escape(name))


def disease_in_text(text: str) -> str | None:
    """The catalogue disease a free text names, longest name first; None if none."""
    folded = text.casefold()
    for name, disease in _names():
        if _whole(name).search(folded):
            return disease
    return None


def _from_code(name: str, value: str) -> str | None:
    key = name.strip().casefold()
    if key in _ICD_NAMES:
        return ICD10.get(value.strip().upper().split(".")[0][:3])
    if key in _DISEASE_NAMES:
        canon = deadlines.default_rules().canonical_disease(value)
        if canon in diseases.DISEASES and canon != diseases.OTHER:
            return canon
        return disease_in_text(value)
    return None


def disease_of(info: CapInfo) -> tuple[str | None, str]:
    """The disease and where it was found: eventCode, then parameter, then the event text."""
    for where, pairs in (("eventCode", info.event_codes), ("parameter", info.parameters)):
        for name, value in pairs.items():
            found = _from_code(name, value)
            if found:
                return found, where
    found = disease_in_text(info.event)
    return (found, "event") if found else (None, "")


def _kind_in_text(text: str) -> IncidentType | None:
    folded = text.casefold()
    for words, kind in ((_CLUSTER, IncidentType.CLUSTER), (_CONFIRMED, IncidentType.CONFIRMED_CASE),
                        (_SUSPECTED, IncidentType.SUSPECTED_CASE),
                        (_FOOD, IncidentType.FOOD_POISONING)):
        if any(w in folded for w in words):
            return kind
    return None


def priority_of(info: CapInfo) -> Priority:
    """Severe + Immediate (a suspected plague case) is critical; Minor + Past is low."""
    rank = _SEVERITY_RANK.get(info.severity, 2) + _URGENCY_RANK.get(info.urgency, 1)
    return Priority(min(max(rank, 1), 4))


def meaning(info: CapInfo) -> Meaning:
    """Kind, disease and priority of the alert's chosen info."""
    disease, where = disease_of(info)
    given = info.event_codes.get("incident_type") or info.parameters.get("incident_type")
    kind = None
    if given:
        try:
            kind = IncidentType(given)
        except ValueError:
            kind = None
    kind = kind or _kind_in_text(info.event) or _kind_in_text(info.headline)
    if kind is None and disease is not None:
        kind = (IncidentType.CONFIRMED_CASE if info.certainty == "Observed"
                else IncidentType.SUSPECTED_CASE)
    if kind is None or (disease is None and kind in (
            IncidentType.SUSPECTED_CASE, IncidentType.CONFIRMED_CASE, IncidentType.CLUSTER)):
        kind = IncidentType.OTHER
    unclassified = disease is None and kind == IncidentType.OTHER
    return Meaning(type=kind, disease=disease, priority=priority_of(info),
                   unclassified=unclassified, matched=where)
