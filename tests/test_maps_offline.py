"""folium maps reference only vendored files and carry the CSP nonce on inline blocks."""

from __future__ import annotations

import re
from pathlib import Path

import folium

from coordination.maps.offline import (
    OfflineFullscreen,
    OfflineMap,
    OfflineMarkerCluster,
    render_parts,
)

STATIC = Path(__file__).resolve().parent.parent / "static"


def _render(tiles=None):
    m = OfflineMap(tiles_url=tiles)
    OfflineFullscreen().add_to(m)
    cluster = OfflineMarkerCluster().add_to(m)
    folium.CircleMarker((41.0, 113.1), radius=4).add_to(cluster)
    folium.LayerControl().add_to(m)
    return render_parts(m, nonce="abc123")


def test_map_loads_only_vendored_files_that_exist():
    parts = _render()
    html = parts.head + parts.body + parts.script
    assert re.findall(r"https?://", html) == []
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, "the map must load Leaflet"
    for ref in refs:
        assert ref.startswith("/static/vendor/"), ref
        assert (STATIC / ref.removeprefix("/static/")).is_file(), ref


def test_every_inline_block_carries_the_nonce():
    parts = _render()
    html = parts.head + parts.script
    inline = re.findall(r"<(?:script|style)(?![^>]*\bsrc=)[^>]*>", html)
    assert inline and all('nonce="abc123"' in tag for tag in inline)


def test_configured_tile_server_is_used():
    parts = _render("https://tiles.command.local/{z}/{x}/{y}.png")
    assert "tiles.command.local" in parts.script


def test_pages_send_a_csp_with_a_fresh_nonce(client):
    first = client.get("/login").headers["Content-Security-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", first).group(1)
    assert nonce not in second
    assert "script-src 'self' 'nonce-" in first and "unsafe-inline" not in first
