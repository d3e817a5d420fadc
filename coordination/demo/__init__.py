"""The demo set: Ulanqab (乌兰察布), its banners and counties, one account per role.

Kept in one place so later domains extend it here. Loading is idempotent: a
second run adds what is missing and changes nothing else.
"""

from __future__ import annotations

from sqlalchemy import select

from ..auth import service as auth_service
from ..auth.models import User
from ..coverage.demo import load_coverage_demo
from ..dutylog import service as dutylog
from ..dutylog.schemas import NewEntry
from ..extensions import db
from ..facilities.demo import load_map_demo
from ..geo.service import upsert_areas
from ..roster.demo import load_roster_demo
from ..roster.demo_positions import load_position_demo
from ..stock.demo import load_stock_demo
from .areas import ACCOUNTS, ACTOR, AREAS, LOG, DemoAccount

__all__ = ["ACCOUNTS", "ACTOR", "AREAS", "DemoAccount", "load_demo"]


def load_demo(*, situation: bool = False) -> list[DemoAccount]:
    """Load the demo set; return the accounts created by this run.

    ``situation`` also sets the running scene (demo/situation.py) that
    ``serve --demo`` and ``demo-data`` open on.
    """
    with db.reading() as s:
        existing = set(s.scalars(select(User.username)))
    upsert_areas(areas=AREAS, actor=ACTOR)
    load_map_demo(ACTOR)
    load_stock_demo(ACTOR)
    load_coverage_demo(ACTOR)
    created = []
    for acct in ACCOUNTS:
        if acct.username in existing:
            continue
        auth_service.create_user(
            username=acct.username, display_name=acct.display_name,
            password=acct.password, roles=list(acct.roles), actor=ACTOR,
        )
        created.append(acct)
    if not existing:  # the first load also starts the duty log
        for category, area, text in LOG:
            dutylog.post_entry(
                data=NewEntry(text=text, category=category, area=area),
                actor=ACTOR,
            )
    load_roster_demo(ACTOR)  # roster: after the accounts (links the liaison account)
    load_position_demo(ACTOR)  # named people in the plans' positions (issue 14)
    if situation:
        from .situation import load_situation

        load_situation()
    return created
