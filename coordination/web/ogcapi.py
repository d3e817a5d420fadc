"""OGC API – Features endpoints for QGIS and other desktop GIS (read-only).

Base URL: ``/api/ogc`` (give QGIS exactly that; it appends ``/collections``
and the collection id itself). Living under ``/api`` makes these JSON routes
like the others: a session, ``Authorization: Bearer <token>``, or the token as
the password of HTTP Basic authentication with any user name (QGIS cannot fill
in a login form; QGIS 3.22 has no "API Header" method, Basic it has), a 401
with its ``WWW-Authenticate`` challenges,
JSON errors, and the access test's API expectations. Reading them needs the
same permission as the live map's layers (``map.view``); a read-only token for
a GIS officer: ``coordination create-token qgis --role trainer``.

Routes only parse and render; ``coordination.geo.ogc`` builds every document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.json import dumps

from ..auth.roles import Permission
from ..config import Settings
from ..geo import ogc
from .access import api
from .compress import gzip_json

bp = Blueprint("ogcapi", __name__, url_prefix="/api/ogc")


@bp.after_request
def _compress(resp: Response) -> Response:
    """Pages of thousands of features shrink tenfold; GDAL and QGIS accept gzip."""
    return gzip_json(resp, level=5)


def _settings() -> Settings:
    return current_app.config["COORDINATION"]


def _base() -> str:
    """The service's absolute base URL (behind proxies: ProxyFix sets the host)."""
    return request.url_root.rstrip("/") + str(bp.url_prefix)


def _json(body: dict[str, Any], mimetype: str = ogc.JSON) -> Response:
    return Response(dumps(body, ensure_ascii=False), mimetype=mimetype)


def _format() -> None:
    ogc.check_format(request.args.get("f"))


@bp.route("/")
@bp.route("")
@api(Permission.VIEW_MAP)
def landing() -> Response:
    _format()
    return _json(ogc.landing(_base()))


@bp.route("/conformance")
@api(Permission.VIEW_MAP)
def conformance() -> Response:
    _format()
    return _json(ogc.conformance())


@bp.route("/api")
@api(Permission.VIEW_MAP)
def openapi() -> Response:
    return _json(ogc.openapi(_base()), ogc.OPENAPI)


@bp.route("/doc")
@api(Permission.VIEW_MAP)
def doc() -> str:
    return render_template("ogcapi/doc.html", **ogc.doc_page(_base()))


@bp.route("/collections")
@api(Permission.VIEW_MAP)
def collections() -> Response:
    _format()
    return _json(ogc.collections_document(_base(), _settings().region))


@bp.route("/collections/<collection_id>")
@api(Permission.VIEW_MAP)
def collection(collection_id: str) -> Response:
    _format()
    return _json(ogc.collection_document(_base(), collection_id, _settings().region))


@bp.route("/collections/<collection_id>/items")
@api(Permission.VIEW_MAP)
def items(collection_id: str) -> Response:
    query = ogc.parse_item_query(request.args.to_dict())
    return _json(ogc.items_document(
        _base(), collection_id, query, stale_after=_settings().facility_stale_after,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    ), ogc.GEOJSON)


@bp.route("/collections/<collection_id>/items/<feature_id>")
@api(Permission.VIEW_MAP)
def item(collection_id: str, feature_id: str) -> Response:
    _format()
    return _json(ogc.item_document(_base(), collection_id, feature_id,
                                   stale_after=_settings().facility_stale_after), ogc.GEOJSON)
