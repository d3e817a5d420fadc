"""The disease catalogue incidents name: ids, labels and what each one demands.

The ids are the ones ``data/reporting_rules.yaml`` (deadlines) speaks of, so a
reporting rule, an incident and a CAP event code all mean the same disease.
What a disease demands of the response lives here, beside its name: whether a
patient must ride in a negative-pressure ambulance (负压救护车), which kind of
bed the destination must have free, and how many days close contacts stay
under medical observation (医学观察). An unknown id is refused, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ..facilities.models import BedKind


@dataclass(frozen=True)
class Disease:
    id: str
    label: LazyString
    negative_pressure: bool
    bed: BedKind
    observation_days: int
    # A confirmed case draws an epidemic point (疫点) around it.
    epidemic_point: bool = False
    # Class A, or class B managed as class A (甲类及按甲类管理): the case is not closed
    # while its diagnosed, isolated or treated clock is empty, unless a reason is given.
    class_a: bool = False


OTHER = "other"

DISEASES: dict[str, Disease] = {d.id: d for d in (
    Disease("fever", _l("Fever of unknown cause (发热待查)"), False, BedKind.ISOLATION_ROOM, 14),
    Disease("plague", _l("Plague (鼠疫)"), True, BedKind.NEGATIVE_PRESSURE_ROOM, 9,
            epidemic_point=True, class_a=True),
    Disease("covid19", _l("COVID-19 (新型冠状病毒感染)"), True,
            BedKind.NEGATIVE_PRESSURE_ROOM, 7),
    Disease("cholera", _l("Cholera (霍乱)"), False, BedKind.ISOLATION_ROOM, 5,
            epidemic_point=True, class_a=True),
    Disease("pneumonic_anthrax", _l("Pneumonic anthrax (肺炭疽)"), True,
            BedKind.NEGATIVE_PRESSURE_ROOM, 12, epidemic_point=True, class_a=True),
    Disease("sars", _l("SARS (传染性非典型肺炎)"), True, BedKind.NEGATIVE_PRESSURE_ROOM, 14,
            class_a=True),
    Disease("hpai", _l("Human avian influenza (人感染高致病性禽流感)"), True,
            BedKind.NEGATIVE_PRESSURE_ROOM, 10, class_a=True),
    Disease("influenza", _l("Influenza (流行性感冒)"), False, BedKind.ISOLATION_ROOM, 7),
    Disease("measles", _l("Measles (麻疹)"), True, BedKind.NEGATIVE_PRESSURE_ROOM, 21),
    Disease("unexplained", _l("Unexplained disease (不明原因疾病)"), True,
            BedKind.NEGATIVE_PRESSURE_ROOM, 14),
    Disease("new_disease", _l("New infectious disease (新发传染病)"), True,
            BedKind.NEGATIVE_PRESSURE_ROOM, 14),
    Disease(OTHER, _l("Other named disease"), False, BedKind.ISOLATION_ROOM, 14),
)}


def get(disease_id: str | None) -> Disease | None:
    return DISEASES.get(disease_id) if disease_id else None


def needs_negative_pressure(disease_id: str | None, configured: frozenset[str] | None) -> bool:
    """Configured list wins (COORDINATION_NEGATIVE_PRESSURE_DISEASES), else the catalogue."""
    if not disease_id:
        return False
    if configured is not None:
        return disease_id in configured
    found = DISEASES.get(disease_id)
    return bool(found and found.negative_pressure)


def is_class_a(disease_id: str | None) -> bool:
    found = get(disease_id)
    return bool(found and found.class_a)


def labels() -> dict[str, str]:
    return {k: str(d.label) for k, d in DISEASES.items()}
