"""Every GeoJSON the application serves is RFC 7946: right-hand rings, rounded coordinates.

RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise; §11.2:
more than 7 decimals (~1 cm) is noise. Every route of the URL map that serves
``.geojson`` must be listed here (a new one fails the test until it is), and
each is fetched with data that has clockwise rings and 15-decimal coordinates
going in: epidemic zones, coverage with circles, layer exports, OGC API items,
the map's places and areas, major-event venues.
"""

from __future__ import annotations

from typing import Any

import pytest

from coordination.demo import AREAS
from coordination.geo import layers
from coordination.geo.places import PlaceIn, upsert_places
from coordination.geo.service import upsert_areas

from . import map_factories as mf
from .test_epidemic import ORIGIN, _case, _load_places, _school


def _signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))


def _check(geometry: dict[str, Any] | None, where: str, stats: dict[str, int]) -> None:
    if geometry is None:
        return
    kind = geometry["type"]
    if kind == "GeometryCollection":
        for g in geometry["geometries"]:
            _check(g, where, stats)
        return
    polygons = {"Polygon": [geometry["coordinates"]],
                "MultiPolygon": geometry["coordinates"]}.get(kind, [])
    for rings in polygons:
        stats["polygons"] += 1
        assert _signed_area(rings[0]) > 0, f"{where}: exterior ring is clockwise"
        for hole in rings[1:]:
            assert _signed_area(hole) < 0, f"{where}: hole is counter-clockwise"

    def numbers(c: Any) -> list[float]:
        return [c] if isinstance(c, int | float) else [n for x in c for n in numbers(x)]

    for n in numbers(geometry["coordinates"]):
        assert round(n, 7) == n, f"{where}: coordinate {n!r} has more than 7 decimals"


CLOCKWISE = [[113.100000000000001, 41.2], [113.100000000000001, 41.2314159265358979],
             [113.1314159265358979, 41.2314159265358979], [113.1314159265358979, 41.2],
             [113.100000000000001, 41.2]]


@pytest.fixture
def seeded(app, make_user, auth):
    from coordination.incidents import zones

    upsert_areas(areas=AREAS, actor=mf.ACTOR)
    upsert_places(places=[
        PlaceIn(code="MINE-1", name="铁矿", kind="mine", population=300, lon=113.115,
                lat=41.215, geometry={"type": "Polygon", "coordinates": [CLOCKWISE]}),
        PlaceIn(code="VIL-1", name="村", kind="village", population=80,
                lon=113.123456789012345, lat=41.012345678901234),
    ], actor=mf.ACTOR, region=mf.REGION)
    for n, kind in enumerate(("township_health_centre", "ems_station", "fever_clinic")):
        mf.facility(kind=kind, lon=113.1 + n * 0.1234567890123, lat=41.0 + n * 0.0123456789)
    mf.unit(lon=113.15, lat=41.05)
    _load_places([("SCH-1", "school", 800, _school(2000))])
    _case(0, 0)
    zones.refresh_zones(disease="plague", actor=mf.ACTOR)
    make_user("admin", username="geo")
    auth.login("geo")
    return auth


def _urls(client) -> dict[str, list[str]]:
    from coordination.geo import ogc
    from coordination.incidents import zones
    from coordination.plans import venues

    zone_id = zones.list_zones()[0]["id"]
    event_id = sorted(venues._events(None))[0]
    return {
        "/api/zones/<int:zone_id>.geojson": [f"/api/zones/{zone_id}.geojson"],
        "/api/coverage.geojson": ["/api/coverage.geojson", "/api/coverage.geojson?circles=1"],
        "/api/layers/<kind>.geojson": [f"/api/layers/{k}.geojson"
                                       for k in layers.exportable_kinds()],
        "/api/plans/events/<event_id>.geojson": [f"/api/plans/events/{event_id}.geojson"],
        "/api/plans/venues.geojson": ["/api/plans/venues.geojson?all=1"],
        "ogc": [f"/api/ogc/collections/{c.id}/items?limit=10000" for c in ogc.collections()],
        "map": ["/api/map/places", "/api/areas?boundaries=1"],
    }


def test_every_geojson_route_is_right_hand_and_rounded(app, seeded):
    urls = _urls(seeded.client)
    served = {r.rule for r in app.url_map.iter_rules() if r.rule.endswith(".geojson")}
    assert served <= set(urls), f"GeoJSON routes not checked here: {served - set(urls)}"
    stats = {"polygons": 0}
    for group in urls.values():
        for url in group:
            resp = seeded.client.get(url)
            assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:200])
            body = resp.get_json()
            assert body["type"] == "FeatureCollection", url
            for n, feature in enumerate(body["features"]):
                _check(feature["geometry"], f"{url} feature {n}", stats)
    assert stats["polygons"] >= 10  # zone, its point, circles, the mine, areas, venues


def test_coverage_circles_are_small_and_right_hand(seeded):
    resp = seeded.client.get("/api/coverage.geojson?circles=1")
    circles = [f for f in resp.get_json()["features"]
               if f["properties"].get("feature") == "centre"]
    assert circles and all(f["geometry"]["type"] == "Polygon" for f in circles)
    text = resp.get_data(as_text=True)
    assert "41.0000000000" not in text and len(text) < 40_000


def test_the_epidemic_zone_rings_run_counter_clockwise(seeded):
    from coordination.incidents import zones

    zone_id = zones.list_zones()[0]["id"]
    body = seeded.client.get(f"/api/zones/{zone_id}.geojson").get_json()
    point, zone = body["features"][0], body["features"][1]
    for f in (point, zone):
        rings = ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon"
                 else f["geometry"]["coordinates"])
        assert all(_signed_area(r[0]) > 0 for r in rings)
    assert ORIGIN  # the case the zone grew around
