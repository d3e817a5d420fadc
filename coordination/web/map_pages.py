"""Pages of facilities and the live map frame the command room embeds.

The capacity page is deliberately plain (a form per facility) so staff of a
township health centre can report from a phone; integrations use the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth.identity import current_principal
from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..facilities import service as facilities
from ..facilities.capabilities import (
    TRAUMA_LEVELS,
    CapabilitiesIn,
    Capability,
    CapabilityState,
)
from ..facilities.capabilities import labels as capability_labels
from ..facilities.models import BED_LABELS, KIND_LABELS, STATUS_LABELS, BedKind, FacilityStatus
from ..facilities.schemas import Beds, CapacityReportIn
from ..geo import service as geo
from ..maps.livemap import LiveMap, build_live_map
from .access import page, principal
from .context import current_context

bp = Blueprint("map_pages", __name__)


@bp.app_template_global("live_map")
def live_map() -> LiveMap:
    """The ops page's map; a template global so the page view stays as it is.

    Built once per request (cached on ``g``): the page places its head, body
    and script parts in three different template blocks.
    """
    cached = g.get("_live_map")
    if cached is not None:
        return cached
    settings = current_app.config["COORDINATION"]
    seats = [(a.seat_lat, a.seat_lon) for a in geo.list_areas()]
    bounds = None
    if seats:
        lats, lons = [s[0] for s in seats], [s[1] for s in seats]
        bounds = [[min(lats) - 0.3, min(lons) - 0.3], [max(lats) + 0.3, max(lons) + 0.3]]
    g._live_map = build_live_map(
        nonce=g.get("csp_nonce", ""), tile_url=settings.map_tile_url,
        attribution=settings.map_tile_attribution, bounds=bounds,
        stale_after_seconds=int(settings.facility_stale_after.total_seconds()),
        can_report=allowed(current_principal(), Permission.REPORT_CAPACITY),
        urls={
            "facilities": url_for("map_api.facilities_layer"),
            "units": url_for("map_api.units_layer"),
            "places": url_for("map_api.places_layer"),
            "areas": url_for("api.areas", boundaries=1),
            "unit": url_for("map_api.unit", unit_id=0).replace("/0", "/{id}"),
            "report": url_for("map_pages.report", facility_id=0).replace("/0/", "/{id}/"),
            "depots": url_for("stock_api.depot_map"),
            "depot_page": url_for("stock_pages.depot", code="CODE").replace("CODE", "{code}"),
        },
    )
    return g._live_map


@bp.route("/facilities")
@page(Permission.VIEW_MAP)
def index() -> str:
    settings = current_app.config["COORDINATION"]
    geo_json = facilities.facilities_geojson(stale_after=settings.facility_stale_after,
                                             context=current_context())
    rows = [f["properties"] for f in geo_json["features"]]
    rows.sort(key=lambda p: (p["kind"], p["name"]))
    return render_template(
        "facilities/index.html", rows=rows, kind_labels=_str(KIND_LABELS),
        status_labels=_str(STATUS_LABELS), bed_labels=_str(BED_LABELS),
        capability_labels=capability_labels(),
    )


def _form_report(form: Any) -> CapacityReportIn:
    """Turn the form into a report; blank bed rows are left as they were."""
    try:
        status = FacilityStatus(form.get("status", ""))
    except ValueError:
        raise ValidationFailed(_("Choose a status.")) from None
    figures: dict[BedKind, Beds] = {}
    for kind in BedKind:
        cap, occ = form.get(f"{kind.value}-capacity", ""), form.get(f"{kind.value}-occupied", "")
        if cap.strip() == "" and occ.strip() == "":
            continue
        try:
            capacity, occupied = int(cap), int(occ or 0)
        except ValueError:
            raise ValidationFailed(_("%(kind)s: enter whole numbers.",
                                     kind=BED_LABELS[kind])) from None
        if capacity < 0 or occupied < 0:
            raise ValidationFailed(_("%(kind)s: numbers cannot be negative.",
                                     kind=BED_LABELS[kind]))
        if occupied > capacity:
            raise ValidationFailed(_("%(kind)s: occupied is above capacity; raise the capacity "
                                     "if extra beds were opened.", kind=BED_LABELS[kind]))
        figures[kind] = Beds(capacity=capacity, occupied=occupied)
    note = form.get("note", "").strip()
    if len(note) > 1000:
        raise ValidationFailed(_("The note is too long."))
    return CapacityReportIn(status=status, figures=figures, note=note)


@bp.route("/facilities/<int:facility_id>/report", methods=["GET", "POST"])
@page(Permission.REPORT_CAPACITY)
def report(facility_id: int) -> str | Response | tuple[str, int]:
    settings = current_app.config["COORDINATION"]
    current = facilities.get_facility(facility_id=facility_id,
                                      stale_after=settings.facility_stale_after, history=10,
                                      context=current_context())
    status = 200
    if request.method == "POST":
        try:
            facilities.report_capacity(facility_id=facility_id,
                                       data=_form_report(request.form), actor=principal().actor,
                                       context=current_context())
        except CoordinationError as exc:
            flash(str(exc.message), "error")
            status = exc.status
        else:
            flash(_("Report recorded."), "info")
            return redirect(url_for("map_pages.report", facility_id=facility_id))
    return render_template(
        "facilities/report.html", f=current, kind_labels=_str(KIND_LABELS),
        status_labels=_str(STATUS_LABELS), bed_labels=_str(BED_LABELS),
        statuses=list(FacilityStatus), beds=list(BedKind),
        capabilities=capability_labels(), trauma_levels=TRAUMA_LEVELS,
    ), status


def _form_capabilities(form: Any) -> CapabilitiesIn:
    """Each service: ``<code>-provided`` checked, ``<code>-available`` checked, trauma level."""
    caps: dict[Capability, CapabilityState] = {}
    for cap in Capability:
        if not form.get(f"{cap.value}-provided"):
            continue
        level = None
        if cap is Capability.TRAUMA:
            raw = form.get("trauma-level", "3").strip()
            if raw not in {str(n) for n in TRAUMA_LEVELS}:
                raise ValidationFailed(_("Choose a trauma centre level."))
            level = int(raw)
        caps[cap] = CapabilityState(available=bool(form.get(f"{cap.value}-available")),
                                    level=level)
    note = form.get("note", "").strip()
    if len(note) > 1000:
        raise ValidationFailed(_("The note is too long."))
    return CapabilitiesIn(capabilities=caps, note=note)


@bp.route("/facilities/<int:facility_id>/capabilities", methods=["POST"])
@page(Permission.REPORT_CAPACITY)
def capabilities(facility_id: int) -> Response:
    """The services form of the report page: what is provided and what is available now."""
    try:
        facilities.set_capabilities(facility_id=facility_id,
                                    data=_form_capabilities(request.form),
                                    actor=principal().actor, context=current_context())
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Care services recorded."), "info")
    return redirect(url_for("map_pages.report", facility_id=facility_id))


def _str(labels: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in labels.items()}
