"""The JSON API of epidemic zones (疫点/疫区).

    GET  /api/zones                     zones of the live context, newest first
    GET  /api/zones/<id>[?version=n]    one zone at a version, with places and facilities
    GET  /api/zones/<id>.geojson        the same as GeoJSON (QGIS loads it as is)
    POST /api/zones/refresh             {"disease": "plague"}: follow the confirmed cases
    POST /api/zones/<id>/recompute      a new version with the same cases
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _

from ..auth.roles import Permission
from ..errors import ValidationFailed
from ..incidents import zones
from .access import api, principal
from .api import int_arg as _int_arg
from .context import current_context
from .jsonbody import optional_object

bp = Blueprint("zone_api", __name__, url_prefix="/api")


def _version() -> int | None:
    return _int_arg("version", 0, lo=1, hi=1_000_000) if request.args.get("version") else None


@bp.route("/zones")
@api(Permission.VIEW_INCIDENTS)
def list_zones() -> Any:
    return jsonify({"zones": zones.list_zones(context=current_context())})


@bp.route("/zones/<int:zone_id>")
@api(Permission.VIEW_INCIDENTS)
def zone(zone_id: int) -> Any:
    return jsonify(zones.get_zone(context=current_context(), zone_id=zone_id, version=_version()))


@bp.route("/zones/<int:zone_id>.geojson")
@api(Permission.VIEW_INCIDENTS)
def zone_geojson(zone_id: int) -> Response:
    resp = jsonify(zones.zone_geojson(context=current_context(),
                                      zone_id=zone_id, version=_version()))
    resp.mimetype = "application/geo+json"
    resp.headers["Content-Disposition"] = f'inline; filename="zone-{zone_id}.geojson"'
    return resp


@bp.route("/zones/refresh", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def refresh() -> Any:
    disease = optional_object().get("disease")
    if not isinstance(disease, str) or not disease.strip():
        raise ValidationFailed(_("Name the disease, e.g. {\"disease\": \"plague\"}."))
    return jsonify({"changed": zones.refresh_zones(context=current_context(),
                                                   disease=disease.strip(),
                                                   actor=principal().actor)})


@bp.route("/zones/<int:zone_id>/recompute", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def recompute(zone_id: int) -> Any:
    return jsonify(zones.recompute_zone(context=current_context(),
                                        zone_id=zone_id, actor=principal().actor)), 201
