"""Factories for roster tests: agencies with officers, rotations and drill contexts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from coordination.auth import service as auth_service
from coordination.contexts import Context, ContextKind
from coordination.events import Actor
from coordination.extensions import db
from coordination.roster import manage
from tests.conftest import PASSWORD

ADMIN = Actor(kind="user", id=None, name="admin-test")
_n = itertools.count(1)


@dataclass
class Crew:
    code: str
    primaries: list[dict[str, Any]] = field(default_factory=list)
    backups: list[dict[str, Any]] = field(default_factory=list)
    head: dict[str, Any] | None = None
    users: dict[int, Any] = field(default_factory=dict)  # officer id -> Principal


def drill_context(name: str, at: datetime, *, paused: bool = True, speed: float = 1.0) -> str:
    """A drill context whose clock stands still at ``at`` (step it with :func:`set_drill_time`)."""
    with db.unit_of_work() as s:
        s.add(Context(name=name, kind=ContextKind.DRILL, title=name, last_seq=0,
                      clock_speed=speed, clock_anchor_real=datetime.now(UTC),
                      clock_anchor_sim=at, clock_paused=paused))
    return name


def set_drill_time(name: str, at: datetime) -> None:
    with db.unit_of_work() as s:
        ctx = s.get(Context, name)
        assert ctx is not None
        ctx.clock_anchor_sim, ctx.clock_anchor_real = at, datetime.now(UTC)


def officer(context: str, code: str, name: str, *, user: bool = False, head: bool = False,
            phone: str = "", email: str = "", may_be_primary: bool = True) -> tuple[dict, Any]:
    principal = None
    username = None
    if user:
        username = f"{code}{next(_n)}"
        principal = auth_service.create_user(
            username=username, display_name=name, password=PASSWORD, roles=["liaison"],
            actor=Actor.system("test"))
    body = manage.save_officer(context=context, actor=ADMIN, data={
        "agency_code": code, "name": name, "username": username, "is_head": head,
        "phone": phone, "email": email, "may_be_primary": may_be_primary,
        "languages": ["zh", "en"]})
    return body, principal


def crew(
    context: str = "live", code: str = "cdc", *, primaries: int = 2, backups: int = 1,
    start: date = date(2026, 11, 2), kind: str = "daily", handover: str = "08:00",
    timezone: str = "Asia/Shanghai", users: bool = True, webhook_url: str = "",
    webhook_secret: str = "",
) -> Crew:
    """An agency with ``primaries`` officers rotating daily on primary, ``backups`` on
    backup and a head; each officer linked to a liaison account when ``users``."""
    manage.save_agency(context=context, actor=ADMIN, data={
        "code": code, "name_zh": f"{code}中文", "name_en": code.upper(),
        "webhook_url": webhook_url, "webhook_secret": webhook_secret})
    c = Crew(code=code)
    for i in range(primaries):
        o, p = officer(context, code, f"P{i + 1}-{code}", user=users, phone=f"1380000000{i}",
                       email=f"p{i + 1}@{code}.test")
        c.primaries.append(o)
        c.users[o["id"]] = p
    for i in range(backups):
        o, p = officer(context, code, f"B{i + 1}-{code}", user=users)
        c.backups.append(o)
        c.users[o["id"]] = p
    o, p = officer(context, code, f"Head-{code}", user=users, head=True)
    c.head, c.users[o["id"]] = o, p
    if primaries:
        manage.save_rotation(context=context, actor=ADMIN, data={
            "agency_code": code, "name": f"{code} primary", "layer": "primary", "kind": kind,
            "handover": handover, "timezone": timezone, "start_date": start.isoformat(),
            "officer_ids": [x["id"] for x in c.primaries]})
    if backups:
        manage.save_rotation(context=context, actor=ADMIN, data={
            "agency_code": code, "name": f"{code} backup", "layer": "backup", "kind": kind,
            "handover": handover, "timezone": timezone, "start_date": start.isoformat(),
            "officer_ids": [x["id"] for x in c.backups]})
    return c
