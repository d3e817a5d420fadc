"""The live event feed a page starts from, and how each event type reads.

A page renders the newest events it may see and hands the client the head
sequence number; from then on the socket client keeps the feed current and
replays anything it missed. Descriptions are translated here, on the server,
and filled in by the client with text, never HTML.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import events
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
    "units.loaded": _l("{actor} added {payload.count} units"),
    "unit.status_changed": _l(
        "{actor}: {payload.call_sign} changed status from {payload.previous} to {payload.status}"),
    "unit.moved": _l("{payload.count} units moved"),
    "places.loaded": _l("{actor} loaded {payload.count} populated places"),
    "incident.reported": _l("{actor} logged incident #{payload.id}: {payload.type}, "
                            "{payload.patients} patients"),
    "incident.status_changed": _l(
        "{actor}: incident #{payload.id} changed from {payload.previous} to {payload.status}"),
    "incident.unit_dispatched": _l(
        "{actor} dispatched {payload.unit.call_sign} to incident #{payload.id}"),
    "incident.unit_released": _l(
        "{actor} released {payload.unit.call_sign} from incident #{payload.id}"),
    "incident.clock_set": _l("{actor} set the {payload.clock} time of incident #{payload.id}"),
    "incident.destination_set": _l(
        "{actor} set the destination of incident #{payload.id} to {payload.destination_name}"),
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
    "roads.imported": _l("{actor} imported the road network {payload.name} "
                         "({payload.segments} lines)"),
    "zone.updated": _l("Epidemic zone #{payload.id} ({payload.disease}) is now version "
                       "{payload.version}: {payload.cases} cases, population "
                       "{payload.zone_population}"),
    "zone.lifted": _l("{actor} lifted epidemic zone #{payload.id} ({payload.disease})"),
}
# Position reports arrive every few seconds per ambulance: the map shows them,
# the feed (a list for people to read) leaves them out.
QUIET = frozenset({"unit.moved"})
FALLBACK = _l("{actor}: {type}")
SCAN_LIMIT = 1000


def descriptions() -> dict[str, str]:
    return {k: str(v) for k, v in DESCRIPTIONS.items()} | {"*": str(FALLBACK)}


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
        "timezone": current_app.config["COORDINATION"].timezone,
        "labels": {
            "live": _("Live"),
            "connecting": _("Connecting…"),
            "reconnecting": _("Connection lost, reconnecting…"),
            "offline": _("Connection lost"),
        },
    }
