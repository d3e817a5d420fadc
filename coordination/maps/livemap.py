"""The command room's live map: folium builds the frame, livemap.js fills it.

folium draws the map, the layer control, scale, full screen and one empty
layer per facility kind, populated places, ambulances and area seats. The
features themselves come from the GeoJSON endpoints and move through the live
channel (static/js/livemap.js): thousands of inline folium markers would make
the page megabytes long and could not be updated in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
from flask_babel import gettext as _

from ..facilities.models import BED_LABELS, KIND_LABELS, STATUS_LABELS, FacilityKind
from ..geo.places import PLACE_LABELS
from ..stock.mapping import depot_labels
from ..units.models import STATUS_LABELS as UNIT_STATUS_LABELS
from .offline import MapParts, OfflineFullscreen, OfflineMap, OfflineMarkerCluster, render_parts

# Clusters split into single markers from this zoom on, so a county-level view
# shows every clinic's status colour and a city-wide view stays light.
CLUSTER_OPTIONS = {
    "disableClusteringAtZoom": 11, "maxClusterRadius": 45, "chunkedLoading": True,
    "showCoverageOnHover": False, "spiderfyOnMaxZoom": False,
}
# Small layers stay plain groups: a dozen fever clinics need no clustering.
CLUSTERED = {FacilityKind.TOWNSHIP_HEALTH_CENTRE, FacilityKind.TRIAGE_POINT}


@dataclass(frozen=True)
class LiveMap:
    parts: MapParts
    config: dict[str, Any]


def build_live_map(
    *, nonce: str, tile_url: str | None, attribution: str, urls: dict[str, str],
    bounds: list[list[float]] | None, stale_after_seconds: int, can_report: bool,
    clustered: set[FacilityKind] | None = None,
) -> LiveMap:
    """Render the map frame and the configuration livemap.js needs to fill it."""
    m = OfflineMap(tiles_url=tile_url, attribution=attribution)
    # Without a tile layer Leaflet knows no zoom range, and clustering needs one.
    m.options.update({"max_zoom": 18, "min_zoom": 5})
    if bounds:
        m.fit_bounds(bounds, padding=(10, 10))
    OfflineFullscreen(position="topleft", title=_("Full screen"),
                      title_cancel=_("Leave full screen")).add_to(m)
    layers: dict[str, str] = {}
    # Outlines first (drawn below everything): the backdrop when no tile server is set.
    outlines = folium.FeatureGroup(name=_("Administrative boundaries"), show=True).add_to(m)
    layers["boundaries"] = outlines.get_name()
    areas = folium.FeatureGroup(name=_("Banners, counties and districts"), show=True).add_to(m)
    layers["areas"] = areas.get_name()
    for kind in FacilityKind:
        label = str(KIND_LABELS[kind])
        if kind in (clustered if clustered is not None else CLUSTERED):
            group: Any = OfflineMarkerCluster(name=label, options=dict(CLUSTER_OPTIONS))
        else:
            group = folium.FeatureGroup(name=label, show=True)
        group.add_to(m)
        layers[kind.value] = group.get_name()
    # Hundreds of places would bury the clinics at city zoom: one click away.
    places = OfflineMarkerCluster(name=_("Populated places"), show=False,
                                  options=dict(CLUSTER_OPTIONS))
    places.add_to(m)
    layers["places"] = places.get_name()
    units = folium.FeatureGroup(name=_("Ambulances"), show=True).add_to(m)
    layers["units"] = units.get_name()
    venues = folium.FeatureGroup(name=_("Event venues and medical posts"), show=True).add_to(m)
    layers["venues"] = venues.get_name()  # filled by static/js/event_venues.js
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    parts = render_parts(m, nonce=nonce)
    config = {
        "map": parts.map_name,
        "layers": layers,
        "clustered": sorted(k.value for k in (clustered or CLUSTERED)) + ["places"],
        "urls": urls,
        "stale_after_seconds": stale_after_seconds,
        "can_report": can_report,
        "labels": _labels(),
    }
    return LiveMap(parts=parts, config=config)


def _labels() -> dict[str, Any]:
    """Every word livemap.js shows, translated here so the client inserts only text."""
    return {
        "kinds": {k.value: str(v) for k, v in KIND_LABELS.items()},
        "facility_status": {str(k): str(v) for k, v in STATUS_LABELS.items()},
        "beds": {k.value: str(v) for k, v in BED_LABELS.items()},
        "unit_status": {k.value: str(v) for k, v in UNIT_STATUS_LABELS.items()},
        "places": {k.value: str(v) for k, v in PLACE_LABELS.items()},
        "capacity": _("Capacity"),
        "occupied": _("Occupied"),
        "free": _("Free"),
        "last_report": _("Last report"),
        "never": _("never"),
        "contact": _("Contact"),
        "address": _("Address"),
        "report": _("Report capacity"),
        "no_figures": _("No capacity figures reported."),
        "population": _("Population"),
        "crew": _("Crew"),
        "station": _("Station"),
        "status": _("Status"),
        "status_history": _("Status history"),
        "track": _("Track of the last hour: %(n)s positions", n="{n}"),
        "negative_pressure": _("Negative-pressure ambulance (负压救护车)"),
        "position_at": _("Position at"),
        "loading": _("Loading…"),
        "load_failed": _("The map data could not be loaded; retrying."),
        "depot": depot_labels(),
    }
