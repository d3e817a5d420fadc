"""Where drills meet the other domains: inject kinds, reference data, report figures.

Inject kinds that act through the incidents and roster services live here.

An incident inject is what a caller or an integration would post: the same
schema and service as the ops form. A confirmed case names the earlier
inject whose incident it belongs to, so a scenario reads like its script
("inject 4 confirms the case inject 1 reported"). A liaison who cannot be
reached is an override of their shift, so tasks escalate exactly as they
would live.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..events import Actor, Event
from ..extensions import db
from .evaluate import register_ack_times
from .injects import InjectPayload, register
from .scenario import InjectType
from .seed import SeedResult, register_reference_table


def _incident_payload() -> type:
    from ..incidents.schemas import IncidentIn

    return IncidentIn


class CaseConfirmedPayload(InjectPayload):
    incident: str = Field(min_length=1, description="number of the inject that reported it")
    lon: float
    lat: float
    label: str = ""


class LiaisonUnreachablePayload(InjectPayload):
    agency: str = Field(min_length=1)
    hours: float = Field(default=4, gt=0, le=72)


def _incident_reported(*, context: str, payload: Any, actor: Actor,
                       **_: Any) -> dict[str, Any]:
    from ..incidents import service as incidents

    body = incidents.create_incident(context=context, data=payload, actor=actor)
    return {"incident_id": body["id"]}


def _case_confirmed(*, context: str, payload: CaseConfirmedPayload, actor: Actor,
                    earlier: dict[str, dict[str, Any]], **_: Any) -> dict[str, Any]:
    from ..incidents import service as incidents
    from ..incidents.schemas import CaseIn

    incident_id = (earlier.get(payload.incident) or {}).get("incident_id")
    if incident_id is None:
        raise ValidationFailed(_l("Inject %(n)s reported no incident (has it fired?).",
                                  n=payload.incident))
    # As the API does: recording a confirmed case redraws its disease's epidemic zones.
    case = incidents.record_case(context=context, incident_id=incident_id, actor=actor,
                                 data=CaseIn(lon=payload.lon, lat=payload.lat,
                                             label=payload.label))
    return {"incident_id": incident_id, "case_id": case["id"]}


def _liaison_unreachable(*, context: str, payload: LiaisonUnreachablePayload, actor: Actor,
                         **_: Any) -> dict[str, Any]:
    from ..contexts import Context
    from ..roster import manage
    from ..roster import service as roster
    from ..roster.models import OverrideKind
    from ..roster.schemas import OverrideIn

    with db.reading() as s:
        now = s.get(Context, context).clock().now()  # type: ignore[union-attr]
    officers = roster.on_duty(context=context, agency_code=payload.agency, at=now)
    if not officers:
        raise ValidationFailed(_l("Nobody of %(a)s is on duty to be unreachable.",
                                  a=payload.agency))
    done = []
    for officer in officers:
        done.append(manage.add_override(context=context, actor=actor, data=OverrideIn(
            kind=OverrideKind.LEAVE, officer_id=officer["id"], starts_at=now,
            ends_at=now + timedelta(hours=payload.hours), note="drill: unreachable"))["id"])
    return {"overrides": done}


def ack_times(s: Session, context: str) -> dict[str, list[float]]:
    """Seconds from each task's creation to its first acknowledgement, per agency."""
    created: dict[str, datetime] = {}
    agency: dict[str, str] = {}
    out: dict[str, list[float]] = {}
    for ev in s.scalars(select(Event).where(
            Event.context == context, Event.type.in_(("task.created", "task.acknowledged")))
            .order_by(Event.seq)):
        task = str(ev.subject_id)
        if ev.type == "task.created":
            created[task] = ev.occurred_at
            agency[task] = str((ev.payload or {}).get("agency_code", "?"))
        elif task in created:
            out.setdefault(agency[task], []).append(
                (ev.occurred_at - created.pop(task)).total_seconds())
    return out


def _fresh_ical_token(row: dict[str, Any], _seed: SeedResult) -> dict[str, Any]:
    from ..roster.service import new_ical_token

    return row | {"ical_token": new_ical_token()}


def _rotation_officers(row: dict[str, Any], seed: SeedResult) -> dict[str, Any]:
    """A rotation lists its officers by id in JSON: point them at the drill's copies."""
    return row | {"officer_ids": [seed.new_id("roster_officers", i)
                                  for i in row.get("officer_ids") or []]}


def register_all() -> None:
    register(InjectType.INCIDENT_REPORTED, _incident_payload(), _incident_reported)
    register(InjectType.CASE_CONFIRMED, CaseConfirmedPayload, _case_confirmed)
    register(InjectType.LIAISON_UNREACHABLE, LiaisonUnreachablePayload, _liaison_unreachable)
    register_ack_times(ack_times)
    # The roster plays too (who is on duty, escalation chains); notification channels are
    # not copied, so a drill never pages anyone through SMS, e-mail or a webhook.
    transforms = {"roster_officers": _fresh_ical_token, "roster_rotations": _rotation_officers}
    for table in ("roster_agencies", "roster_officers", "roster_rotations",
                  "roster_overrides", "roster_escalation_steps"):
        register_reference_table(table, transform=transforms.get(table))


register_all()
