"""The planners' coverage view (/coverage) and its GeoJSON export.

Thin: parse the what-if radii from the query string, compute one report,
render it. ``?radius_<kind>=<km>`` changes a kind's radius for this view only
(0 leaves the kind out); the export takes the same parameters, so what a
planner sees is what they download.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_babel import format_percent, get_locale

from ..auth.roles import Permission
from ..coverage import service as coverage
from ..coverage.mapview import build_coverage_map
from ..coverage.radii import QUERY_PREFIX, with_overrides
from ..facilities.models import KIND_LABELS, FacilityKind
from ..geo.places import PLACE_LABELS
from .access import api, page
from .params import flag_arg

bp = Blueprint("coverage", __name__)
# Kinds a planner can give a radius to on the page (others via the query string).
FORM_KINDS = (FacilityKind.TOWNSHIP_HEALTH_CENTRE, FacilityKind.EMS_STATION)
LARGEST_UNCOVERED = 50


def _radii() -> dict[str, float]:
    return with_overrides(current_app.config["COORDINATION"].coverage_radius_km, request.args)


def _share(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


@bp.route("/coverage")
@page(Permission.VIEW_COVERAGE)
def index() -> str:
    radii = _radii()
    report = coverage.compute_report(radii_km=radii)
    settings = current_app.config["COORDINATION"]
    locale = str(get_locale() or "zh_CN")
    view = build_coverage_map(report, nonce=g.get("csp_nonce", ""),
                              tile_url=settings.map_tile_url,
                              attribution=settings.map_tile_attribution, locale=locale)
    kinds = list(dict.fromkeys([*FORM_KINDS, *(FacilityKind(k) for k in radii)]))
    return render_template(
        "coverage/index.html", report=report, summary=coverage.summary(report), view=view,
        radii=radii, configured=settings.coverage_radius_km, kinds=kinds,
        kind_labels={k.value: str(v) for k, v in KIND_LABELS.items()},
        place_labels={k.value: str(v) for k, v in PLACE_LABELS.items()},
        largest=coverage.largest_uncovered(report, LARGEST_UNCOVERED), share=_share,
        prefix=QUERY_PREFIX,
        paper="a3" if request.args.get("paper") == "a3" else "a4",
        query={k: v for k, v in request.args.items() if k.startswith(QUERY_PREFIX)},
    )


@bp.route("/api/coverage.geojson")
@api(Permission.VIEW_COVERAGE)
def geojson() -> Any:
    report = coverage.compute_report(radii_km=_radii())
    with_circles = flag_arg("circles")
    resp = jsonify(coverage.coverage_geojson(report, with_circles=with_circles))
    resp.mimetype = "application/geo+json"
    if flag_arg("download"):
        stamp = report.at.strftime("%Y%m%d-%H%M")
        resp.headers["Content-Disposition"] = f'attachment; filename="coverage-{stamp}.geojson"'
    return resp
