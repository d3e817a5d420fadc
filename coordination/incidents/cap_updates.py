"""Which incident a CAP alert is about: references, our own exports, Update and Cancel.

Two command rooms exchanging CAP must not double every incident on each
round trip. An alert is about an incident already here when it is one of this
installation's own exports (its ``<sender>`` is ``site_domain`` and its
identifier names the incident), or when its ``<references>`` name an alert
imported here, or one of our exports. ``msgType`` Alert about a known incident
is refused as a duplicate; Update applies the new information to it (a
``cap.updated`` timeline entry), Cancel cancels it. Both are refused with the
references listed when none of them is known here.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import events, runtime
from ..config import Settings
from ..contexts import Context
from ..errors import Conflict, ValidationFailed
from ..events import Actor
from ..extensions import db
from . import cap, cap_meaning, diseases
from . import service as incidents
from .cap_models import CapMessage
from .models import TERMINAL, Incident, IncidentStatus, IncidentType
from .schemas import StatusChangeIn

AUDIENCE = ["role:operator", "role:trainer"]
_OWN_ID = re.compile(r"\.(?P<context>[^.]+)\.incident\.(?P<id>\d+)\.v\d+$")


def site_sender() -> str:
    """The configured ``site_domain``: our exports' ``<sender>``."""
    settings = runtime.settings()
    if settings is not None:
        return str(settings.site_domain)
    return str(Settings.model_fields["site_domain"].default)


def own_incident_id(sender: str, identifier: str, context: str) -> int | None:
    """The incident one of our exports is about, from its identifier; None if not ours."""
    if sender != site_sender():
        return None
    m = _OWN_ID.search(identifier)
    if m is None or m.group("context") != re.sub(r"[^0-9A-Za-z._:@-]", "-", context):
        return None
    with db.reading() as s:
        found = s.scalars(select(Incident.id).where(
            Incident.id == int(m.group("id")), Incident.context == context)).first()
    return found


def _imported(context: str, sender: str, identifier: str) -> int | None:
    with db.reading() as s:
        return s.scalars(select(CapMessage.incident_id).where(
            CapMessage.context == context, CapMessage.sender == sender[:200],
            CapMessage.identifier == identifier[:200],
            CapMessage.incident_id.is_not(None))).first()


def referenced_incident(alert: cap.CapAlert, context: str) -> int | None:
    """The incident the alert's references (newest first) name, if any is known here."""
    for sender, identifier, _sent in reversed(alert.references):
        found = own_incident_id(sender, identifier, context) or _imported(
            context, sender, identifier)
        if found is not None:
            return found
    return None


def same_incident(alert: cap.CapAlert, context: str) -> Conflict | None:
    """A Conflict naming the incident when a msgType Alert is about one already here."""
    own = own_incident_id(alert.sender, alert.identifier, context)
    if own is not None:
        return Conflict(_l("This alert is this system's own export of incident #%(id)s.",
                           id=own))
    if alert.sender == site_sender():
        return Conflict(_l("This alert carries this system's own sender (%(sender)s); it "
                           "was sent from here and is not imported again. If it comes from "
                           "another installation, give each its own COORDINATION_SITE_DOMAIN.",
                           sender=alert.sender))
    ref = referenced_incident(alert, context)
    if ref is not None:
        return Conflict(_l("This alert refers to an alert already imported as incident "
                           "#%(id)s.", id=ref))
    return None


def _unknown_reference(alert: cap.CapAlert) -> ValidationFailed:
    refs = " ".join(",".join(r) for r in alert.references)
    reason = str(_l("msgType %(type)s: none of the referenced alerts (%(refs)s) is an incident "
                    "here, so there is nothing to apply it to.", type=alert.msg_type, refs=refs))
    return ValidationFailed(reason, details=[reason])


def _record(context: str, alert: cap.CapAlert, data: bytes, incident_id: int, sent: str,
            actor: Actor, area: dict[str, Any] | None) -> None:
    from sqlalchemy.exc import IntegrityError

    try:
        with db.unit_of_work() as s:
            now = s.get(Context, context).clock().now()  # type: ignore[union-attr]
            s.add(CapMessage(context=context, sender=alert.sender[:200],
                             identifier=alert.identifier[:200], sent=sent,
                             incident_id=incident_id, area=area,
                             xml=data.decode("utf-8", errors="replace"), received_at=now,
                             received_by=actor.name))
    except IntegrityError:
        raise Conflict(_l("This alert was already applied to incident #%(id)s.",
                          id=incident_id)) from None


def _forget(context: str, alert: cap.CapAlert) -> None:
    from sqlalchemy import delete

    with db.unit_of_work() as s:
        s.execute(delete(CapMessage).where(
            CapMessage.context == context, CapMessage.sender == alert.sender[:200],
            CapMessage.identifier == alert.identifier[:200]))


def apply_update_or_cancel(alert: cap.CapAlert, *, data: bytes, sent: str, actor: Actor,
                           context: str) -> dict[str, Any]:
    """Cancel the referenced incident, or apply an Update's information to it."""
    incident_id = referenced_incident(alert, context)
    if incident_id is None:
        raise _unknown_reference(alert)
    info = cap.chosen_info(alert)
    _record(context, alert, data, incident_id, sent, actor, None)
    try:
        if alert.msg_type == "Cancel":
            note = str(_l("Cancelled by CAP alert %(id)s from %(sender)s.",
                          id=alert.identifier, sender=alert.sender))
            if info is not None and (info.headline or info.description):
                note += " " + (info.headline or info.description)
            body = incidents.change_status(
                context=context, incident_id=incident_id, actor=actor,
                data=StatusChangeIn(status=IncidentStatus.CANCELLED, note=note[:1000]))
            changes: dict[str, Any] = {"status": IncidentStatus.CANCELLED.value}
        else:
            changes = _update(context, incident_id, alert, info)
            body = incidents.get_incident(context=context, incident_id=incident_id)
        with db.unit_of_work() as s:
            events.append(s, context=context,
                          type="cap.cancelled" if alert.msg_type == "Cancel" else "cap.updated",
                          actor=actor, audience=AUDIENCE, subject=("incident", incident_id),
                          payload={"id": incident_id, "sender": alert.sender,
                                   "identifier": alert.identifier, "changes": changes})
    except BaseException:
        _forget(context, alert)
        raise
    if {"disease", "type", "patients"} & changes.keys() and alert.msg_type != "Cancel":
        from .lifecycle import early_warning

        early_warning(context, incident_id)  # reclassified: the rules judge it anew
    action = "cancelled" if alert.msg_type == "Cancel" else "updated"
    return body | {"cap": {"sender": alert.sender, "identifier": alert.identifier, "sent": sent,
                           "action": action, "changes": changes, "unclassified": False}}


def _update(context: str, incident_id: int, alert: cap.CapAlert,
            info: cap.CapInfo | None) -> dict[str, Any]:
    """Patients, priority, notes; the disease and kind when the incident had none yet."""
    with db.unit_of_work() as s:
        now = s.get(Context, context).clock().now()  # type: ignore[union-attr]
        i = s.scalars(select(Incident).where(Incident.id == incident_id,
                                             Incident.context == context)
                      .with_for_update()).one()
        if IncidentStatus(i.status) in TERMINAL:
            raise Conflict(_l("Incident #%(id)s is %(status)s; an update changes it no more.",
                              id=i.id, status=i.status))
        changes: dict[str, Any] = {}
        if info is not None:
            found = cap_meaning.meaning(info)
            patients = info.parameters.get("patients", "")
            if patients.isdigit() and int(patients) != i.patients:
                changes["patients"] = i.patients = int(patients)
            if found.priority.value != i.priority:
                changes["priority"] = i.priority = found.priority.value
            unnamed = i.disease is None and i.type == IncidentType.OTHER.value
            if found.disease and (unnamed or found.disease != i.disease) and \
                    found.disease in diseases.DISEASES:
                i.disease, i.type = found.disease, found.type.value
                changes |= {"disease": i.disease, "type": i.type}
                i.report_deadline, i.deadline_rule = incidents.report_deadline(
                    disease=i.disease, incident_type=i.type, found_at=i.found_at)
            elif found.type != IncidentType.OTHER and found.type.value != i.type and i.disease:
                changes["type"] = i.type = found.type.value
                i.report_deadline, i.deadline_rule = incidents.report_deadline(
                    disease=i.disease, incident_type=i.type, found_at=i.found_at)
            text = "\n\n".join(p for p in (info.headline, info.description,
                                            info.instruction) if p)
            if text:
                stamp = str(_l("Update %(id)s:", id=alert.identifier))
                i.notes = (f"{i.notes}\n\n{stamp} {text}" if i.notes else
                           f"{stamp} {text}")[:4000]
                changes["notes"] = text[:500]
        i.version += 1
        i.status_at = now
        return changes
