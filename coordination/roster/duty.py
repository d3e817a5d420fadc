"""Who is on duty: an agency's rotations and overrides, resolved at a moment.

The rotations become plain specs (schedule.py) so the same resolution serves
the on-duty API, task addressing and the calendar.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..extensions import db
from . import schedule
from .common import agency_by_code, officer_dict, officers_by_id
from .models import (
    Agency,
    Layer,
    Override,
    Rotation,
)


def rotation_spec(r: Rotation) -> schedule.RotationSpec:
    return schedule.RotationSpec(
        id=r.id, agency_id=r.agency_id, layer=r.layer, role=r.role, kind=r.kind,
        handover=r.handover, shift_hours=r.shift_hours, timezone=r.timezone,
        start_date=r.start_date, end_date=r.end_date, officer_ids=tuple(r.officer_ids),
    )


def override_spec(o: Override) -> schedule.OverrideSpec:
    return schedule.OverrideSpec(
        id=o.id, kind=o.kind, officer_id=o.officer_id, cover_officer_id=o.cover_officer_id,
        starts_at=o.starts_at, ends_at=o.ends_at,
    )


def load_specs(
    s: Session, agency_id: int, *, layer: str | None = None, role: str | None = None,
) -> tuple[list[schedule.RotationSpec], list[schedule.OverrideSpec]]:
    q = select(Rotation).where(Rotation.agency_id == agency_id)
    if layer is not None:
        q = q.where(Rotation.layer == layer)
    if role is not None:
        q = q.where(Rotation.role == role)
    rots = [rotation_spec(r) for r in s.scalars(q.order_by(Rotation.id))]
    ovs = [override_spec(o) for o in s.scalars(
        select(Override).where(Override.agency_id == agency_id))]
    return rots, ovs


def on_duty_in(
    s: Session, agency: Agency, *, layer: str, at: datetime, role: str | None = None,
) -> list[dict[str, Any]]:
    rots, ovs = load_specs(s, agency.id, layer=layer, role=role)
    segs = schedule.at_time(rots, ovs, at)
    people = officers_by_id(s, {g.officer_id for g in segs if g.officer_id is not None})
    out, seen = [], set()
    for g in segs:
        if g.officer_id in seen or g.officer_id not in people:
            continue
        seen.add(g.officer_id)
        out.append(officer_dict(people[g.officer_id]) | {
            "layer": g.layer, "role": g.role, "rotation_id": g.rotation_id,
            "shift_start": g.start.isoformat(), "shift_end": g.end.isoformat(),
            "override_id": g.override_id,
        })
    return out


def on_duty(
    *, context: str, agency_code: str, layer: str = "primary", at: datetime,
    role: str | None = None,
) -> list[dict[str, Any]]:
    """Officers of ``agency_code`` on duty on ``layer`` at ``at`` (after overrides)."""
    if at.tzinfo is None:
        raise ValidationFailed(_l("Times need a zone offset."))
    if layer not in {x.value for x in Layer}:
        raise ValidationFailed(_l("Unknown layer %(layer)s.", layer=layer))
    with db.reading() as s:
        agency = agency_by_code(s, context, agency_code)
        return on_duty_in(s, agency, layer=layer, at=at, role=role)
