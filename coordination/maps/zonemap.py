"""The map of one epidemic zone: 疫区, 疫点, affected places, facilities and cases.

Small enough to draw inline with folium (a zone holds tens or hundreds of
features, not thousands). No user text goes onto the map: names are listed
in the page's table (escaped by Jinja), tooltips carry only our own
translated labels, so nothing a place or facility is called can inject HTML.
"""

from __future__ import annotations

from typing import Any

import folium
from flask_babel import gettext as _
from markupsafe import escape

from .offline import MapParts, OfflineFullscreen, OfflineMap, render_parts

ZONE_STYLE = {"color": "#b45309", "weight": 2, "fillColor": "#f59e0b", "fillOpacity": 0.12,
              "dashArray": "6 4"}
POINT_STYLE = {"color": "#b91c1c", "weight": 2, "fillColor": "#ef4444", "fillOpacity": 0.3}
PLACE_STYLE = {"color": "#1e3a8a", "weight": 1, "fillColor": "#3b82f6", "fillOpacity": 0.35}


def _const(style: dict[str, Any]) -> Any:
    return lambda _feature: style


def build_zone_map(zone: dict[str, Any], *, nonce: str, tile_url: str | None,
                   attribution: str) -> MapParts:
    m = OfflineMap(tiles_url=tile_url, attribution=attribution)
    m.options.update({"max_zoom": 18, "min_zoom": 5})
    OfflineFullscreen(position="topleft", title=_("Full screen"),
                      title_cancel=_("Leave full screen")).add_to(m)
    folium.GeoJson(zone["zone"], name=_("Epidemic zone (疫区)"), style_function=_const(ZONE_STYLE),
                   tooltip=folium.Tooltip(str(escape(_("Epidemic zone (疫区)"))))).add_to(m)
    folium.GeoJson(zone["point"], name=_("Epidemic point (疫点)"),
                   style_function=_const(POINT_STYLE),
                   tooltip=folium.Tooltip(str(escape(_("Epidemic point (疫点)"))))).add_to(m)
    places = folium.FeatureGroup(name=_("Affected places"), show=True).add_to(m)
    for p in zone["places"]:
        if p["geometry"]["type"] == "Point":
            folium.CircleMarker([p["lat"], p["lon"]], radius=5, color=str(PLACE_STYLE["color"]),
                                fill=True, fill_opacity=0.8).add_to(places)
        else:
            folium.GeoJson(p["geometry"], style_function=_const(PLACE_STYLE)).add_to(places)
    facilities = folium.FeatureGroup(name=_("Facilities inside"), show=True).add_to(m)
    for f in zone["facilities"]:
        folium.CircleMarker([f["lat"], f["lon"]], radius=6, color="#065f46", fill=True,
                            fill_color="#10b981", fill_opacity=0.9).add_to(facilities)
    cases = folium.FeatureGroup(name=_("Confirmed cases"), show=True).add_to(m)
    for c in zone["case_list"]:
        folium.CircleMarker([c["lat"], c["lon"]], radius=7, color="#7f1d1d", fill=True,
                            fill_color="#dc2626", fill_opacity=1,
                            tooltip=str(escape(_("Confirmed case")))).add_to(cases)
    minx, miny, maxx, maxy = _bounds(zone["zone"])
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(10, 10))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return render_parts(m, nonce=nonce)


def _bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    from shapely.geometry import shape

    return shape(geometry).bounds
