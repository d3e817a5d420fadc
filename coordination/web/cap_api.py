"""CAP 1.2 over HTTP: import an alert as an incident, export an incident as an alert.

    POST /api/incidents/cap          body: the alert's XML (any XML content type); msgType
                                     Alert creates (201), Update/Cancel apply (200)
    GET  /api/incidents/<id>/cap     application/cap+xml, validates against the OASIS XSD

Thin: each route reads the body or the id, calls one service function and
returns its result; a bad alert is a 400 listing every reason (``details``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..auth.roles import Permission
from ..incidents import cap_service
from .access import api, principal
from .context import current_context

bp = Blueprint("cap_api", __name__, url_prefix="/api")
CAP_MIMETYPE = "application/cap+xml"


@bp.route("/incidents/cap", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def import_cap() -> Any:
    body = cap_service.import_cap(context=current_context(), data=request.get_data(cache=False),
                                  actor=principal().actor)
    return jsonify(body), 201 if body["cap"]["action"] == "created" else 200


@bp.route("/incidents/<int:incident_id>/cap")
@api(Permission.VIEW_INCIDENTS)
def export_cap(incident_id: int) -> Response:
    xml = cap_service.export_cap(context=current_context(), incident_id=incident_id)
    return Response(xml, mimetype=CAP_MIMETYPE, headers={
        "Content-Disposition": f'inline; filename="incident-{incident_id}.cap.xml"'})
