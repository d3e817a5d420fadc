"""The JSON API of incidents: log, list, read, change status, dispatch, clocks, contacts.

Thin: each route parses input, calls one service function and returns its
result. Integrations post incidents with an operator API token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..auth.roles import Permission
from ..facilities.capabilities import Condition
from ..incidents import recommend
from ..incidents import service as incidents
from ..incidents.schemas import (
    CaseIn,
    ClockIn,
    ConditionIn,
    ContactIn,
    DestinationIn,
    DispatchIn,
    IncidentIn,
    IsolateIn,
    StatusChangeIn,
)
from .access import api, principal
from .api import int_arg as _int_arg
from .context import current_context
from .jsonbody import body as _body
from .jsonbody import optional_object
from .params import enum_arg, query_model

bp = Blueprint("incident_api", __name__, url_prefix="/api")


def board_query() -> incidents.BoardQuery:
    return query_model(incidents.BoardQuery)


@bp.route("/incidents")
@api(Permission.VIEW_INCIDENTS)
def list_incidents() -> Any:
    """Open incidents by priority and age, one page at a time (``page``, ``per_page`` up to
    500); filters ``status``, ``type``, ``disease``, ``priority``; ``sort``;
    ``?all=1`` includes closed and cancelled."""
    return jsonify(incidents.page_incidents(context=current_context(), query=board_query()))


@bp.route("/incidents", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def create_incident() -> Any:
    body = incidents.create_incident(context=current_context(),
                                     data=_body(IncidentIn), actor=principal().actor)
    return jsonify(body), 201


@bp.route("/incident-places")
@api(Permission.VIEW_INCIDENTS)
def incident_places() -> Any:
    """Facilities and populated places the logging form offers to pick."""
    return jsonify({"places": incidents.location_choices(context=current_context())})


@bp.route("/map/incidents")
@api(Permission.VIEW_INCIDENTS)
def incidents_layer() -> Any:
    return jsonify(incidents.incidents_geojson(context=current_context()))


@bp.route("/incidents/<int:incident_id>")
@api(Permission.VIEW_INCIDENTS)
def incident(incident_id: int) -> Any:
    return jsonify(incidents.get_incident(context=current_context(), incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/timeline")
@api(Permission.VIEW_INCIDENTS)
def timeline(incident_id: int) -> Any:
    """The latest page of the incident's events; ``?before=<seq>`` for the page before it."""
    before = _int_arg("before", 0, lo=0, hi=2**31 - 1) or None
    limit = _int_arg("limit", 200, lo=1, hi=1000)
    return jsonify(incidents.timeline_window(context=current_context(), incident_id=incident_id,
                                             before=before, limit=limit))


@bp.route("/incidents/<int:incident_id>/recommendation")
@api(Permission.VIEW_INCIDENTS)
def recommendation(incident_id: int) -> Any:
    """``?condition=stroke`` previews the capable centres for a condition not yet recorded."""
    limit = _int_arg("limit", 5, lo=1, hi=50)
    condition = enum_arg("condition", Condition)
    return jsonify(recommend.recommend(context=current_context(),
                                       incident_id=incident_id, limit=limit,
                                       condition=condition.value if condition else None))


@bp.route("/incidents/<int:incident_id>/condition", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def set_condition(incident_id: int) -> Any:
    return jsonify(incidents.set_condition(context=current_context(), incident_id=incident_id,
                                           data=_body(ConditionIn), actor=principal().actor))


@bp.route("/incidents/<int:incident_id>/status", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def change_status(incident_id: int) -> Any:
    return jsonify(incidents.change_status(context=current_context(),
                                           incident_id=incident_id, data=_body(StatusChangeIn),
                                           actor=principal().actor))


@bp.route("/incidents/<int:incident_id>/dispatch", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def dispatch(incident_id: int) -> Any:
    body = incidents.dispatch_unit(context=current_context(),
                                   incident_id=incident_id, data=_body(DispatchIn),
                                   actor=principal().actor)
    return jsonify(body), 201


@bp.route("/incidents/<int:incident_id>/units/<int:unit_id>/release", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def release_unit(incident_id: int, unit_id: int) -> Any:
    note = str(optional_object().get("note", ""))[:1000]
    return jsonify(incidents.release_unit(context=current_context(),
                                          incident_id=incident_id, unit_id=unit_id,
                                          actor=principal().actor, note=note))


@bp.route("/incidents/<int:incident_id>/clocks", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def set_clock(incident_id: int) -> Any:
    return jsonify(incidents.set_clock(context=current_context(),
                                       incident_id=incident_id, data=_body(ClockIn),
                                       actor=principal().actor))


@bp.route("/incidents/<int:incident_id>/destination", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def set_destination(incident_id: int) -> Any:
    return jsonify(incidents.set_destination(context=current_context(), incident_id=incident_id,
                                             data=_body(DestinationIn),
                                             actor=principal().actor))


@bp.route("/incidents/<int:incident_id>/cases", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def add_case(incident_id: int) -> Any:
    body = incidents.record_case(context=current_context(),
                                 incident_id=incident_id, data=_body(CaseIn),
                              actor=principal().actor)
    return jsonify(body), 201


@bp.route("/incidents/<int:incident_id>/contacts", methods=["POST"])
@api(Permission.MANAGE_CONTACTS)
def add_contact(incident_id: int) -> Any:
    body = incidents.add_contact(context=current_context(),
                                 incident_id=incident_id, data=_body(ContactIn),
                                 actor=principal().actor)
    return jsonify(body), 201


@bp.route("/contacts")
@api(Permission.VIEW_INCIDENTS)
def contacts() -> Any:
    """Contacts under observation, ID numbers masked."""
    return jsonify({"contacts": incidents.list_contacts(context=current_context())})


@bp.route("/contacts/<int:contact_id>")
@api(Permission.VIEW_CONTACTS)
def contact(contact_id: int) -> Any:
    """The contact's own record: the one view with the full ID number."""
    return jsonify(incidents.get_contact(context=current_context(), contact_id=contact_id))


@bp.route("/contacts/<int:contact_id>/isolation-points")
@api(Permission.VIEW_INCIDENTS)
def isolation_points(contact_id: int) -> Any:
    return jsonify({"suggestions": incidents.suggest_isolation(context=current_context(),
                                                               contact_id=contact_id)})


@bp.route("/contacts/<int:contact_id>/isolate", methods=["POST"])
@api(Permission.MANAGE_CONTACTS)
def isolate(contact_id: int) -> Any:
    return jsonify(incidents.isolate_contact(context=current_context(),
                                             contact_id=contact_id, data=_body(IsolateIn),
                                             actor=principal().actor))


@bp.route("/contacts/<int:contact_id>/release", methods=["POST"])
@api(Permission.MANAGE_CONTACTS)
def release_contact(contact_id: int) -> Any:
    return jsonify(incidents.release_contact(context=current_context(),
                                             contact_id=contact_id, actor=principal().actor))
