"""Road-network ETAs: a hand-built network where straight line and roads disagree."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from coordination.geo.routing import (
    RoadDataError,
    RoadNetwork,
    Segment,
    read_road_file,
    segments_from_frame,
)

from .support import need

CRS = "EPSG:32649"
X0, Y0 = 600_000.0, 4_540_000.0


def ll(dx: float, dy: float) -> tuple[float, float]:
    p = gpd.GeoSeries([Point(X0 + dx, Y0 + dy)], crs=CRS).to_crs("EPSG:4326").iloc[0]
    return (p.x, p.y)


def seg(*pts: tuple[float, float], speed: float = 60, oneway: int = 0) -> Segment:
    return Segment([ll(*p) for p in pts], speed, oneway, "primary")


def river_network() -> RoadNetwork:
    """The incident is at (0, 0). A river runs north-south at x = 2 km with one
    bridge far north at y = 10 km. Unit A is 3 km east across the river; unit
    B is 6 km west on the same bank, on a fast road."""
    return RoadNetwork.from_segments([
        seg((0, 0), (-6000, 0), speed=90),                 # B's road to the incident
        seg((0, 0), (0, 10_000), speed=60),                # west bank north
        seg((0, 10_000), (3000, 10_000), speed=60),        # the bridge
        seg((3000, 10_000), (3000, 0), speed=60),          # east bank south to A
    ])


def test_network_order_differs_from_straight_line():
    net = river_network()
    units = np.array([ll(3000, 0), ll(-6000, 0)])  # A, B
    straight = np.hypot(3000, 0), np.hypot(6000, 0)
    assert straight[0] < straight[1]  # A is nearer as the crow flies
    eta = net.eta_seconds(units, ll(0, 0))
    assert eta[1] < eta[0]  # B is faster on the roads
    assert eta[0] == pytest.approx(23_000 / (60 / 3.6), rel=0.01)
    assert eta[1] == pytest.approx(6000 / (90 / 3.6), rel=0.01)


def test_reversed_search_equals_one_search_per_unit():
    net = river_network()
    rng = np.random.default_rng(1)
    units = np.array([ll(x, y) for x, y in rng.uniform(-6000, 6000, size=(20, 2))])
    fast = net.eta_seconds(units, ll(0, 0))
    slow = net.eta_naive(units, ll(0, 0))
    assert np.allclose(fast, slow, equal_nan=True)
    assert np.isfinite(fast).sum() >= 15


def test_one_way_roads_are_respected():
    # A one-way street leads away from the incident; the way back is a detour.
    net = RoadNetwork.from_segments([
        seg((0, 0), (1000, 0), oneway=1),
        seg((1000, 0), (1000, 3000), (0, 3000), (0, 0)),
    ])
    eta = net.eta_seconds(np.array([ll(1000, 0)]), ll(0, 0))
    assert eta[0] == pytest.approx(7000 / (60 / 3.6), rel=0.01)
    reverse = RoadNetwork.from_segments([
        seg((1000, 0), (0, 0), oneway=-1),
        seg((1000, 0), (1000, 3000), (0, 3000), (0, 0)),
    ])
    assert reverse.eta_seconds(np.array([ll(1000, 0)]), ll(0, 0))[0] == pytest.approx(eta[0])


def test_access_leg_and_far_from_any_road():
    net = river_network()
    eta = net.eta_seconds(np.array([ll(-6000, 500), ll(-6000, 50_000)]), ll(0, 0))
    assert eta[0] == pytest.approx(6000 / 25 + 500 / (15 / 3.6), rel=0.01)
    assert np.isnan(eta[1])  # 40 km from any road: the caller falls back


def test_unreachable_is_infinite():
    net = RoadNetwork.from_segments([
        seg((0, 0), (1000, 0)), seg((1000, 0), (2000, 0)), seg((2000, 0), (3000, 0)),
        seg((0, 1000), (3000, 1000), oneway=1),
    ])
    # The one-way road is not the main component: units snap to the main road.
    eta = net.eta_seconds(np.array([ll(3000, 0)]), ll(0, 0))
    assert np.isfinite(eta[0])


def _frame(rows, **cols):
    return gpd.GeoDataFrame(cols, geometry=rows, crs="EPSG:4326")


def test_frame_with_classes_speeds_and_oneway():
    lines = [LineString([ll(0, 0), ll(1000, 0)]),
             MultiLineString([[ll(1000, 0), ll(2000, 0)], [ll(2000, 0), ll(3000, 0)]])]
    segs = segments_from_frame(_frame(lines, highway=["primary", "国道"],
                                      maxspeed=[None, "40"], oneway=["yes", "no"]))
    assert [(s.speed_kmh, s.oneway) for s in segs] == [(60, 1), (40, 0), (40, 0)]


def test_every_bad_row_is_reported():
    rows = [LineString([ll(0, 0), ll(1000, 0)]), Point(ll(0, 0)),
            LineString([ll(0, 0), ll(0, 1000)])]
    with pytest.raises(RoadDataError) as err:
        segments_from_frame(_frame(rows, road_class=["primary", "primary", "footpath"]))
    assert len(err.value.reasons) == 2
    assert "feature 2" in err.value.reasons[0] and "feature 3" in err.value.reasons[1]


def test_projected_layers_are_read_in_wgs84(tmp_path):
    frame = gpd.GeoDataFrame({"speed_kmh": [50.0]},
                             geometry=[LineString([(X0, Y0), (X0 + 5000, Y0)])], crs=CRS)
    path = tmp_path / "roads.gpkg"
    frame.to_file(path, driver="GPKG")
    segs = read_road_file(path)
    assert segs[0].coords[0] == pytest.approx(ll(0, 0), abs=1e-6)


def test_osm_pbf(tmp_path):
    try:
        import osmium
    except ImportError:
        osmium = None
    need("pyosmium", osmium is not None, "pip install -e '.[osm]' (it is in the test extras)")
    path = tmp_path / "roads.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    pts = [ll(0, 0), ll(1000, 0), ll(2000, 0), ll(2000, 1000)]
    for i, (x, y) in enumerate(pts, start=1):
        writer.add_node(osmium.osm.mutable.Node(id=i, location=(x, y)))
    writer.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2, 3],
                                          tags={"highway": "secondary", "maxspeed": "30"}))
    writer.add_way(osmium.osm.mutable.Way(id=2, nodes=[3, 4], tags={"highway": "footway"}))
    writer.close()
    segs = read_road_file(path)
    assert len(segs) == 1 and segs[0].speed_kmh == 30
    net = RoadNetwork.from_segments(segs)
    assert net.eta_seconds(np.array([ll(2000, 0)]), ll(0, 0))[0] == pytest.approx(240, rel=0.01)


# --- stored networks: import, cache, recommendation ----------------------------------


def _river_file(tmp_path, *, bad: bool = False):
    lines = [LineString([ll(0, 0), ll(-6000, 0)]), LineString([ll(0, 0), ll(0, 10_000)]),
             LineString([ll(0, 10_000), ll(3000, 10_000)]),
             LineString([ll(3000, 10_000), ll(3000, 0)])]
    classes = ["trunk", "primary", "primary", "primary"]
    speeds = [90.0, None, None, None]
    if bad:
        lines.append(Point(ll(0, 0)))
        classes.append("primary")
        speeds.append(None)
        lines.append(LineString([ll(0, 0), ll(1, 1)]))
        classes.append("footpath")
        speeds.append(None)
    path = tmp_path / ("bad.geojson" if bad else "roads.geojson")
    gpd.GeoDataFrame({"highway": classes, "speed_kmh": speeds}, geometry=lines,
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_import_replaces_the_network_and_every_process_builds_it(app, tmp_path):
    from coordination.events import Actor
    from coordination.geo import roads

    assert roads.current_network(context="live") is None
    body = roads.import_roads(path=_river_file(tmp_path), actor=Actor.system("t"))
    assert body["segments"] == 4 and body["length_km"] == pytest.approx(29, rel=0.02)
    roads._cache.clear()  # as a fresh process: rebuilt from the stored segments
    net = roads.current_network(context="live")
    eta = net.eta_seconds(np.array([ll(3000, 0), ll(-6000, 0)]), ll(0, 0))
    assert eta[1] < eta[0]
    again = roads.import_roads(path=_river_file(tmp_path), actor=Actor.system("t"))
    assert roads.network_summary()["id"] == again["id"] != body["id"]


def test_bad_layer_reports_every_feature_and_keeps_the_old_network(app, tmp_path):
    from coordination.errors import ValidationFailed
    from coordination.events import Actor
    from coordination.geo import roads

    first = roads.import_roads(path=_river_file(tmp_path), actor=Actor.system("t"))
    with pytest.raises(ValidationFailed) as err:
        roads.import_roads(path=_river_file(tmp_path, bad=True), actor=Actor.system("t"))
    assert len(err.value.details) == 2
    assert roads.network_summary()["id"] == first["id"]


def test_recommendation_ranks_by_road_time_once_roads_are_imported(app, tmp_path, make_user,
                                                                   auth):
    from coordination.events import Actor
    from coordination.geo import roads

    from .map_factories import unit

    across = unit(call_sign="A-across-river", lon=ll(3000, 0)[0], lat=ll(3000, 0)[1])
    same_bank = unit(call_sign="B-same-bank", lon=ll(-6000, 0)[0], lat=ll(-6000, 0)[1])
    make_user("operator", username="op")
    auth.login("op")
    lon, lat = ll(0, 0)
    made = auth.post_json("/api/incidents", {"type": "mass_casualty", "lon": lon, "lat": lat,
                                             "patients": 3})
    assert made.status_code == 201, made.get_json()
    url = f"/api/incidents/{made.get_json()['id']}/recommendation"
    straight = [u["unit_id"] for u in auth.client.get(url).get_json()["units"]]
    assert straight[:2] == [across.id, same_bank.id]
    roads.import_roads(path=_river_file(tmp_path), actor=Actor.system("t"))
    body = auth.client.get(url).get_json()
    assert body["method"] != "straight" or body["units"][0]["via"] == "network"
    assert [u["unit_id"] for u in body["units"]][:2] == [same_bank.id, across.id]


def test_cli_import_roads(app, tmp_path, database_url):
    import os
    import subprocess
    import sys

    env = dict(os.environ, COORDINATION_DATABASE_URL=database_url,
               COORDINATION_INSTANCE_PATH=str(tmp_path / "instance"))
    env.pop("COORDINATION_REDIS_URL", None)
    cmd = [sys.executable, "-m", "coordination.cli", "import-roads"]
    ok = subprocess.run(cmd + [str(_river_file(tmp_path))], env=env, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Imported 4 road lines" in ok.stdout
    no = subprocess.run(cmd + [str(_river_file(tmp_path, bad=True))], env=env,
                        capture_output=True, text=True, timeout=120)
    assert no.returncode == 1
    assert "feature 5" in no.stderr and "feature 6" in no.stderr
