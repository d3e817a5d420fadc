"""GIS layers: the upload page, the import API and the GeoJSON download of every layer.

Thin: each route reads the upload and the options, calls one service function
and renders its summary or its list of bad rows (422, nothing written).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..extensions import csrf
from ..facilities.models import KIND_LABELS
from ..geo import layer_export
from ..geo import layers as service
from ..geo.layer_files import MAX_LAYER_BYTES, LayerTooLarge
from .access import api, page, principal
from .params import flag_arg

pages_bp = Blueprint("layers", __name__)
api_bp = Blueprint("layers_api", __name__, url_prefix="/api/layers")


def register(app: Flask) -> None:
    """Called once from web/setup.py; the JSON API checks CSRF itself (access.api)."""
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)


def _upload() -> tuple[bytes, str]:
    upload: FileStorage | None = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choose a file to import."))
    content = upload.stream.read(MAX_LAYER_BYTES + 1)
    if len(content) > MAX_LAYER_BYTES:
        raise LayerTooLarge(_("The file is larger than %(mb)d MB.",
                              mb=MAX_LAYER_BYTES // (1024 * 1024)))
    return content, upload.filename


def _source() -> service.Source:
    """``crs`` (wgs84, gcj02, bd09), or the older ``gcj02`` flag; anything else is a 400."""
    crs = request.form.get("crs", "").strip().lower()
    if not crs:
        return service.Source.GCJ02 if flag_arg("gcj02", form=True) else service.Source.WGS84
    try:
        return service.Source(crs)
    except ValueError:
        raise ValidationFailed(_("Unknown coordinate system %(crs)s: use wgs84, gcj02 or bd09.",
                                 crs=crs)) from None


def _run(kind: str, *, dry_run: bool) -> dict[str, Any]:
    content, filename = _upload()
    source = _source()
    return service.import_layer(
        content=content, filename=filename, kind=kind, actor=principal().actor,
        region=current_app.config["COORDINATION"].region, source=source, dry_run=dry_run)


def _kind_labels() -> dict[str, str]:
    labels = {str(k): str(v) for k, v in KIND_LABELS.items()}
    labels[service.PLACES] = _("Populated places (villages, schools, offices, mines)")
    labels[service.UNITS] = _("Ambulances (export only)")
    return labels


@pages_bp.route("/layers", methods=["GET", "POST"])
@page(Permission.IMPORT_LAYERS)
def upload() -> tuple[str, int]:
    """The form; a POST previews (``preview=1``, the form's first button, so Enter only
    checks) or imports, and shows the summary or the table of bad rows."""
    result, problems, error, status = None, None, None, 200
    chosen = request.form.get("kind", "")
    if request.method == "POST":
        try:
            result = _run(chosen, dry_run=flag_arg("preview", form=True))
            status = 200 if result["dry_run"] else 201
        except CoordinationError as exc:
            error, problems, status = str(exc.message), exc.details, exc.status
    return render_template(
        "layers/import.html", importable=service.importable_kinds(),
        exportable=service.exportable_kinds(), labels=_kind_labels(), chosen=chosen,
        crs=(request.form.get("crs") or ("gcj02" if flag_arg("gcj02", form=True) else "wgs84")),
        result=result, problems=problems, error=error,
        max_mb=MAX_LAYER_BYTES // (1024 * 1024),
    ), status


@api_bp.route("/<kind>", methods=["POST"])
@api(Permission.IMPORT_LAYERS)
def import_file(kind: str) -> Any:
    """Multipart: ``file``; optional ``crs`` (wgs84, gcj02, bd09; or the flag ``gcj02``)
    and ``dry_run`` (1/true). 201, or 422 + details."""
    result = _run(kind, dry_run=flag_arg("dry_run", form=True))
    return jsonify(result), 200 if result["dry_run"] else 201


@api_bp.route("/<kind>.geojson")
@api(Permission.VIEW_MAP)
def export(kind: str) -> Response:
    body = layer_export.export_layer(kind=kind)
    resp = jsonify(body)
    resp.mimetype = "application/geo+json"
    resp.headers["Content-Disposition"] = f"attachment; filename={kind}.geojson"
    return resp
