"""Recommendation: which units (by ETA) and which destination (by free bed and distance)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point

from coordination.geo.routing import RoadNetwork, Segment
from coordination.incidents import recommend, service
from coordination.incidents.recommend import EtaModel, naive_rank, straight_eta, top_k
from coordination.incidents.schemas import IncidentIn

from . import map_factories as mf

CRS = "EPSG:32649"
X0, Y0 = 600_000.0, 4_540_000.0  # near Jining, Ulanqab
MODEL = EtaModel(detour=1.4, speed_kmh=50)


def ll(dx: float, dy: float) -> tuple[float, float]:
    p = gpd.GeoSeries([Point(X0 + dx, Y0 + dy)], crs=CRS).to_crs("EPSG:4326").iloc[0]
    return (p.x, p.y)


def log(lon, lat, **kw):
    data = {"type": "mass_casualty", "lon": lon, "lat": lat, "patients": 2} | kw
    return service.create_incident(data=IncidentIn.model_validate(data), actor=mf.ACTOR,
                                   region=mf.REGION)


def test_straight_line_eta_is_geodesic_distance_times_detour_over_speed():
    lon, lat = 113.1, 41.0
    lons, lats = np.array([113.2, 112.5, 113.1]), np.array([41.3, 40.9, 41.0])
    eta = straight_eta(lon, lat, lons, lats, MODEL)
    _az, _baz, dist = Geod(ellps="WGS84").inv([lon] * 3, [lat] * 3, lons, lats)
    assert eta == pytest.approx(np.asarray(dist) * 1.4 / (50 / 3.6), rel=0.005)
    assert eta[2] == 0


def test_vectorised_ranking_equals_the_naive_loop():
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(110, 116, 2000), rng.uniform(39, 43, 2000)
    eta = straight_eta(113.0, 41.0, lons, lats, MODEL)
    fast = [(i, eta[i]) for i in top_k(eta, 10)]
    slow = naive_rank(113.0, 41.0, zip(range(2000), lons, lats, strict=True), MODEL, 10)
    assert [i for i, _ in fast] == [i for i, _ in slow]
    assert [e for _, e in fast] == pytest.approx([e for _, e in slow])


def test_only_available_units_ranked_by_eta(app):
    near = mf.unit(call_sign="near", lon=113.13, lat=41.0)
    mid = mf.unit(call_sign="mid", lon=113.3, lat=41.0)
    far = mf.unit(call_sign="far", lon=113.9, lat=41.4)
    mf.unit(call_sign="decon", lon=113.121, lat=41.0, status="decontaminating")
    mf.unit(call_sign="oos", lon=113.122, lat=41.0, status="out_of_service")
    mf.unit(call_sign="busy", lon=113.123, lat=41.0, status="transporting")
    inc = log(113.12, 41.0)
    rec = recommend.recommend(incident_id=inc["id"], model=MODEL, use_network=False)
    assert [u["unit_id"] for u in rec["units"]] == [near.id, mid.id, far.id]
    assert rec["candidates"] == 3 and rec["method"] == "straight"
    etas = [u["eta_seconds"] for u in rec["units"]]
    assert etas == sorted(etas)
    assert rec["units"][0]["eta_seconds"] == pytest.approx(
        rec["units"][0]["distance_m"] * 1.4 / (50 / 3.6), rel=1e-3)
    assert len(recommend.recommend(incident_id=inc["id"], limit=2)["units"]) == 2


def test_plague_needs_negative_pressure_and_configuration_can_change_that(app):
    ordinary = mf.unit(call_sign="ordinary", lon=113.13, lat=41.0)
    np_unit = mf.unit(call_sign="np", lon=113.5, lat=41.0, negative_pressure=True)
    plague = log(113.12, 41.0, type="suspected_case", disease="plague")
    rec = recommend.recommend(incident_id=plague["id"])
    assert rec["negative_pressure_required"] is True
    assert [u["unit_id"] for u in rec["units"]] == [np_unit.id]
    flu = log(113.12, 41.0, type="suspected_case", disease="influenza")
    assert [u["unit_id"] for u in recommend.recommend(incident_id=flu["id"])["units"]] == [
        ordinary.id, np_unit.id]
    app.config["COORDINATION"].negative_pressure_diseases = "influenza"
    try:
        assert [u["unit_id"] for u in recommend.recommend(
            incident_id=flu["id"])["units"]] == [np_unit.id]
        assert recommend.recommend(incident_id=plague["id"])["negative_pressure_required"] \
            is False
    finally:
        app.config["COORDINATION"].negative_pressure_diseases = None


def river_network() -> RoadNetwork:
    """Incident at (0, 0); a river at x = 2 km with its bridge 10 km north. Unit A is
    3 km east across the river, unit B 6 km west on a fast road on the same bank."""
    def seg(*pts, speed=60):
        return Segment([ll(*p) for p in pts], speed, 0, "primary")

    return RoadNetwork.from_segments([
        seg((0, 0), (-6000, 0), speed=90), seg((0, 0), (0, 10_000)),
        seg((0, 10_000), (3000, 10_000)), seg((3000, 10_000), (3000, 0)),
    ])


def test_road_network_changes_the_order(app):
    a = mf.unit(call_sign="A-east", lon=ll(3000, 0)[0], lat=ll(3000, 0)[1])
    b = mf.unit(call_sign="B-west", lon=ll(-6000, 0)[0], lat=ll(-6000, 0)[1])
    inc = log(*ll(0, 0))
    straight = recommend.recommend(incident_id=inc["id"], model=MODEL, use_network=False)
    assert [u["unit_id"] for u in straight["units"]] == [a.id, b.id]
    net = recommend.recommend(incident_id=inc["id"], model=MODEL, network=river_network())
    assert net["method"] == "network"
    assert [u["unit_id"] for u in net["units"]] == [b.id, a.id]
    assert net["units"][0]["eta_seconds"] == pytest.approx(6000 / (90 / 3.6), rel=0.02)
    assert net["units"][1]["eta_seconds"] == pytest.approx(23_000 / (60 / 3.6), rel=0.02)
    assert {u["via"] for u in net["units"]} == {"network"}


def test_destination_is_nearest_open_facility_with_a_free_bed_of_the_needed_kind(app):
    np_room = {"negative_pressure_room": {"capacity": 2, "occupied": 0}}
    mf.facility(name="full np", kind="designated_hospital", lon=113.13, lat=41.0,
                initial={"figures": {"negative_pressure_room": {"capacity": 2,
                                                                "occupied": 2}}})
    mf.facility(name="diverting", kind="designated_hospital", lon=113.131, lat=41.0,
                initial={"status": "diverting", "figures": np_room})
    mf.facility(name="isolation only", kind="fever_clinic", lon=113.132, lat=41.0,
                initial={"figures": {"isolation_room": {"capacity": 4, "occupied": 0}}})
    near = mf.facility(name="near np", kind="fever_clinic", lon=113.3, lat=41.0,
                       initial={"figures": np_room})
    far = mf.facility(name="far np", kind="designated_hospital", lon=113.8, lat=41.2,
                      initial={"figures": np_room})
    mf.facility(name="isolation point", kind="isolation_point", lon=113.12, lat=41.0,
                initial={"figures": np_room})
    plague = log(113.12, 41.0, type="suspected_case", disease="plague")
    rec = recommend.recommend(incident_id=plague["id"])
    assert [d["id"] for d in rec["destinations"]] == [near.id, far.id]
    assert rec["beds"] == ["negative_pressure_room"]
    flu = log(113.12, 41.0, type="suspected_case", disease="influenza")
    names = [d["name"] for d in recommend.recommend(incident_id=flu["id"])["destinations"]]
    assert names == ["isolation only"]


def test_the_in_memory_fleet_follows_every_change_from_the_log(app):
    from coordination.incidents.schemas import DispatchIn
    from coordination.units import service as units
    from coordination.units.schemas import PositionIn, StatusIn

    a = mf.unit(call_sign="a", lon=113.13, lat=41.0)
    b = mf.unit(call_sign="b", lon=113.3, lat=41.0)
    inc = log(113.12, 41.0)
    other = log(113.12, 41.0)

    def order():
        return [u["call_sign"] for u in recommend.recommend(incident_id=inc["id"])["units"]]

    assert order() == ["a", "b"]
    units.record_positions(reports=[PositionIn(unit=b.id, lon=113.121, lat=41.0)],
                           actor=mf.ACTOR, region=None)
    assert order() == ["b", "a"]  # b drove closer
    service.dispatch_unit(incident_id=other["id"], data=DispatchIn(unit_id=b.id),
                          actor=mf.ACTOR)
    assert order() == ["a"]  # b is busy now
    units.set_status(unit_id=a.id, data=StatusIn(status="out_of_service"), actor=mf.ACTOR)
    assert order() == []
    mf.unit(call_sign="c", lon=113.2, lat=41.0)
    assert order() == ["c"]  # a bulk load re-reads the table
    units.set_status(unit_id=a.id, data=StatusIn(status="available"), actor=mf.ACTOR)
    assert order() == ["a", "c"]


def test_a_road_network_that_fails_is_logged_and_shown_never_silent(app, caplog):
    """A stored network that cannot be read: straight-line ETAs, a log entry, a notice."""
    from datetime import UTC, datetime

    from coordination.extensions import db
    from coordination.geo.road_models import RoadNetworkRow, RoadSegmentRow

    a = mf.unit(call_sign="A-east", lon=ll(3000, 0)[0], lat=ll(3000, 0)[1])
    inc = log(*ll(0, 0))
    assert recommend.recommend(incident_id=inc["id"], model=MODEL)["notice"] is None
    with db.unit_of_work() as s:
        row = RoadNetworkRow(context="live", name="broken", segment_count=1, length_km=1.0,
                             imported_at=datetime.now(UTC), imported_by="test")
        s.add(row)
        s.flush()
        s.add(RoadSegmentRow(context="live", network_id=row.id, road_class="primary",
                             speed_kmh=60.0, oneway=0, coords="not json"))
    with caplog.at_level("ERROR", logger="coordination.incidents.recommend"):
        rec = recommend.recommend(incident_id=inc["id"], model=MODEL)
    assert rec["method"] == "straight"
    assert [u["unit_id"] for u in rec["units"]] == [a.id]
    assert rec["notice"] == str(recommend.ROAD_UNAVAILABLE)  # zh-CN and English catalogues
    assert any("road network of live unavailable" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info for r in caplog.records)  # with its traceback
