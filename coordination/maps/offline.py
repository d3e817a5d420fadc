"""folium without the internet: local Leaflet and plugins, and CSP-friendly output.

folium's Map and plugins reference CDN URLs in class-level lists; subclasses
here point them at static/vendor instead (never mutating folium's own lists,
which other code may share). Its output has inline <script>/<style> blocks,
which the Content-Security-Policy refuses unless they carry the request's
nonce, so ``render_parts`` splits a map into head, body and script with the
nonce set on every inline block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import MacroElement
from folium import plugins
from folium.template import Template
from markupsafe import Markup

VENDOR = "/static/vendor"
LEAFLET = f"{VENDOR}/leaflet-1.9.4"
CLUSTER = f"{VENDOR}/leaflet.markercluster-1.5.3"
FULLSCREEN = f"{VENDOR}/leaflet.fullscreen-3.0.2"

# WGS-84 centre of Ulanqab's jurisdiction; callers pass their own bounds.
DEFAULT_CENTRE = (41.0, 112.9)


class OfflineMap(folium.Map):
    """A folium Map that loads only vendored Leaflet (no jQuery/Bootstrap/icons)."""

    default_js = [("leaflet", f"{LEAFLET}/leaflet.js")]
    default_css = [("leaflet_css", f"{LEAFLET}/leaflet.css")]

    def __init__(self, *, tiles_url: str | None, attribution: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("location", DEFAULT_CENTRE)
        kwargs.setdefault("zoom_start", 8)
        kwargs.setdefault("control_scale", True)
        kwargs.setdefault("prefer_canvas", True)
        if tiles_url:
            super().__init__(tiles=tiles_url, attr=attribution or " ", **kwargs)
        else:
            # No tiles: administrative boundaries and layers still draw on a plain ground.
            super().__init__(tiles=None, **kwargs)
        self.add_child(PlainAttributionPrefix())


class PlainAttributionPrefix(MacroElement):
    """Leaflet's attribution prefix as plain text, not a link to leafletjs.com.

    Offline, a link to another host is a dead end (and a request if followed);
    the credit stays, unlinked.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        if ({{ this._parent.get_name() }}.attributionControl) {
            {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        }
        {% endmacro %}
    """)


class OfflineMarkerCluster(plugins.MarkerCluster):
    default_js = [("markerclusterjs", f"{CLUSTER}/leaflet.markercluster.js")]
    default_css = [
        ("markerclustercss", f"{CLUSTER}/MarkerCluster.css"),
        ("markerclusterdefaultcss", f"{CLUSTER}/MarkerCluster.Default.css"),
    ]


class OfflineFullscreen(plugins.Fullscreen):
    default_js = [("Control.Fullscreen.js", f"{FULLSCREEN}/Control.FullScreen.js")]
    default_css = [("Control.FullScreen.css", f"{FULLSCREEN}/Control.FullScreen.css")]


@dataclass(frozen=True)
class MapParts:
    head: Markup
    body: Markup
    script: Markup
    map_name: str


_INLINE = re.compile(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


def _with_nonce(html: str, nonce: str) -> str:
    return _INLINE.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"{m.group(2)}>', html)


def render_parts(m: folium.Map, *, nonce: str) -> MapParts:
    """Render a map into the three parts a page template places itself."""
    fig: Any = m.get_root()  # a branca Figure: header, html, script
    fig.render()
    head = _with_nonce(fig.header.render(), nonce)
    body = fig.html.render()
    script = _with_nonce(f"<script>{fig.script.render()}</script>", nonce)
    return MapParts(Markup(head), Markup(body), Markup(script), m.get_name())
