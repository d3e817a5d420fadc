"""The live event feed a page starts from, and how each event type reads.

A page renders the newest events it may see and hands the client the head
sequence number; from then on the socket client keeps the feed current and
replays anything it missed. Descriptions are translated here, on the server,
and filled in by the client with text, never HTML.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import events, feed_codes, runtime
from .auth.principal import Principal, can_see
from .contexts import LIVE
from .events import Event
from .extensions import db

# Placeholders in braces are filled by static/js/feed.js from the event.
DESCRIPTIONS = {
    "dutylog.posted": _l("{actor} logged: {payload.text}"),
    "user.created": _l("{actor} created the account {payload.username}"),
    "user.updated": _l("{actor} changed the account {payload.username}"),
    "user.locale_changed": _l("{actor} changed their display language"),
    "user.password_changed": _l("{actor} changed their password"),
    "token.created": _l("{actor} created the API token {payload.name}"),
    "token.revoked": _l("{actor} revoked the API token {payload.name}"),
    "auth.login": _l("{actor} signed in"),
    "auth.logout": _l("{actor} signed out"),
    "auth.login_failed": _l("Failed sign-in for {payload.username} from {payload.ip}"),
    "areas.loaded": _l("{actor} loaded {payload.count} administrative areas"),
    "facilities.loaded": _l("{actor} added {payload.count} facilities"),
    "facility.capacity_reported": _l(
        "{actor} reported capacity and occupancy of {payload.name} ({payload.status})"),
    "facility.capabilities_changed": _l(
        "{actor} updated the care services of {payload.name}"),
    "units.loaded": _l("{actor} added {payload.count} units"),
    "task.created": _l("Task for {payload.agency_name_zh}: {payload.title}"),
    "task.escalated": _l("Task escalated to {payload.step.target}: {payload.title}"),
    "task.acknowledged": _l("{actor} acknowledged: {payload.title}"),
    "task.declined": _l("{actor} declined ({payload.decline.reason}): {payload.title}"),
    "task.progress": _l("{actor} reported progress on {payload.title}: {payload.note.text}"),
    "task.done": _l("{actor} marked done: {payload.title}"),
    "task.cancelled": _l("{actor} cancelled the task {payload.title}"),
    "task.ack_expired": _l("Acknowledgement expired without progress: {payload.title}"),
    "roster.agency_saved": _l("{actor} saved the agency {payload.name_zh}"),
    "roster.officer_saved": _l("{actor} saved the liaison officer {payload.name}"),
    "roster.rotation_saved": _l("{actor} saved the rotation {payload.name}"),
    "roster.position_saved": _l("{actor} set who holds a position and its shifts"),
    "roster.position_holder_removed": _l("{actor} took an officer off a position"),
    "roster.rotation_deleted": _l("{actor} deleted the rotation {payload.name}"),
    "roster.override_added": _l("{actor} added a roster override ({payload.kind})"),
    "roster.override_deleted": _l("{actor} removed a roster override"),
    "roster.chain_set": _l("{actor} changed the escalation chain of {payload.agency}"),
    "roster.channel_set": _l("{actor} configured the {payload.kind} channel"),
    "unit.status_changed": _l(
        "{actor}: {payload.call_sign} changed status from {payload.previous} to {payload.status}"),
    "unit.moved": _l("{payload.count} units moved"),
    "places.loaded": _l("{actor} loaded {payload.count} populated places"),
    "drill.created": _l("{actor} prepared the drill {payload.title}"),
    "drill.started": _l("{actor} started the drill clock"),
    "drill.paused": _l("{actor} paused the drill"),
    "drill.resumed": _l("{actor} resumed the drill"),
    "drill.speed_changed": _l("{actor} set the drill speed to {payload.speed}×"),
    "drill.jumped": _l("{actor} moved the drill clock ahead to the next inject"),
    "drill.ended": _l("{actor} ended the drill"),
    "drill.joined": _l("{actor} joined the drill"),
    "drill.left": _l("{actor} left the drill"),
    "drill.inject_fired": _l("Inject {payload.number} to {payload.to}: {payload.message}"),
    "drill.observation": _l("Observation on {payload.player}: {payload.text}"),
    "stock.depot_saved": _l("{actor} saved the depot {payload.code} ({payload.name_zh})"),
    "stock.item_saved": _l("{actor} saved the catalogue item {payload.code} ({payload.name_zh})"),
    "stock.received": _l(
        "{actor} received {payload.quantity} {payload.item} (lot {payload.lot}) "
        "at {payload.depot}"),
    "stock.issued": _l(
        "{actor} issued {payload.quantity} {payload.item} from {payload.depot} "
        "to {payload.destination_ref}"),
    "stock.adjusted": _l(
        "{actor} adjusted {payload.item} (lot {payload.lot}) at {payload.depot} "
        "by {payload.quantity} ({payload.reason})"),
    "stock.counted": _l(
        "{actor} counted {payload.counted} {payload.item} (lot {payload.lot}) at {payload.depot}; "
        "the book said {payload.book}"),
    "stock.transfer_sent": _l(
        "{actor} sent {payload.quantity} {payload.item} from {payload.from_depot} "
        "to {payload.to_depot} (in transit)"),
    "stock.transfer_received": _l(
        "{actor} received the transfer of {payload.quantity} {payload.item} "
        "from {payload.from_depot} at {payload.to_depot}"),
    "stock.target_set": _l(
        "{actor} set the reserve target of {payload.item} at {payload.depot}: "
        "{payload.quantity}{payload.days} ({payload.mode})"),
    "stock.reserved": _l(
        "{actor} reserved {payload.quantity} {payload.item} at {payload.depot} "
        "for {payload.incident_ref}"),
    "stock.reservation_released": _l(
        "{actor} released the reservation of {payload.item} at {payload.depot} "
        "for {payload.incident_ref}"),
    "stock.request_created": _l(
        "{actor} requested stock for {payload.destination_ref} (request {payload.id})"),
    "stock.request_approved": _l(
        "{actor} approved request {payload.id} for {payload.destination_ref} "
        "from {payload.depot}"),
    "stock.request_rejected": _l(
        "{actor} rejected request {payload.id} for {payload.destination_ref}"),
    "stock.request_shipped": _l(
        "{actor} shipped request {payload.id} from {payload.depot} "
        "to {payload.destination_ref}"),
    "stock.request_received": _l(
        "{actor} confirmed receipt of request {payload.id} at {payload.destination_ref}"),
    "stock.imported": _l("{actor} imported {payload.rows} stock rows ({payload.kind}) "
                         "from {payload.filename}"),
    "plan.activated": _l(
        "{actor} activated {payload.title_zh} at level {payload.level} for {payload.subject_ref}"),
    "plan.level_changed": _l(
        "{actor} changed {payload.title_zh} from level {payload.previous} to {payload.level}"),
    "plan.stood_down": _l("{actor} stood down {payload.title_zh} for {payload.subject_ref}"),
    "plan.notified": _l("Agencies notified of {payload.title_zh} (level {payload.level})"),
    # Operational sentences: where, what, which incident, then what happened.
    "incident.reported": _l("{payload.address} {payload.type} #{payload.id}: logged by "
                            "{actor}, {payload.patients} patients"),
    "incident.status_changed": _l(
        "{payload.address} {payload.type} #{payload.id}: {payload.previous} → "
        "{payload.status} ({actor})"),
    "incident.unit_dispatched": _l(
        "{payload.address} {payload.type} #{payload.id}: {payload.unit.call_sign} dispatched "
        "({actor})"),
    "incident.closed_incomplete": _l(
        "{actor} closed incident #{payload.id} with {payload.missing_names} empty: "
        "{payload.reason}"),
    "incident.unit_released": _l(
        "{actor} released {payload.unit.call_sign} from incident #{payload.id}"),
    "incident.clock_set": _l("{actor} set the {payload.clock} time of incident #{payload.id}"),
    "incident.destination_set": _l(
        "{actor} set the destination of incident #{payload.id} to {payload.destination_name}"),
    "incident.patient_registered": _l(
        "{actor} registered patient {payload.tag} ({payload.triage}) at incident #{payload.id}"),
    "incident.patient_retriaged": _l(
        "{actor} re-triaged patient {payload.tag} of incident #{payload.id}: "
        "{payload.previous} → {payload.triage}"),
    "incident.patients_distributed": _l(
        "{actor} distributed {payload.assigned} patients of incident #{payload.id} to "
        "hospitals ({payload.unplaced} without a place)"),
    "incident.patient_destination_set": _l(
        "{actor} sent patient {payload.tag} of incident #{payload.id} to "
        "{payload.destination_name}"),
    "incident.patient_loaded": _l(
        "{actor}: patient {payload.tag} of incident #{payload.id} left in {payload.unit}"),
    "incident.patient_handed_over": _l(
        "{actor}: patient {payload.tag} of incident #{payload.id} handed over at "
        "{payload.destination_name}"),
    "incident.patient_released": _l(
        "{actor} released patient {payload.tag} of incident #{payload.id} at the scene"),
    "incident.condition_set": _l(
        "{actor} set the patient's condition on incident #{payload.id} to {payload.condition}"),
    "incident.case_confirmed": _l("{actor} confirmed the {payload.disease} case of incident "
                                  "#{payload.id}"),
    "incident_report.drafted": _l(
        "{actor} drafted the {payload.kind} of incident #{payload.incident_id} "
        "(version {payload.version})"),
    "incident_report.edited": _l(
        "{actor} edited the {payload.kind} of incident #{payload.incident_id}"),
    "incident_report.reviewed": _l(
        "{actor} reviewed the {payload.kind} of incident #{payload.incident_id}"),
    "incident_report.issued": _l(
        "{actor} issued the {payload.kind} of incident #{payload.incident_id} upward "
        "(version {payload.version})"),
    "incident.case_added": _l("{actor} recorded a case location for incident "
                              "#{payload.incident_id}"),
    "incident.contact_added": _l("{actor} recorded a close contact of incident "
                                 "#{payload.incident_id}"),
    "incident.contact_isolated": _l("{actor} sent a close contact of incident "
                                    "#{payload.incident_id} to {payload.isolation_name}"),
    "incident.contact_released": _l("{actor} released a close contact of incident "
                                    "#{payload.incident_id} from observation"),
    "cap.imported": _l("{actor} imported CAP alert {payload.identifier} from {payload.sender} "
                       "as incident #{payload.id}"),
    "cap.updated": _l("{actor} applied CAP update {payload.identifier} from {payload.sender} "
                      "to incident #{payload.id}"),
    "cap.cancelled": _l("CAP alert {payload.identifier} from {payload.sender} cancelled "
                        "incident #{payload.id}"),
    "cap.unclassified": _l("Incident #{payload.id} ({payload.event}) names no known disease: "
                           "classify it"),
    "roads.imported": _l("{actor} imported the road network {payload.name} "
                         "({payload.segments} lines)"),
    "zone.updated": _l("Epidemic zone #{payload.id} ({payload.disease}) is now version "
                       "{payload.version}: {payload.cases} cases, population "
                       "{payload.zone_population}"),
    "zone.lifted": _l("{actor} lifted epidemic zone #{payload.id} ({payload.disease})"),
    "alert.raised": _l("Alert: {payload.title}"),
    "alert.acknowledged": _l("{actor} acknowledged the alert: {payload.title}"),
    "alert.updated": _l("Alert updated: {payload.title}"),
    "alert.acted": _l("{actor} activated {payload.suggestion.plan_title} at level "
                      "{payload.acted.activated_level} from the alert: {payload.title}"),
}
# Configuration, not operations (roster, accounts, catalogue, loaded layers): the
# command room's feed hides these by default and has a switch to show them.
CONFIG_TYPES = ["roster.", "user.", "token.", "auth.", "areas.loaded", "facilities.loaded",
                "units.loaded", "places.loaded", "roads.imported", "stock.depot_saved",
                "stock.item_saved", "stock.target_set", "stock.imported"]
# Position reports arrive every few seconds per ambulance: the map shows them,
# the feed (a list for people to read) leaves them out.
QUIET = frozenset({"unit.moved"})
FALLBACK = _l("{actor}: {type}")
SCAN_LIMIT = 1000


_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_0-9]+)*)\}")


def describe(message: dict[str, Any]) -> str:
    """One event as the sentence the feed shows (server side: reports, exports).

    Mirrors static/js/feed.js: ``{actor}``, ``{type}`` and ``{payload.x.y}``
    are filled from the event; a missing value shows as an empty string.
    """
    template = str(DESCRIPTIONS.get(message.get("type", ""), FALLBACK))

    def fill(m: re.Match[str]) -> str:
        path = m.group(1).split(".")
        if path == ["actor"]:
            actor = message.get("actor")
            return str(actor.get("name", "") if isinstance(actor, dict) else actor or "")
        cur: Any = message
        parent: Any = None
        for part in path:
            parent = cur
            cur = cur.get(part) if isinstance(cur, dict) else None
        # A value written in both languages (a plan task's title) has its pair beside it
        # as ``<name>_i18n``: the reader's half, not the writer's.
        both = parent.get(f"{path[-1]}_i18n") if isinstance(parent, dict) else None
        if isinstance(both, dict) and {"zh", "en"} <= both.keys():
            cur = both
        if isinstance(cur, dict) and {"zh", "en"} <= cur.keys():
            from .i18n import pick

            return pick(cur)
        if isinstance(cur, str):
            return feed_codes.display(message.get("type", ""), m.group(1), cur,
                                      context=message.get("context"))
        return "" if cur is None else str(cur)

    return _PLACEHOLDER.sub(fill, template)


def descriptions() -> dict[str, str]:
    return {k: str(v) for k, v in DESCRIPTIONS.items()} | {"*": str(FALLBACK)}


def _timezone() -> str:
    settings = runtime.settings()
    if settings is None:
        raise RuntimeError("the feed is built inside the app (create_app installs its settings)")
    return settings.timezone


def feed_bootstrap(principal: Principal, *, context: str = LIVE, limit: int = 30) -> dict[str, Any]:
    """The newest events the principal may see, oldest first, and the head seq."""
    with db.reading() as s:
        head = events.head(s, context)
        rows = s.scalars(
            select(Event)
            .where(Event.context == context, Event.seq <= head, Event.type.notin_(QUIET))
            .order_by(Event.seq.desc())
            .limit(SCAN_LIMIT)
        )
        seen = [e.as_message() for e in rows if can_see(principal, e.audience)][:limit]
    seen.reverse()
    return {
        "context": context,
        "head": head,
        "events": seen,
        "descriptions": descriptions(),
        "quiet": sorted(QUIET),
        "config": CONFIG_TYPES,
        "codes": feed_codes.bootstrap(context),
        "timezone": _timezone(),
        "labels": {
            "live": _("Live"),
            "delayed": _("Live, delayed: the server is busy"),
            "connecting": _("Connecting…"),
            "reconnecting": _("Connection lost, reconnecting…"),
            "offline": _("Connection lost"),
        },
    }
