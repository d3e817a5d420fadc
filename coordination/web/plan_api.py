"""The plans JSON API (``/api/plans``): thin — parse, call one service, return its result.

Every route takes an optional ``?context=`` so a trainer's drill runs the same
calls against its own context and clock.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import ValidationFailed
from ..major_events import cover, venues
from ..major_events import sitrep as plan_sitrep
from ..plans import readiness as plan_readiness
from ..plans import service as plans
from ..plans.schema import Level
from ..plans.schemas import ActivationIn, LevelChangeIn, StandDownIn
from .access import api, principal
from .context import current_context as _context  # the one resolver, never ?context=
from .jsonbody import body as _body
from .params import flag_arg

bp = Blueprint("plan_api", __name__, url_prefix="/api/plans")



@bp.route("")
@api(Permission.VIEW_PLANS)
def index() -> Any:
    body = plans.plans_overview(context=_context())
    if not allowed(principal(), Permission.VIEW_PLAN_ERRORS):
        body.pop("invalid")
    return jsonify(body)


@bp.route("/readiness")
@api(Permission.VIEW_READINESS)
def readiness() -> Any:
    return jsonify(plan_readiness.readiness(context=_context()))


@bp.route("/events")
@api(Permission.VIEW_PLANS)
def events() -> Any:
    body = cover.events_overview()
    if not allowed(principal(), Permission.VIEW_PLAN_ERRORS):
        body.pop("invalid")
    return jsonify(body)


@bp.route("/events/<event_id>")
@api(Permission.VIEW_PLANS)
def event(event_id: str) -> Any:
    return jsonify(cover.event_view(event_id))


@bp.route("/events/<event_id>.geojson")
@api(Permission.VIEW_PLANS)
def event_geojson(event_id: str) -> Any:
    body = jsonify(venues.event_geojson(event_id))
    body.mimetype = "application/geo+json"
    return body


@bp.route("/events/<event_id>/sitrep")
@api(Permission.VIEW_INCIDENTS)
def sitrep(event_id: str) -> Any:
    return jsonify(plan_sitrep.sitrep(event_id=event_id, context=_context(),
                                      day=plan_sitrep.parse_day(request.args.get("date"))))


@bp.route("/venues.geojson")
@api(Permission.VIEW_MAP)
def venues_layer() -> Any:
    """The live map's venues layer: events in progress now on the context's clock."""
    body = jsonify(venues.live_layer(context=_context(), all_events=flag_arg("all")))
    body.mimetype = "application/geo+json"
    return body


@bp.route("/activations/<int:activation_id>")
@api(Permission.VIEW_PLANS)
def activation(activation_id: int) -> Any:
    return jsonify(plans.activation_view(activation_id=activation_id, context=_context()))


@bp.route("/activations/<int:activation_id>/level", methods=["POST"])
@api(Permission.ACTIVATE_PLANS)
def change_level(activation_id: int) -> Any:
    return jsonify(plans.change_level(activation_id=activation_id, data=_body(LevelChangeIn),
                                      actor=principal().actor, context=_context()))


@bp.route("/activations/<int:activation_id>/stand-down", methods=["POST"])
@api(Permission.ACTIVATE_PLANS)
def stand_down(activation_id: int) -> Any:
    return jsonify(plans.stand_down(activation_id=activation_id, data=_body(StandDownIn),
                                    actor=principal().actor, context=_context()))


@bp.route("/<plan_id>")
@api(Permission.VIEW_PLANS)
def plan(plan_id: str) -> Any:
    return jsonify(plans.plan_detail(plan_id=plan_id, context=_context()))


@bp.route("/<plan_id>/recipients")
@api(Permission.ACTIVATE_PLANS)
def recipients(plan_id: str) -> Any:
    """Who each task would reach if the plan were activated now at ``?level=``."""
    try:
        level = Level(request.args.get("level", ""))
    except ValueError:
        raise ValidationFailed(_("Give a response level: I, II, III or IV.")) from None
    return jsonify(plans.recipients_preview(plan_id=plan_id, level=level, context=_context()))


@bp.route("/<plan_id>/activate", methods=["POST"])
@api(Permission.ACTIVATE_PLANS)
def activate(plan_id: str) -> Any:
    body = plans.activate_plan(plan_id=plan_id, data=_body(ActivationIn),
                               actor=principal().actor, context=_context())
    return jsonify(body), 201
