"""Demo position holders: a named person on shift for every checklist step of every
shipped plan, so activations and printed plans show people, not posts, and the demo's
readiness table shows only the gaps the demo means to show (the roster's own).

Kept apart from the demo roster (``roster/demo.py``) so the demo set's owner can call
``load_position_demo`` wherever it loads the rosters; it adds the two agencies the plague
plan needs and the roster does not keep (health commission, fever clinic), with a
liaison rotation each, then two officers per position taking 12-hour shifts in turn.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..contexts import LIVE
from ..demo.names import person_en
from ..events import Actor
from ..extensions import db
from . import manage, positions
from .demo import GIVEN, SURNAMES, TZ
from .models import Agency

EXTRA_AGENCIES = [
    ("health_commission", "市卫生健康委员会应急办", "Municipal health commission emergency office",
     "0474-8222100"),
    ("fever_clinic", "集宁区医院发热门诊", "Jining district hospital fever clinic", "0474-8222101"),
]


def _wanted() -> list[tuple[str, str]]:
    """Every (agency, position) a shipped plan's steps name, each once, in plan order."""
    from ..plans import registry, responsible

    found: dict[tuple[str, str], None] = {}
    for _pid, loaded in sorted(registry.plan_set(context=LIVE).plans.items()):
        if loaded.plan is not None:
            found.update(dict.fromkeys(responsible.wanted(loaded.plan)))
    return list(found)


def load_position_demo(actor: Actor) -> int:
    """Fill every position the shipped plans name; returns the positions filled (0 when
    the roster already keeps positions, or the plan or the roster is missing)."""
    wanted = _wanted()
    with db.reading() as s:
        if s.scalar(select(positions.PositionShift.id).limit(1)) is not None:
            return 0
        known = set(s.scalars(select(Agency.code).where(Agency.context == LIVE)))
    if not wanted or not known:
        return 0
    start = datetime.now(TZ).date() - timedelta(days=1)
    for code, zh, en, phone in EXTRA_AGENCIES:
        if code in known:
            continue
        manage.save_agency(context=LIVE, actor=actor,
                           data={"code": code, "name_zh": zh, "name_en": en, "phone": phone})
        liaisons = [manage.save_officer(context=LIVE, actor=actor, data={
            "agency_code": code, "name": SURNAMES[-1 - k - len(known)] + GIVEN[k],
            "name_en": person_en(SURNAMES[-1 - k - len(known)] + GIVEN[k]),
            "phone": f"1390475{len(known):02d}{k:02d}", "languages": ["zh"]})["id"]
            for k in range(2)]
        manage.save_rotation(context=LIVE, actor=actor, data={
            "agency_code": code, "name": f"{zh} 主班 ({en}, primary)", "layer": "primary",
            "kind": "daily",
            "handover": "08:00", "start_date": start.isoformat(), "officer_ids": liaisons})
        known.add(code)
    filled = 0
    for n, (code, position) in enumerate(wanted):
        if code not in known:
            continue
        names = [SURNAMES[(n * 2 + k + 7) % len(SURNAMES)] + GIVEN[(n + k * 5) % len(GIVEN)]
                 + GIVEN[(n * 3 + k) % len(GIVEN)] for k in range(2)]
        people = [manage.save_officer(context=LIVE, actor=actor, data={
            "agency_code": code, "name": name, "name_en": person_en(name),
            "phone": f"1380474{n:02d}{k:02d}", "agency_role": position,
            "languages": ["zh"], "may_be_primary": False})["id"] for k, name in enumerate(names)]
        positions.save_position_shift(context=LIVE, actor=actor, data={
            "agency_code": code, "position": position, "kind": "custom", "shift_hours": 12,
            "handover": "08:00", "start_date": start.isoformat(), "officer_ids": people})
        filled += 1
    return filled
