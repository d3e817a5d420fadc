"""CAP 1.2 import and export, on top of the incidents service.

Import: the bytes are parsed and validated (cap.py: XSD, then the spec's
rules); what the alert means is derived (cap_meaning.py: disease, kind,
priority; cap_areas.py: administrative codes as areas) and checked *before*
anything is written, so a bad alert changes nothing. The incident is created
by the incidents service (its own transaction and ``incident.reported``
event); then the alert itself is recorded (``cap_messages``:
sender/identifier/sent, area, XML) with a ``cap.imported`` event. The same
alert (sender, identifier) twice, one of our own exports, or an alert
referring to one imported here is a 409 naming the incident; Update and
Cancel apply to the incident they reference (cap_updates.py).

Export: the incident as an alert that validates against the OASIS schema:
status ``Exercise`` in a drill context, ``site_domain`` as sender, the type's
label as event, the area it came with (or a point), times with offsets, and a
reference to the alert it was imported from.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .. import events
from ..contexts import LIVE, Context
from ..errors import Conflict, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..geo.region import BBox
from ..vocab import messages
from . import cap, cap_areas, cap_export, cap_location, cap_meaning, cap_updates, diseases
from . import service as incidents
from .cap_models import CapMessage
from .models import TYPE_LABELS, IncidentType
from .schemas import IncidentIn

AUDIENCE = ["role:operator", "role:trainer"]
DEFAULT_SENDER = "coordination.local"
_SAFE = re.compile(r"[^0-9A-Za-z._:@-]")


def _invalid(reasons: list[str]) -> ValidationFailed:
    head = str(_l("The CAP message is not valid: %(reason)s", reason=reasons[0]))
    if len(reasons) > 1:
        head += " " + str(_l("(and %(n)s more problems)", n=len(reasons) - 1))
    return ValidationFailed(head, details=reasons)


def incident_from_alert(
        alert: cap.CapAlert, *, context: str, info: cap.CapInfo | None = None,
) -> tuple[IncidentIn, cap_location.CapLocation, cap_meaning.Meaning]:
    """What the alert means as an incident; raises ValidationFailed with the reasons."""
    _check_status(alert, context)
    info = info or cap.chosen_info(alert)
    if info is None:
        raise _invalid([str(_l("The alert has no <info> block."))])
    try:
        location = cap_location.alert_location(alert, info, cap_areas.resolve_geocode)
    except cap.CapError as exc:
        raise _invalid(exc.reasons) from None
    if location is None:
        raise _invalid([str(_l("The alert has no <area> with a polygon, a circle or an "
                               "administrative code, so it has no location."))])
    found = cap_meaning.meaning(info)
    patients = info.parameters.get("patients", "1")
    if not patients.isdigit():
        raise _invalid([str(_l("The patients parameter must be a whole number."))])
    notes = "\n\n".join(p for p in (info.headline, info.description, info.instruction) if p)
    data = {
        "type": found.type.value, "disease": found.disease, "priority": found.priority.value,
        "lon": location.lon, "lat": location.lat,
        "address": (location.description or info.headline)[:300],
        "patients": int(patients), "reporter": (info.sender_name or alert.sender)[:120],
        "phone": info.contact[:40], "notes": notes[:4000],
        "found_at": info.onset or info.effective or alert.sent,
        "external_ref": f"{alert.sender},{alert.identifier},{_sent_text(alert)}"[:200],
        "source": "cap",
    }
    try:
        return IncidentIn.model_validate(data), location, found
    except ValidationError as exc:
        # In the reader's language: "CAP 消息无效：lat：请输入数字。", never pydantic's English.
        raise _invalid([messages.problem(e) for e in exc.errors()]) from None


def _sent_text(alert: cap.CapAlert) -> str:
    return cap_export.cap_time(alert.sent) if alert.sent.utcoffset() else \
        alert.sent.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def import_cap(*, data: bytes, actor: Actor, context: str = LIVE,
               region: BBox | None = None) -> dict[str, Any]:
    """Create, update or cancel an incident from a CAP 1.2 alert; 400 with every reason.

    msgType Alert creates an incident, unless the alert is one already here
    (our own export, or referring to an imported alert: 409 naming it).
    Update and Cancel apply to the incident their references name
    (cap_updates.py). The alert's row is written first (its unique key decides
    a race between two imports of one alert), then the incident, then the row
    is linked to it. If the incident is refused (outside the region, a time in
    the future...), the row is removed again: nothing stays behind.
    """
    try:
        alert = cap.parse_cap(data)
    except cap.CapError as exc:
        raise _invalid(exc.reasons) from None
    _check_status(alert, context)
    sent = _sent_text(alert)
    if alert.msg_type in ("Update", "Cancel"):
        return cap_updates.apply_update_or_cancel(alert, data=data, sent=sent, actor=actor,
                                                  context=context)
    if alert.msg_type != "Alert":
        raise _invalid([str(_l("msgType %(type)s acknowledges or corrects a message; it "
                               "changes no incident.", type=alert.msg_type))])
    same = cap_updates.same_incident(alert, context)
    if same is not None:
        raise same
    incident_in, location, found = incident_from_alert(alert, context=context)
    try:
        with db.unit_of_work() as s:
            now = s.get(Context, context).clock().now()  # type: ignore[union-attr]
            row = CapMessage(
                context=context, sender=alert.sender[:200], identifier=alert.identifier[:200],
                sent=sent, incident_id=None, area=location.area,
                xml=data.decode("utf-8", errors="replace"), received_at=now,
                received_by=actor.name)
            s.add(row)
            s.flush()
            row_id = row.id
    except IntegrityError:
        raise _duplicate(context, alert) from None
    try:
        incident = incidents.create_incident(context=context, data=incident_in, actor=actor,
                                             region=region)
    except BaseException:
        with db.unit_of_work() as s:
            s.execute(delete(CapMessage).where(CapMessage.id == row_id))
        raise
    info = cap.chosen_info(alert)
    with db.unit_of_work() as s:
        s.execute(update(CapMessage).where(CapMessage.id == row_id)
                  .values(incident_id=incident["id"]))
        events.append(s, context=context, type="cap.imported", actor=actor,
                      audience=AUDIENCE, subject=("incident", incident["id"]),
                      payload={"id": incident["id"], "sender": alert.sender,
                               "identifier": alert.identifier,
                               "event": info.event if info else "",
                               "unclassified": found.unclassified})
        if found.unclassified:
            events.append(s, context=context, type="cap.unclassified", actor=actor,
                          audience=AUDIENCE, subject=("incident", incident["id"]),
                          payload={"id": incident["id"], "event": info.event if info else ""})
    return incident | {"cap": {"sender": alert.sender, "identifier": alert.identifier,
                               "sent": sent, "area": location.area, "action": "created",
                               "unclassified": found.unclassified,
                               "disease_from": found.matched}}


def _check_status(alert: cap.CapAlert, context: str) -> None:
    wanted = "Actual" if context == LIVE else "Exercise"
    if alert.status != wanted:
        raise _invalid([str(_l("Only %(wanted)s alerts create incidents here; this one is "
                               "%(status)s.", wanted=wanted, status=alert.status))])


def _duplicate(context: str, alert: cap.CapAlert) -> Conflict:
    with db.reading() as s:
        seen = s.scalars(select(CapMessage.incident_id).where(
            CapMessage.context == context, CapMessage.sender == alert.sender[:200],
            CapMessage.identifier == alert.identifier[:200])).first()
    if seen is None:
        return Conflict(_l("This alert is being imported right now."))
    return Conflict(_l("This alert was already imported as incident #%(id)s.", id=seen))


_SEVERITY = {1: "Extreme", 2: "Severe", 3: "Moderate", 4: "Minor"}


def export_cap(*, incident_id: int, context: str = LIVE, sender: str | None = None) -> bytes:
    """The incident as a CAP 1.2 alert (bytes, UTF-8), schema-valid.

    ``sender`` defaults to the configured ``site_domain``, so one incident has
    one sender whichever host name the export was fetched through, and the
    alert is recognised as ours when it comes back.
    """
    sender = sender or cap_updates.site_sender()
    body = incidents.get_incident(context=context, incident_id=incident_id)
    with db.reading() as s:
        origin = s.scalars(select(CapMessage).where(
            CapMessage.context == context, CapMessage.incident_id == incident_id)
            .order_by(CapMessage.id).limit(1)).first()
        now = s.get(Context, context).clock().now()  # type: ignore[union-attr]
    sender = _SAFE.sub("-", sender) or DEFAULT_SENDER
    disease = diseases.get(body.get("disease"))
    event = str(disease.label) if disease else str(TYPE_LABELS[IncidentType(body["type"])])
    if body.get("disease_name"):
        event = f"{event}: {body['disease_name']}"
    confirmed = body["type"] == IncidentType.CONFIRMED_CASE.value
    codes = {"incident_type": body["type"]}
    if body.get("disease"):
        codes["disease"] = body["disease"]
    export = cap_export.CapExport(
        identifier=_SAFE.sub("-", f"{sender}.{context}.incident.{body['id']}.v{body['version']}"),
        sender=sender, sent=now, status="Actual" if context == LIVE else "Exercise",
        event=event, headline=f"#{body['id']} {event}",
        description=body.get("notes") or "", urgency="Immediate" if body["open"] else "Past",
        severity=_SEVERITY.get(int(body.get("priority") or 3), "Unknown"),
        certainty="Observed" if confirmed else "Likely",
        area_description=body.get("address") or "", lon=body["lon"], lat=body["lat"],
        area=origin.area if origin else None,
        effective=_parse(body["clocks"].get("found") or body["logged_at"]),
        note=f"status: {body['status']}",
        references=([(origin.sender, origin.identifier, origin.sent)] if origin else []),
        sender_name=body.get("logged_by") or "", contact=body.get("phone") or "",
        event_codes=codes, parameters={"patients": str(body.get("patients", 0)),
                                       "status": body["status"]},
    )
    return cap_export.build_cap(export)


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)
