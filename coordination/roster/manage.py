"""Keeping agencies, officers, rotations, overrides, escalation chains and channels.

Admin changes, each one unit of work with one event. The roster's rules are
checked here, before anything is written: rotations of one seat (agency, layer,
role) must not overlap, an officer must not hold two primary duties at once,
an override must end after it starts, a chain must not loop.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import events
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import schedule
from .models import (
    Agency,
    ChannelConfig,
    EscalationStep,
    Layer,
    Officer,
    Override,
    OverrideKind,
    Rotation,
)
from .schemas import AgencyIn, ChainIn, OfficerIn, OverrideIn, RotationIn
from .service import (
    agency_by_code,
    context_row,
    link_user,
    load_specs,
    new_ical_token,
    officer_dict,
    override_spec,
    parse,
    rotation_spec,
)

ADMIN_AUDIENCE = ["role:admin", "role:operator"]
# Two primaries at once are looked for over this horizon of the rotations' overlap.
CHECK_HORIZON = timedelta(days=56)


def agency_dict(a: Agency) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "name_zh": a.name_zh, "name_en": a.name_en,
            "phone": a.phone, "head_officer_id": a.head_officer_id,
            "webhook_url": a.webhook_url, "has_webhook_secret": bool(a.webhook_secret)}


def rotation_dict(r: Rotation) -> dict[str, Any]:
    return {"id": r.id, "agency_id": r.agency_id, "name": r.name, "layer": r.layer,
            "role": r.role, "kind": r.kind, "handover": r.handover,
            "shift_hours": r.shift_hours, "timezone": r.timezone,
            "start_date": r.start_date.isoformat(),
            "end_date": r.end_date.isoformat() if r.end_date else None,
            "officer_ids": list(r.officer_ids)}


def override_dict(o: Override) -> dict[str, Any]:
    return {"id": o.id, "agency_id": o.agency_id, "kind": o.kind, "officer_id": o.officer_id,
            "cover_officer_id": o.cover_officer_id, "starts_at": o.starts_at.isoformat(),
            "ends_at": o.ends_at.isoformat(), "note": o.note}


def _event(s: Session, context: str, type_: str, actor: Actor, payload: dict[str, Any],
           subject: tuple[str, Any] | None = None) -> None:
    events.append(s, context=context, type=type_, actor=actor, audience=ADMIN_AUDIENCE,
                  payload=payload, subject=subject)


def save_agency(*, context: str, data: Any, actor: Actor) -> dict[str, Any]:
    """Create an agency, or update the one with the same code."""
    item: AgencyIn = parse(AgencyIn, data)
    with db.unit_of_work() as s:
        context_row(s, context)
        a = s.scalar(select(Agency).where(Agency.context == context, Agency.code == item.code))
        if a is None:
            a = Agency(context=context, code=item.code)
            s.add(a)
        a.name_zh, a.name_en, a.phone = item.name_zh, item.name_en, item.phone
        a.webhook_url = item.webhook_url
        if item.webhook_secret:
            a.webhook_secret = item.webhook_secret
        s.flush()
        body = agency_dict(a)
        _event(s, context, "roster.agency_saved", actor, body, ("agency", a.id))
        return body


def save_officer(*, context: str, data: Any, actor: Actor,
                 officer_id: int | None = None) -> dict[str, Any]:
    item: OfficerIn = parse(OfficerIn, data)
    with db.unit_of_work() as s:
        context_row(s, context)
        agency = agency_by_code(s, context, item.agency_code)
        if officer_id is None:
            o = Officer(context=context, ical_token=new_ical_token(), active=True)
            s.add(o)
        else:
            o = _officer(s, context, officer_id)
        o.agency_id, o.name, o.phone, o.email = agency.id, item.name, item.phone, item.email
        o.name_en = item.name_en
        o.agency_role, o.languages = item.agency_role, [x for x in item.languages if x]
        o.may_be_primary, o.user_id = item.may_be_primary, link_user(s, item.username)
        s.flush()
        if item.is_head:
            agency.head_officer_id = o.id
        elif agency.head_officer_id == o.id:
            agency.head_officer_id = None
        body = officer_dict(o) | {"agency_code": agency.code}
        _event(s, context, "roster.officer_saved", actor, body, ("officer", o.id))
        return body


def _officer(s: Session, context: str, officer_id: int) -> Officer:
    o = s.get(Officer, officer_id)
    if o is None or o.context != context:
        raise NotFound(_l("No such officer."))
    return o


def _overlapping_dates(a: Rotation | RotationIn, b: Rotation) -> bool:
    a_end, b_end = a.end_date, b.end_date
    return ((a_end is None or b.start_date < a_end)
            and (b_end is None or a.start_date < b_end))


def _check_two_primaries(s: Session, context: str, new: Rotation) -> None:
    """Refuse a primary rotation that puts an officer on two primary duties at once."""
    others = [r for r in s.scalars(select(Rotation).where(
        Rotation.context == context, Rotation.layer == Layer.PRIMARY, Rotation.id != new.id))
        if set(r.officer_ids) & set(new.officer_ids) and _overlapping_dates(new, r)]
    if not others:
        return
    tz = UTC
    start = datetime.combine(max([new.start_date, *[r.start_date for r in others]]),
                             time(0), tzinfo=tz) - timedelta(days=1)
    end = start + CHECK_HORIZON
    mine = list(schedule.shifts(rotation_spec(new), start, end))
    for r in others:
        hit = schedule.same_officer_overlaps(mine, list(schedule.shifts(rotation_spec(r), start,
                                                                         end)))
        if hit:
            oid, at, _until = hit[0]
            o = s.get(Officer, oid)
            raise Conflict(_l("%(name)s would be primary in %(a)s and in %(b)s at once "
                              "(from %(at)s).", name=o.name if o else oid, a=new.name,
                              b=r.name, at=at.isoformat()))


def save_rotation(*, context: str, data: Any, actor: Actor,
                  rotation_id: int | None = None) -> dict[str, Any]:
    item: RotationIn = parse(RotationIn, data)
    with db.unit_of_work() as s:
        context_row(s, context)
        agency = agency_by_code(s, context, item.agency_code)
        people = {o.id: o for o in s.scalars(select(Officer).where(
            Officer.id.in_(item.officer_ids)))}
        bad = [i for i in item.officer_ids if i not in people or people[i].agency_id != agency.id]
        if bad:
            raise ValidationFailed(_l("Officers %(ids)s are not officers of this agency.",
                                      ids=", ".join(map(str, bad))))
        if item.layer == Layer.PRIMARY:
            not_primary = [people[i].name for i in item.officer_ids
                           if not people[i].may_be_primary]
            if not_primary:
                raise ValidationFailed(_l("%(names)s may not be primary.",
                                          names=", ".join(not_primary)))
        for other in s.scalars(select(Rotation).where(
                Rotation.agency_id == agency.id, Rotation.layer == item.layer.value,
                Rotation.role == item.role)):
            if other.id != rotation_id and _overlapping_dates(item, other):
                raise Conflict(_l("This rotation overlaps rotation %(name)s of the same "
                                  "layer and role.", name=other.name))
        if rotation_id is None:
            r = Rotation(context=context)
            s.add(r)
        else:
            found = s.get(Rotation, rotation_id)
            if found is None or found.context != context:
                raise NotFound(_l("No such rotation."))
            r = found
        r.agency_id, r.name, r.layer, r.role = agency.id, item.name, item.layer.value, item.role
        r.kind, r.handover, r.shift_hours = item.kind.value, item.handover, item.shift_hours
        r.timezone, r.start_date, r.end_date = item.timezone, item.start_date, item.end_date
        r.officer_ids = list(item.officer_ids)
        s.flush()
        if r.layer == Layer.PRIMARY:
            _check_two_primaries(s, context, r)
        body = rotation_dict(r)
        _event(s, context, "roster.rotation_saved", actor, body, ("rotation", r.id))
        return body


def delete_rotation(*, context: str, rotation_id: int, actor: Actor) -> None:
    with db.unit_of_work() as s:
        r = s.get(Rotation, rotation_id)
        if r is None or r.context != context:
            raise NotFound(_l("No such rotation."))
        body = rotation_dict(r)
        s.delete(r)
        _event(s, context, "roster.rotation_deleted", actor, body, ("rotation", rotation_id))


def add_override(*, context: str, data: Any, actor: Actor) -> dict[str, Any]:
    item: OverrideIn = parse(OverrideIn, data)
    with db.unit_of_work() as s:
        context_row(s, context)
        o = _officer(s, context, item.officer_id)
        if item.cover_officer_id is not None:
            cover = _officer(s, context, item.cover_officer_id)
            if cover.agency_id != o.agency_id:
                raise ValidationFailed(_l("The cover must be an officer of the same agency."))
            rots, ovs = load_specs(s, o.agency_id)
            duty = [g for g in schedule.segments(rots, ovs, item.starts_at, item.ends_at)
                    if g.officer_id == o.id]
            busy = [g for g in schedule.segments(
                        [x for x in _all_primary_specs(s, context)], ovs,
                        item.starts_at, item.ends_at)
                    if g.officer_id == cover.id]
            if any(d.layer == Layer.PRIMARY for d in duty) and busy:
                raise Conflict(_l("%(name)s is already primary at that time.", name=cover.name))
        row = Override(context=context, agency_id=o.agency_id, kind=item.kind.value,
                       officer_id=o.id, cover_officer_id=item.cover_officer_id,
                       starts_at=item.starts_at.astimezone(UTC),
                       ends_at=item.ends_at.astimezone(UTC), note=item.note)
        s.add(row)
        s.flush()
        body = override_dict(row)
        _event(s, context, "roster.override_added", actor, body, ("override", row.id))
        return body


def _all_primary_specs(s: Session, context: str) -> list[schedule.RotationSpec]:
    return [rotation_spec(r) for r in s.scalars(select(Rotation).where(
        Rotation.context == context, Rotation.layer == Layer.PRIMARY))]


def delete_override(*, context: str, override_id: int, actor: Actor) -> None:
    with db.unit_of_work() as s:
        o = s.get(Override, override_id)
        if o is None or o.context != context:
            raise NotFound(_l("No such override."))
        body = override_dict(o)
        s.delete(o)
        _event(s, context, "roster.override_deleted", actor, body, ("override", override_id))


def set_chain(*, context: str, agency_code: str, data: Any, actor: Actor) -> list[dict[str, Any]]:
    """Replace an agency's escalation chain (used by tasks created from now on)."""
    item: ChainIn = parse(ChainIn, data)
    with db.unit_of_work() as s:
        agency = agency_by_code(s, context, agency_code)
        s.execute(delete(EscalationStep).where(EscalationStep.agency_id == agency.id))
        s.flush()
        steps = [{"target": st.target.value, "wait_minutes": st.wait_minutes}
                 for st in item.steps]
        for n, st in enumerate(steps):
            s.add(EscalationStep(context=context, agency_id=agency.id, position=n,
                                 target=st["target"], wait_minutes=st["wait_minutes"]))
        _event(s, context, "roster.chain_set", actor, {"agency": agency.code, "steps": steps},
               ("agency", agency.id))
        return steps


def set_channel(*, context: str, kind: str, config: dict[str, Any], enabled: bool,
                actor: Actor) -> dict[str, Any]:
    """Configure an outbound channel (webhook defaults, SMS gateway, SMTP server)."""
    if kind not in ("webhook", "sms", "email"):
        raise ValidationFailed(_l("Unknown channel %(kind)s.", kind=kind))
    if kind == "sms" and not str(config.get("url", "")).startswith(("http://", "https://")):
        raise ValidationFailed(_l("The SMS gateway needs an http(s) URL."))
    if kind == "email":
        try:
            port = int(config.get("port", 25))
        except (TypeError, ValueError):
            port = -1
        if not config.get("host") or not 0 < port < 65536:
            raise ValidationFailed(_l("The mail server needs a host and a port."))
    with db.unit_of_work() as s:
        context_row(s, context)
        row = s.scalar(select(ChannelConfig).where(ChannelConfig.context == context,
                                                   ChannelConfig.kind == kind))
        if row is None:
            row = ChannelConfig(context=context, kind=kind)
            s.add(row)
        row.config, row.enabled = dict(config), enabled
        safe = {k: v for k, v in config.items()
                if k not in ("secret", "token", "password", "inbound_secret")}
        _event(s, context, "roster.channel_set", actor,
               {"kind": kind, "enabled": enabled, "config": safe})
        return {"kind": kind, "enabled": enabled, "config": safe}


def overview(*, context: str) -> dict[str, Any]:
    """Everything the admin pages list: agencies, officers, rotations, overrides, chains."""
    with db.reading() as s:
        agencies = list(s.scalars(select(Agency).where(Agency.context == context)
                                  .order_by(Agency.id)))
        officers = list(s.scalars(select(Officer).where(Officer.context == context)
                                  .order_by(Officer.agency_id, Officer.name)))
        codes = {a.id: a.code for a in agencies}
        chains: dict[str, list[dict[str, Any]]] = {}
        for st in s.scalars(select(EscalationStep).where(EscalationStep.context == context)
                            .order_by(EscalationStep.agency_id, EscalationStep.position)):
            chains.setdefault(codes[st.agency_id], []).append(
                {"target": st.target, "wait_minutes": st.wait_minutes})
        return {
            "agencies": [agency_dict(a) for a in agencies],
            "officers": [officer_dict(o) | {"agency_code": codes[o.agency_id],
                                            "ical_token": o.ical_token} for o in officers],
            "rotations": [rotation_dict(r) | {"agency_code": codes[r.agency_id]}
                          for r in s.scalars(select(Rotation).where(
                              Rotation.context == context).order_by(Rotation.id))],
            "overrides": [override_dict(o) | {"agency_code": codes[o.agency_id]}
                          for o in s.scalars(select(Override).where(
                              Override.context == context).order_by(Override.starts_at))],
            "chains": chains,
            "override_kinds": [k.value for k in OverrideKind],
        }


__all__ = ["add_override", "agency_dict", "delete_override", "delete_rotation", "overview",
           "override_spec", "save_agency", "save_officer", "save_rotation", "set_chain",
           "set_channel"]
