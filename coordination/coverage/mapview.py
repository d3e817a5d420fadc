"""The coverage map: folium builds the frame, static/js/coverage.js draws the data.

folium gives the offline map, layer control, scale and full screen, with one
empty layer each for service circles, centres, uncovered and covered places
and area seats. The features travel as one JSON block in the page (the same
snapshot the table shows) and coverage.js draws them with Leaflet, building
every tooltip from text nodes, so a place called ``<script>`` stays text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
from flask_babel import gettext as _

from ..facilities.models import KIND_LABELS
from ..geo.places import PLACE_LABELS
from ..maps.offline import MapParts, OfflineFullscreen, OfflineMap, render_parts
from .service import CoverageReport

# Above this, covered places are left off the map (the table still counts them):
# they are context, and 100,000 dots would make the page megabytes long.
MAX_COVERED_DRAWN = 20_000


@dataclass(frozen=True)
class CoverageMap:
    parts: MapParts
    config: dict[str, Any]
    data: dict[str, Any]


def _bounds(report: CoverageReport) -> list[list[float]] | None:
    lons: list[float] = []
    lats: list[float] = []
    for frame in (report.result.places, report.result.centres):
        if len(frame):
            lons += list(frame.geometry.x)
            lats += list(frame.geometry.y)
    if not lons:
        lons = [p[0] for p in report.seats.values()]
        lats = [p[1] for p in report.seats.values()]
    if not lons:
        return None
    return [[min(lats) - 0.1, min(lons) - 0.1], [max(lats) + 0.1, max(lons) + 0.1]]


def map_data(report: CoverageReport, *, locale: str) -> dict[str, Any]:
    """Compact arrays for coverage.js: centres, uncovered and covered places, seats."""
    r = report.result
    centres = [[round(c.geometry.x, 6), round(c.geometry.y, 6), c.radius_km * 1000.0, c.kind,
                c.name] for c in r.centres.itertuples(index=False)]
    uncovered = [[round(p.geometry.x, 6), round(p.geometry.y, 6), int(p.population), p.name,
                  p.kind, round(float(p.nearest_km), 1) if p.nearest_km == p.nearest_km else None]
                 for p in r.uncovered_places.itertuples(index=False)]
    covered_rows = r.places[r.places["covered"]]
    covered = ([[round(p.x, 6), round(p.y, 6)] for p in covered_rows.geometry]
               if len(covered_rows) <= MAX_COVERED_DRAWN else [])
    shares = {a.code: a for a in r.areas}
    seats = []
    for code, (lon, lat) in report.seats.items():
        a = shares.get(code)
        if a is None:
            continue
        name = a.name_zh if locale.startswith("zh") else a.name_en
        seats.append([lon, lat, name, a.share])
    return {"centres": centres, "uncovered": uncovered, "covered": covered, "seats": seats}


def build_coverage_map(
    report: CoverageReport, *, nonce: str, tile_url: str | None, attribution: str, locale: str,
) -> CoverageMap:
    m = OfflineMap(tiles_url=tile_url, attribution=attribution, zoom_start=8)
    m.options.update({"max_zoom": 18, "min_zoom": 4})
    bounds = _bounds(report)
    if bounds:
        m.fit_bounds(bounds, padding=(10, 10))
    OfflineFullscreen(position="topleft", title=_("Full screen"),
                      title_cancel=_("Leave full screen")).add_to(m)
    layers: dict[str, str] = {}
    for key, label, show in (
        ("circles", _("Service radius"), True),
        ("centres", _("Service centres"), True),
        ("covered", _("Covered places"), True),
        ("uncovered", _("Places outside every radius"), True),
        ("seats", _("Banners, counties and districts"), True),
    ):
        group = folium.FeatureGroup(name=label, show=show).add_to(m)
        layers[key] = group.get_name()
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    parts = render_parts(m, nonce=nonce)
    config = {
        "map": parts.map_name, "layers": layers, "bounds": bounds,
        "labels": {
            "kinds": {k.value: str(v) for k, v in KIND_LABELS.items()},
            "places": {k.value: str(v) for k, v in PLACE_LABELS.items()},
            "population": _("Population"),
            "radius": _("Service radius"),
            "nearest": _("Nearest centre"),
            "km": _("km"),
            "none": _("none"),
            "covered_share": _("covered"),
        },
    }
    return CoverageMap(parts=parts, config=config, data=map_data(report, locale=locale))
