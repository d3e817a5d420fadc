"""Primary duty cover of many agencies over a window, from four queries.

The readiness table asks, for every agency a plan names, who is primary now
and the first sampled hour of the next 72 with nobody. Asking the roster once
per agency and hour read and expanded each rotation 73 times; here every
agency's rotations, overrides and officers are read at once (``load``), and
the window is expanded once per agency in memory (``coverage``). The answer
is the roster's own: the same segments ``schedule.at_time`` finds, after
overrides, of officers that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..roster import schedule
from ..roster.models import Agency, Officer, Override, Rotation
from ..roster.service import override_spec, rotation_spec

PRIMARY = "primary"


@dataclass(frozen=True)
class AgencyDuty:
    """What the roster holds for one agency's primary layer (read once, reused)."""

    rotations: tuple[schedule.RotationSpec, ...]
    overrides: tuple[schedule.OverrideSpec, ...]
    names: dict[int, str]  # officer id -> name, for every officer the specs mention


def load(s: Session, context: str, codes: list[str]) -> dict[str, AgencyDuty | None]:
    """Every named agency's primary rotations, overrides and officers; None if unknown."""
    agencies = {a.code: a for a in s.scalars(select(Agency).where(
        Agency.context == context, Agency.code.in_(codes)))}
    ids = [a.id for a in agencies.values()]
    rots: dict[int, list[schedule.RotationSpec]] = {i: [] for i in ids}
    ovs: dict[int, list[schedule.OverrideSpec]] = {i: [] for i in ids}
    if ids:
        for r in s.scalars(select(Rotation).where(Rotation.agency_id.in_(ids),
                                                  Rotation.layer == PRIMARY)
                           .order_by(Rotation.id)):
            rots[r.agency_id].append(rotation_spec(r))
        for o in s.scalars(select(Override).where(Override.agency_id.in_(ids))):
            ovs[o.agency_id].append(override_spec(o))
    officer_ids = {oid for specs in rots.values() for r in specs for oid in r.officer_ids}
    officer_ids |= {o.cover_officer_id for specs in ovs.values() for o in specs
                    if o.cover_officer_id is not None}
    names = {o.id: o.name for o in s.scalars(select(Officer).where(Officer.id.in_(officer_ids)))} \
        if officer_ids else {}
    out: dict[str, AgencyDuty | None] = {}
    for code in dict.fromkeys(codes):
        a = agencies.get(code)
        out[code] = None if a is None else AgencyDuty(
            rotations=tuple(rots[a.id]), overrides=tuple(ovs[a.id]), names=names)
    return out


def _on_duty(segs: list[schedule.Segment], names: dict[int, str], at: datetime) -> list[str]:
    """Officers on duty at ``at``, in the roster's order, each once."""
    out: list[str] = []
    seen: set[int] = set()
    for g in segs:
        if g.start <= at < g.end and g.officer_id in names and g.officer_id not in seen:
            seen.add(g.officer_id)
            out.append(names[g.officer_id])
    return out


def coverage(duty: dict[str, AgencyDuty | None], *, start: datetime, hours: int,
             step: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """Per agency: who is primary now, and the first sampled time in the window with nobody."""
    out: dict[str, Any] = {}
    end = start + timedelta(hours=hours)
    for code, d in duty.items():
        if d is None:
            out[code] = {"known": False, "now": [], "gap": None}
            continue
        segs = [g for g in schedule.segments(d.rotations, d.overrides, start,
                                             end + schedule.EPS) if g.officer_id is not None]
        now = _on_duty(segs, d.names, start)
        gap = None if now else start
        t = start + step
        while gap is None and t <= end:
            if not _on_duty(segs, d.names, t):
                gap = t
            t += step
        out[code] = {"known": True, "now": now, "gap": gap.isoformat() if gap else None}
    return out
