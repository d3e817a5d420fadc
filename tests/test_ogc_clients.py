"""OGC API – Features as QGIS 3.22, ArcGIS and GDAL reach it (issue #23).

The token as an HTTP Basic password (any user name: what every QGIS and
ArcGIS can send), ``WWW-Authenticate`` on every 401 (RFC 7235 §3.1), the
``datetime`` parameter (Part 1 Req. 14/15), one geometry type per collection,
and GDAL's ``ogrinfo`` over Basic authentication against a real server.
"""

from __future__ import annotations

import base64
import os
import subprocess
from datetime import UTC, datetime

from coordination.auth import service as auth
from coordination.events import Actor
from coordination.geo.places import PlaceIn, upsert_places

from . import map_factories as mf
from .test_ogcapi import gdal_server  # noqa: F401 - the real server fixture

BASE = "/api/ogc"


def _basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _secret(role: str = "trainer") -> str:
    _t, secret = auth.create_token(name=f"qgis-{role}", roles=[role], actor=Actor.system("t"))
    return secret


def test_the_token_is_accepted_as_a_basic_password_with_any_user(app, client):
    secret = _secret()
    for user in ("qgis", "王芳", ""):
        resp = client.get(f"{BASE}/collections", headers=_basic(user, secret))
        assert resp.status_code == 200, user
    assert client.get(f"{BASE}/collections",
                      headers=_basic("qgis", "wrong")).status_code == 401
    assert client.get(f"{BASE}/collections",
                      headers={"Authorization": "Basic !!!"}).status_code == 401


def test_basic_credentials_never_write(app, client):
    """A browser replays cached Basic credentials by itself: no write may ride on them."""
    _t, secret = auth.create_token(name="op", roles=["operator"], actor=Actor.system("t"))
    resp = client.post("/api/incidents/cap", data=b"<alert/>", headers=_basic("x", secret) | {
        "Content-Type": "application/cap+xml"})
    assert resp.status_code == 401


def test_every_401_carries_a_challenge(app, client):
    resp = client.get(f"{BASE}/collections")
    assert resp.status_code == 401
    offered = resp.headers.getlist("WWW-Authenticate")
    assert any(v.startswith("Basic realm=") for v in offered)
    assert any(v.startswith("Bearer realm=") for v in offered)
    other = client.get("/api/incidents")
    assert other.status_code == 401
    # Elsewhere only Bearer: a browser whose session expired gets no password dialog.
    assert other.headers.getlist("WWW-Authenticate") == ['Bearer realm="coordination"']


def test_datetime_filters_units_by_their_last_fix(app, client):
    secret = _secret()
    early = mf.unit(at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    late = mf.unit(at=datetime(2026, 12, 2, 8, 30, tzinfo=UTC))
    headers = _basic("qgis", secret)

    def ids(query: str) -> list[int]:
        resp = client.get(f"{BASE}/collections/units/items?{query}", headers=headers)
        assert resp.status_code == 200, resp.get_json()
        return [f["id"] for f in resp.get_json()["features"]]

    assert ids("datetime=2026-12-02T00:00:00Z/..") == [late.id]
    assert ids("datetime=../2026-12-01T23:59:59Z") == [early.id]
    assert ids("datetime=2026-12-01") == [early.id]
    assert ids("datetime=2026-12-02T08:30:00Z") == [late.id]
    assert sorted(ids("datetime=2026-11-30T00:00:00%2B08:00/2026-12-03")) == sorted(
        [early.id, late.id])
    page = client.get(f"{BASE}/collections/units/items?limit=1&datetime=2026-12-01/..",
                      headers=headers).get_json()
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "datetime=2026-12-01%2F.." in nxt


def test_datetime_filters_facilities_by_their_last_report(app, client):
    secret = _secret()
    reported = mf.facility(initial={"figures": {"icu_bed": {"capacity": 4, "occupied": 1}}})
    mf.facility()  # never reported: has no time, so no interval holds it
    resp = client.get(f"{BASE}/collections/facilities/items?datetime=2000-01-01/..",
                      headers=_basic("qgis", secret)).get_json()
    assert [f["id"] for f in resp["features"]] == [reported.id]


def test_datetime_is_accepted_and_ignored_without_time_and_checked_everywhere(app, client):
    secret = _secret()
    upsert_places(places=[PlaceIn(code="V1", name="村", kind="village", population=1,
                                  lon=112.0, lat=41.0)], actor=mf.ACTOR, region=mf.REGION)
    headers = _basic("qgis", secret)
    for cid in ("places", "admin-areas"):
        resp = client.get(f"{BASE}/collections/{cid}/items?datetime=2026-12-02", headers=headers)
        assert resp.status_code == 200 and resp.get_json()["numberReturned"] > 0
    for bad in ("yesterday", "../..", "2026-12-03/2026-12-01", "2026-12-01/2026-12-02/x"):
        resp = client.get(f"{BASE}/collections/places/items?datetime={bad}", headers=headers)
        assert resp.status_code == 400 and "datetime" in resp.get_json()["error"], bad


def test_each_collection_has_one_geometry_type(app, client):
    secret = _secret()
    mf.facility()
    mf.unit()
    square = [[[112.59, 41.29], [112.61, 41.29], [112.61, 41.31], [112.59, 41.31],
               [112.59, 41.29]]]
    upsert_places(places=[
        PlaceIn(code="V1", name="村", kind="village", population=1, lon=112.0, lat=41.0),
        PlaceIn(code="M1", name="矿", kind="mine", population=1, lon=112.6, lat=41.3,
                geometry={"type": "Polygon", "coordinates": square}),
        PlaceIn(code="M2", name="矿二", kind="mine", population=1, lon=112.7, lat=41.3,
                geometry={"type": "MultiPolygon", "coordinates": [[[
                    [112.69, 41.29], [112.71, 41.29], [112.71, 41.31], [112.69, 41.31],
                    [112.69, 41.29]]]]}),
    ], actor=mf.ACTOR, region=mf.REGION)
    headers = _basic("qgis", secret)
    ids = [c["id"] for c in client.get(f"{BASE}/collections",
                                       headers=headers).get_json()["collections"]]
    kinds: dict[str, set[str]] = {}
    for cid in ids:
        feats = client.get(f"{BASE}/collections/{cid}/items?limit=10000",
                           headers=headers).get_json()["features"]
        kinds[cid] = {f["geometry"]["type"] for f in feats if f["geometry"]}
        assert len(kinds[cid]) <= 1, (cid, kinds[cid])
    assert kinds["places"] == {"Point"} and kinds["place-areas"] == {"MultiPolygon"}
    outlines = client.get(f"{BASE}/collections/place-areas/items",
                          headers=headers).get_json()["features"]
    assert sorted(f["properties"]["code"] for f in outlines) == ["M1", "M2"]


def test_gdal_ogrinfo_over_basic_authentication(gdal_server, tmp_path):  # noqa: F811
    server, secret = gdal_server
    base = f"OAPIF:{server.url}/api/ogc"
    env = dict(os.environ, GDAL_HTTPAUTH="BASIC", GDAL_HTTP_USERPWD=f"qgis:{secret}",
               CPL_DEBUG="OFF", GDAL_HTTP_TIMEOUT="60")
    env.pop("GDAL_HTTP_HEADERS", None)
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", base], env=env, capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    blocks = {b.split("\n", 1)[0].strip(): b for b in out.stdout.split("Layer name: ")[1:]}
    assert "Feature Count: 1250" in blocks["facilities"]
    assert "Geometry: Point" in blocks["places"]
    wrong = dict(env, GDAL_HTTP_USERPWD="qgis:not-the-token")
    denied = subprocess.run(["ogrinfo", "-ro", "-so", base], env=wrong, capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert denied.returncode != 0


def test_incidents_collection_filters_by_time_found_and_keeps_personal_data_out(app, client):
    from coordination.incidents import service as incidents
    from coordination.incidents.schemas import IncidentIn

    secret = _secret()
    early = incidents.create_incident(data=IncidentIn(
        type="suspected_case", disease="plague", lon=113.1, lat=41.0, reporter="王芳",
        phone="13800000000", notes="家住三楼", found_at=datetime(2026, 1, 5, 8, tzinfo=UTC)),
        actor=Actor.system("t"))
    late = incidents.create_incident(data=IncidentIn(
        type="other", lon=113.2, lat=41.1), actor=Actor.system("t"))
    headers = _basic("qgis", secret)
    body = client.get(f"{BASE}/collections/incidents/items?datetime=../2026-01-31",
                      headers=headers).get_json()
    assert [f["id"] for f in body["features"]] == [early["id"]]
    every = client.get(f"{BASE}/collections/incidents/items", headers=headers).get_json()
    assert sorted(f["id"] for f in every["features"]) == sorted([early["id"], late["id"]])
    text = str(every)
    assert "王芳" not in text and "13800000000" not in text and "家住三楼" not in text
    one = client.get(f"{BASE}/collections/incidents/items/{early['id']}", headers=headers)
    assert one.get_json()["properties"]["disease"] == "plague"
