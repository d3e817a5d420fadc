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
    osmium = pytest.importorskip("osmium")
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
