"""Positions with people: who is the crew leader, the duty director, the attending physician
of an agency on each shift.

A plan's checklist step names a position (``responsible: crew_leader``); the Ulanqab
rule is that every step has a person *by name*. The roster already knows shifts, so a
position is kept like a rotation: the officers who take the position in turn, from a
hand-over time, daily, weekly or every N hours. Leave, sick days and swaps of the
agency apply to it as to any duty. Who holds a position at a time is worked out by
the roster's own schedule (``schedule.at_time``); a position nobody holds is a
readiness shortfall of every plan that names it.

Kept apart from liaison rotations (its own table) so a crew leader on shift is never
taken for the agency's liaison officer when tasks are handed out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import Field
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import events, vocab
from ..db import Base
from ..errors import NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import schedule
from .models import Agency, Officer, Override
from .schemas import CODE, RotationIn
from .service import agency_by_code, context_row, officer_dict, override_spec, parse


class PositionShift(Base):
    """The officers who hold ``position`` of an agency in turn (a rotation of one post)."""

    __tablename__ = "roster_position_shifts"
    __table_args__ = (Index("ix_roster_position_shifts_agency_position", "agency_id",
                            "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("roster_agencies.id"))
    position: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    handover: Mapped[str] = mapped_column(String(5))
    shift_hours: Mapped[int] = mapped_column(Integer, default=24)
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    officer_ids: Mapped[list[int]] = mapped_column(JSON)


class PositionShiftIn(RotationIn):
    """A rotation's fields, for one position; ``name`` defaults to the position's."""

    position: str = Field(pattern=CODE, max_length=64)
    name: str = Field(default="-", max_length=120)


def _spec(p: PositionShift) -> schedule.RotationSpec:
    return schedule.RotationSpec(
        id=p.id, agency_id=p.agency_id, layer="primary", role=p.position, kind=p.kind,
        handover=p.handover, shift_hours=p.shift_hours, timezone=p.timezone,
        start_date=p.start_date, end_date=p.end_date, officer_ids=tuple(p.officer_ids))


def shift_dict(p: PositionShift, agency_code: str) -> dict[str, Any]:
    return {"id": p.id, "agency_code": agency_code, "position": p.position,
            "kind": p.kind, "handover": p.handover, "shift_hours": p.shift_hours,
            "timezone": p.timezone, "start_date": p.start_date.isoformat(),
            "end_date": p.end_date.isoformat() if p.end_date else None,
            "officer_ids": list(p.officer_ids)}


def save_position_shift(*, context: str, data: Any, actor: Actor) -> dict[str, Any]:
    """Set who holds an agency's position in turn (replaces that position's shifts)."""
    item: PositionShiftIn = parse(PositionShiftIn, data)
    if item.position not in vocab.positions():
        raise ValidationFailed(_l("Unknown position %(code)s.", code=item.position))
    with db.unit_of_work() as s:
        context_row(s, context)
        agency = agency_by_code(s, context, item.agency_code)
        people = {o.id: o for o in s.scalars(select(Officer).where(
            Officer.id.in_(item.officer_ids)))}
        bad = [i for i in item.officer_ids if i not in people or people[i].agency_id != agency.id]
        if bad:
            raise ValidationFailed(_l("Officers %(ids)s are not officers of this agency.",
                                      ids=", ".join(map(str, bad))))
        for old in s.scalars(select(PositionShift).where(
                PositionShift.agency_id == agency.id, PositionShift.position == item.position)):
            s.delete(old)
        p = PositionShift(context=context, agency_id=agency.id, position=item.position,
                          kind=item.kind.value, handover=item.handover,
                          shift_hours=item.shift_hours, timezone=item.timezone,
                          start_date=item.start_date, end_date=item.end_date,
                          officer_ids=list(item.officer_ids))
        s.add(p)
        s.flush()
        body = shift_dict(p, agency.code)
        events.append(s, context=context, type="roster.position_saved", actor=actor,
                      audience=["role:admin", "role:operator"],
                      subject=("position_shift", p.id), payload=body)
        return body


def remove_holder(*, context: str, agency_code: str, position: str, officer_id: int,
                  actor: Actor) -> dict[str, Any] | None:
    """Take one officer off a position; the position's last holder removes its shifts."""
    with db.unit_of_work() as s:
        agency = agency_by_code(s, context, agency_code)
        shifts = list(s.scalars(select(PositionShift).where(
            PositionShift.agency_id == agency.id, PositionShift.position == position)))
        held = [p for p in shifts if officer_id in p.officer_ids]
        if not held:
            raise NotFound(_l("That officer does not hold this position."))
        body = None
        for p in held:
            p.officer_ids = [i for i in p.officer_ids if i != officer_id]
            if not p.officer_ids:
                s.delete(p)
            else:
                body = shift_dict(p, agency.code)
        events.append(s, context=context, type="roster.position_holder_removed", actor=actor,
                      audience=["role:admin", "role:operator"], subject=("agency", agency.id),
                      payload={"agency_code": agency.code, "position": position,
                               "officer_id": officer_id})
        return body


def holders_in(s: Session, agency: Agency, position: str, at: datetime) -> list[dict[str, Any]]:
    """The officers holding ``position`` of ``agency`` at ``at`` (after leave and swaps)."""
    specs = [_spec(p) for p in s.scalars(select(PositionShift).where(
        PositionShift.agency_id == agency.id, PositionShift.position == position))]
    if not specs:
        return []
    ovs = [override_spec(o) for o in s.scalars(
        select(Override).where(Override.agency_id == agency.id))]
    ids = [g.officer_id for g in schedule.at_time(specs, ovs, at)]
    people = {o.id: o for o in s.scalars(select(Officer).where(
        Officer.id.in_(ids), Officer.active.is_(True)))}
    return [officer_dict(people[i]) for i in dict.fromkeys(ids) if i in people]


def resolve(s: Session, *, context: str, wanted: Iterable[tuple[str, str]],
            at: datetime) -> dict[tuple[str, str], list[dict[str, Any]] | None]:
    """(agency code, position) -> the people on duty in it at ``at`` ([] for nobody;
    None when the roster does not keep the agency at all)."""
    out: dict[tuple[str, str], list[dict[str, Any]] | None] = {}
    agencies: dict[str, Agency | None] = {}
    for code, position in dict.fromkeys(wanted):
        if code not in agencies:
            agencies[code] = s.scalar(select(Agency).where(Agency.context == context,
                                                           Agency.code == code))
        agency = agencies[code]
        out[(code, position)] = holders_in(s, agency, position, at) if agency else None
    return out


def positions_overview(*, context: str) -> list[dict[str, Any]]:
    """Every position shift with its agency and officers' names, for the admin page."""
    with db.reading() as s:
        rows = s.execute(select(PositionShift, Agency.code).join(
            Agency, Agency.id == PositionShift.agency_id).where(
            PositionShift.context == context).order_by(Agency.code, PositionShift.position))
        names = {o.id: o.name for o in s.scalars(select(Officer).where(
            Officer.context == context))}
        return [shift_dict(p, code) | {"officers": [names.get(i, f"#{i}")
                                                   for i in p.officer_ids]}
                for p, code in rows]
