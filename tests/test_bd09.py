"""Baidu BD-09 beside GCJ-02: published vectors, the iterative inverse, and every way in."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from coordination.extensions import db
from coordination.facilities.models import Facility
from coordination.geo import bd09
from coordination.incidents.models import Incident

from . import map_factories as mf


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371000 * math.asin(math.sqrt(h))


# (WGS-84 lon, lat) <-> (BD-09 lon, lat) as published in Hutool's CoordinateUtilTest: the
# first checked there against tool.lu/coordinate, the second Hutool's bd09toWgs84 of
# coordtransform's example point (their one-step inverse, which is within 0.3 m of ours).
WGS_TO_BD = [
    ((122.99395597, 44.99804071), (123.00636516028885, 45.0063690918959)),  # Inner Mongolia
    ((116.3913836995125, 39.907253214522164), (116.404, 39.915)),  # Beijing, Tian'anmen
]
# (GCJ-02 lon, lat) -> (BD-09 lon, lat): coordtransform's example and Beijing railway station
# as both maps show it (5 decimals, ~1 m).
GCJ_TO_BD = [
    ((116.404, 39.915), (116.41036949371029, 39.92133699351022)),
    ((116.42703, 39.90245), (116.43351, 39.90851)),
]


@pytest.mark.parametrize(("wgs", "bd"), WGS_TO_BD)
def test_bd09_wgs84_published_vectors(wgs, bd):
    lon, lat = bd09.wgs84_to_bd09(*wgs)
    assert _metres((float(lon), float(lat)), bd) < 1.0
    back = bd09.bd09_to_wgs84(*bd)
    assert _metres((float(back[0]), float(back[1])), wgs) < 1.0
    # The inverse is iterative: forward of it gives the BD-09 point back to the millimetre.
    again = bd09.wgs84_to_bd09(*back)
    assert _metres((float(again[0]), float(again[1])), bd) < 0.001


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_bd09_gcj02_published_vectors(gcj, bd):
    lon, lat = bd09.gcj02_to_bd09(*gcj)
    assert _metres((float(lon), float(lat)), bd) < 1.5
    back = bd09.bd09_to_gcj02(*bd)
    assert _metres((float(back[0]), float(back[1])), gcj) < 1.5


def test_iterative_inverse_beats_the_published_one_step_inverse():
    bd = (113.13, 41.03)  # Jining, Ulanqab
    x, y = bd[0] - 0.0065, bd[1] - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * bd09.X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * bd09.X_PI)
    one_step = (z * math.cos(theta), z * math.sin(theta))
    exact = bd09.bd09_to_gcj02(*bd)
    fwd = bd09.gcj02_to_bd09(*exact)
    assert _metres((float(fwd[0]), float(fwd[1])), bd) < 0.001
    fwd_one = bd09.gcj02_to_bd09(*one_step)
    assert _metres((float(fwd_one[0]), float(fwd_one[1])), bd) > \
        _metres((float(fwd[0]), float(fwd[1])), bd)


def test_layer_import_crs_bd09_cli_and_api(app, tmp_path, monkeypatch, make_user, auth):
    from coordination import cli

    wgs, bd = WGS_TO_BD[1]
    path = tmp_path / "from-baidu.csv"
    path.write_text(f"code,name,lng,lat\nBD1,百度点,{bd[0]},{bd[1]}\n", encoding="utf-8")
    monkeypatch.setattr(cli, "_app", lambda: app)
    monkeypatch.setattr(cli, "_migrate", lambda: None)
    result = CliRunner().invoke(cli.main, ["import-layer", str(path), "--kind", "fever_clinic",
                                           "--crs", "bd09"])
    assert result.exit_code == 0, result.output
    with db.reading() as s:
        f = s.scalars(select(Facility).where(Facility.code == "BD1")).one()
    assert _metres((f.lon, f.lat), wgs) < 1.0

    make_user("operator", username="op1")
    auth.login("op1")
    content = path.read_bytes().replace(b"BD1,", b"BD2,")
    resp = auth.client.post("/api/layers/fever_clinic", data={
        "file": (__import__("io").BytesIO(content), "b.csv"), "crs": "bd09"},
        headers={"X-CSRFToken": auth.csrf}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.text
    with db.reading() as s:
        f = s.scalars(select(Facility).where(Facility.code == "BD2")).one()
    assert _metres((f.lon, f.lat), wgs) < 1.0
    bad = auth.client.post("/api/layers/fever_clinic", data={
        "file": (__import__("io").BytesIO(content), "b.csv"), "crs": "bd-9"},
        headers={"X-CSRFToken": auth.csrf}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "bd09" in bad.text


def test_incident_api_takes_bd09(make_user, auth):
    make_user("operator", username="op1")
    auth.login("op1")
    wgs = (113.13, 41.03)
    bd_lon, bd_lat = (float(v) for v in bd09.wgs84_to_bd09(*wgs))
    resp = auth.post_json("/api/incidents", {
        "type": "suspected_case", "disease": "plague", "lon": bd_lon, "lat": bd_lat,
        "crs": "bd09", "patients": 1})
    assert resp.status_code == 201, resp.text
    with db.reading() as s:
        inc = s.get(Incident, resp.get_json()["id"])
    assert _metres((inc.lon, inc.lat), wgs) < 0.01
    refused = auth.post_json("/api/incidents", {
        "type": "suspected_case", "disease": "plague", "lon": bd_lon, "lat": bd_lat,
        "crs": "baidu"})
    assert refused.status_code in (400, 422)


def test_gdal_warnings_stay_out_of_the_import_report(app):
    """A ring that does not close: GDAL's English warning is not passed on (pytest turns
    any warning into an error); the row is reported in the report's own words."""
    from coordination.geo import layers

    ring = [[113.1, 41.0], [113.2, 41.0], [113.2, 41.1], [113.1, 41.1]]  # not closed
    body = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            '{"code": "P1", "name": "x", "kind": "village", "population": 10}, "geometry": '
            '{"type": "Polygon", "coordinates": [' + str(ring) + ']}}]}').encode()
    with pytest.raises(layers.CoordinationError) as caught:
        layers.import_layer(content=body, filename="open-ring.geojson", kind="places",
                            actor=mf.ACTOR, region=mf.REGION)
    text = " ".join(d["message"] for d in caught.value.details or [])
    assert "Non closed ring" not in text and caught.value.details
