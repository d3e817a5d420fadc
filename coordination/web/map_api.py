"""The JSON API of the live map: GeoJSON layers, capacity reports, positions, unit detail.

Thin: each route parses input, calls one service function and returns its
result. Large layers travel as GeoJSON from here, never inline in the page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from flask_babel import gettext as _

from ..auth.roles import Permission
from ..config import Settings
from ..errors import ValidationFailed
from ..facilities import service as facilities
from ..facilities.capabilities import CapabilitiesIn
from ..facilities.models import FacilityKind
from ..facilities.schemas import CapacityReportIn
from ..geo import places
from ..geo.places import PlaceKind
from ..units import service as units
from ..units.schemas import PositionBatch, PositionIn, StatusIn
from .access import api, principal
from .api import int_arg as _int_arg
from .compress import gzip_json
from .context import current_context
from .jsonbody import body as _body
from .jsonbody import json_object as _json_object
from .jsonbody import validated as _validated
from .params import enum_arg, flag_arg

bp = Blueprint("map_api", __name__, url_prefix="/api")


@bp.after_request
def _compress(resp: Response) -> Response:
    # Level 1: half of level 5's CPU on the 5 MB facilities layer for ~15% more bytes.
    return gzip_json(resp, level=1)


def _settings() -> Settings:
    return current_app.config["COORDINATION"]


@bp.route("/map/facilities")
@api(Permission.VIEW_MAP)
def facilities_layer() -> Any:
    return jsonify(facilities.facilities_geojson(
        stale_after=_settings().facility_stale_after, kind=enum_arg("kind", FacilityKind),
        context=current_context()))


@bp.route("/map/units")
@api(Permission.VIEW_MAP)
def units_layer() -> Any:
    return jsonify(units.units_geojson(context=current_context()))


@bp.route("/map/places")
@api(Permission.VIEW_MAP)
def places_layer() -> Any:
    points = flag_arg("points")
    return jsonify(places.places_geojson(kind=enum_arg("kind", PlaceKind), points_only=points))


@bp.route("/facilities/<int:facility_id>")
@api(Permission.VIEW_MAP)
def facility(facility_id: int) -> Any:
    limit = _int_arg("history", 20, lo=0, hi=500)
    return jsonify(facilities.get_facility(
        facility_id=facility_id, stale_after=_settings().facility_stale_after, history=limit,
        context=current_context()))


@bp.route("/facilities/<int:facility_id>/capacity", methods=["POST"])
@api(Permission.REPORT_CAPACITY)
def report_capacity(facility_id: int) -> Any:
    body = facilities.report_capacity(
        facility_id=facility_id, data=_body(CapacityReportIn), actor=principal().actor,
        context=current_context())
    return jsonify(body), 201


@bp.route("/facilities/<int:facility_id>/capabilities", methods=["POST"])
@api(Permission.REPORT_CAPACITY)
def set_capabilities(facility_id: int) -> Any:
    """The full set of services provided and which are available now (whoever reports beds)."""
    return jsonify(facilities.set_capabilities(
        facility_id=facility_id, data=_body(CapabilitiesIn), actor=principal().actor,
        context=current_context()))


@bp.route("/units/<int:unit_id>")
@api(Permission.VIEW_MAP)
def unit(unit_id: int) -> Any:
    minutes = _int_arg("minutes", 60, lo=1, hi=24 * 60)
    return jsonify(units.unit_detail(unit_id=unit_id, minutes=minutes,
                                      context=current_context()))


@bp.route("/units/<int:unit_id>/status", methods=["POST"])
@api(Permission.UPDATE_UNIT_STATUS)
def unit_status(unit_id: int) -> Any:
    return jsonify(units.set_status(unit_id=unit_id, data=_body(StatusIn),
                                    actor=principal().actor, context=current_context()))


@bp.route("/units/<int:unit_id>/positions", methods=["POST"])
@api(Permission.REPORT_POSITIONS)
def unit_positions(unit_id: int) -> Any:
    """One fix (``{"lon", "lat", "at"}``) or a batch (``{"positions": [...]}``) of one unit."""
    data = _json_object()
    raw = data.get("positions") if "positions" in data else [data]
    if not isinstance(raw, list):
        raise ValidationFailed(_("positions must be a list."))
    items = [dict(p, unit=unit_id) if isinstance(p, dict) else p for p in raw]
    batch = _validated(PositionBatch, {"positions": items})
    result = units.record_positions(reports=batch.positions, actor=principal().actor,
                                    region=_settings().region, context=current_context())
    return jsonify(result), 201


@bp.route("/positions", methods=["POST"])
@api(Permission.REPORT_POSITIONS)
def positions() -> Any:
    """A tracker's batch (``{"positions": [{"unit", "lon", "lat", "at"}, ...]}``) or one fix."""
    data = _json_object()
    if "positions" in data:
        reports = _validated(PositionBatch, data).positions
    else:
        one = _validated(PositionIn, data)
        reports = _validated(PositionBatch, {"positions": [one.model_dump()]}).positions
    result = units.record_positions(reports=reports, actor=principal().actor,
                                    region=_settings().region, context=current_context())
    return jsonify(result), 201
