"""Pages of epidemic zones: the list (with "follow the confirmed cases") and one zone's map."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from ..auth.roles import Permission
from ..errors import CoordinationError
from ..facilities.models import KIND_LABELS
from ..geo import epidemic
from ..geo.places import PLACE_LABELS
from ..incidents import diseases, zones
from ..maps.zonemap import build_zone_map
from .access import page, principal
from .api import int_arg as _int_arg
from .context import current_context

bp = Blueprint("zone_pages", __name__)


def _labels() -> dict[str, Any]:
    return {"diseases": diseases.labels(),
            "places": {k.value: str(v) for k, v in PLACE_LABELS.items()},
            "facilities": {k.value: str(v) for k, v in KIND_LABELS.items()}}


@bp.route("/zones")
@page(Permission.VIEW_INCIDENTS)
def index() -> str:
    return render_template("zones/index.html", zones=zones.list_zones(context=current_context()),
                           labels=_labels(),
                           ruled=sorted(epidemic.default_rules()))


@bp.route("/zones/refresh", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def refresh() -> Response:
    try:
        changed = zones.refresh_zones(context=current_context(),
                                      disease=request.form.get("disease", ""),
                                      actor=principal().actor)
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(ngettext("%(num)s zone updated.", "%(num)s zones updated.", len(changed))
              if changed else _("The zones already follow every confirmed case."), "info")
    return redirect(url_for("zone_pages.index"))


@bp.route("/zones/<int:zone_id>")
@page(Permission.VIEW_INCIDENTS)
def detail(zone_id: int) -> str:
    version = _int_arg("version", 0, lo=1, hi=1_000_000) if request.args.get("version") else None
    zone = zones.get_zone(context=current_context(), zone_id=zone_id, version=version)
    settings = current_app.config["COORDINATION"]
    parts = build_zone_map(zone, nonce=g.get("csp_nonce", ""), tile_url=settings.map_tile_url,
                           attribution=settings.map_tile_attribution)
    return render_template("zones/detail.html", zone=zone, parts=parts, labels=_labels())
