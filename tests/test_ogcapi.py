"""OGC API – Features: documents, RFC 7946 GeoJSON, paging, bbox, errors, and GDAL.

The Flask test client checks the documents and every rule; the last tests run
a real third-party client (GDAL's OAPIF driver, Debian's ``gdal-bin``) against
a real server process, the way a GIS officer's QGIS would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from shapely.geometry import shape

from coordination.auth import service as auth
from coordination.events import Actor
from coordination.geo import boundaries, ogc
from coordination.geo.places import PlaceIn, upsert_places

from . import map_factories as mf
from .support import need, start_server

BASE = "/api/ogc"


def _token(role: str = "operator") -> dict[str, str]:
    _t, secret = auth.create_token(name=f"gis-{role}", roles=[role], actor=Actor.system("t"))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def gis(app):
    return _token("trainer")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _ring_is_ccw(ring: list[list[float]]) -> bool:
    area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))
    return area > 0


def _assert_rfc7946(feature: dict) -> None:
    """lon,lat order inside the region, right-hand rings, valid geometry."""
    assert feature["type"] == "Feature" and "properties" in feature
    geom = feature["geometry"]
    if geom is None:
        return
    g = shape(geom)
    assert g.is_valid
    minx, miny, maxx, maxy = g.bounds
    assert 97 <= minx <= maxx <= 127 and 37 <= miny <= maxy <= 54, "lon,lat order"
    polys = []
    if geom["type"] == "Polygon":
        polys = [geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        polys = geom["coordinates"]
    for rings in polys:
        assert _ring_is_ccw(rings[0]), "exterior ring must be counter-clockwise"
        for hole in rings[1:]:
            assert not _ring_is_ccw(hole), "holes must be clockwise"


def test_landing_conformance_and_openapi(client, gis):
    landing = client.get(BASE + "/", headers=gis)
    assert landing.status_code == 200 and landing.mimetype == "application/json"
    rels = {link["rel"]: link for link in landing.get_json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].endswith("/api/ogc/collections")
    assert client.get(BASE, headers=gis).status_code == 200
    conf = client.get(_path(rels["conformance"]["href"]), headers=gis).get_json()
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf["conformsTo"]
    api = client.get(_path(rels["service-desc"]["href"]), headers=gis)
    assert api.status_code == 200
    assert api.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    doc = api.get_json()
    assert doc["openapi"].startswith("3.0")
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["default"] == 100
    # every $ref resolves inside the document
    refs = [r for r in json.dumps(doc).split('"$ref": "')[1:]]
    for ref in refs:
        node = doc
        for part in ref.split('"')[0].lstrip("#/").split("/"):
            node = node[part]
    page = client.get(_path(rels["service-doc"]["href"]), headers=gis)
    assert page.status_code == 200 and "facilities-fever_clinic" in page.text


def test_collections_list_and_extent(client, gis):
    mf.facility(lon=112.0, lat=40.5)
    mf.facility(kind="designated_hospital", lon=113.5, lat=41.8)
    body = client.get(BASE + "/collections", headers=gis).get_json()
    ids = [c["id"] for c in body["collections"]]
    assert ids[:2] == ["facilities", "facilities-fever_clinic"]
    assert {"units", "places", "admin-areas"} <= set(ids)
    fac = client.get(BASE + "/collections/facilities", headers=gis).get_json()
    assert fac["extent"]["spatial"]["bbox"] == [[112.0, 40.5, 113.5, 41.8]]
    assert fac["extent"]["spatial"]["crs"] == ogc.CRS84
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json"
               for link in fac["links"])
    # an empty collection answers the configured region
    empty = client.get(BASE + "/collections/facilities-cdc_lab", headers=gis).get_json()
    assert empty["extent"]["spatial"]["bbox"] == [[97.0, 37.2, 126.3, 53.6]]
    areas = client.get(BASE + "/collections/admin-areas", headers=gis).get_json()
    x0, y0, x1, y1 = areas["extent"]["spatial"]["bbox"][0]
    assert 97 < x0 < 98 and 126 < x1 < 127


def test_items_are_rfc7946_with_flat_properties(client, gis):
    f = mf.facility(name="<script>alert(1)</script>", lon=112.5, lat=40.9,
                    initial={"figures": {"icu_bed": {"capacity": 4, "occupied": 1}}})
    mf.unit(negative_pressure=True, crew=["王芳", "李强"])
    upsert_places(places=[
        PlaceIn(code="V1", name="岱海村", kind="village", population=820, lon=112.5, lat=40.5),
        # clockwise on purpose: the API must turn it right-hand
        PlaceIn(code="M1", name="铁矿", kind="mine", population=300, lon=112.6, lat=41.3,
                geometry={"type": "Polygon", "coordinates": [[[112.59, 41.29], [112.59, 41.31],
                                                               [112.61, 41.31], [112.61, 41.29],
                                                               [112.59, 41.29]]]}),
    ], actor=mf.ACTOR, region=mf.REGION)
    for cid in ("facilities", "units", "places", "place-areas", "admin-areas"):
        resp = client.get(f"{BASE}/collections/{cid}/items", headers=gis)
        assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
        body = resp.get_json()
        assert body["type"] == "FeatureCollection" and body["numberReturned"] > 0
        for feat in body["features"]:
            _assert_rfc7946(feat)
    fac = client.get(f"{BASE}/collections/facilities/items", headers=gis).get_json()
    props = fac["features"][0]["properties"]
    assert fac["features"][0]["geometry"]["coordinates"] == [112.5, 40.9]
    assert props["name"] == "<script>alert(1)</script>"
    assert props["icu_bed_capacity"] == 4 and props["icu_bed_free"] == 3
    assert props["isolation_room_capacity"] is None  # same columns on every feature
    unit = client.get(f"{BASE}/collections/units/items", headers=gis).get_json()["features"][0]
    assert unit["properties"]["crew"] == "王芳, 李强"
    assert unit["properties"]["negative_pressure"] is True
    one = client.get(f"{BASE}/collections/facilities-fever_clinic/items/{f.id}", headers=gis)
    assert one.status_code == 200 and one.get_json()["id"] == f.id
    assert any(link["rel"] == "self" for link in one.get_json()["links"])
    # a feature of another collection is not found there
    assert client.get(f"{BASE}/collections/facilities-cdc_lab/items/{f.id}",
                      headers=gis).status_code == 404
    area = client.get(f"{BASE}/collections/admin-areas/items/150929", headers=gis).get_json()
    assert area["properties"]["name_zh"] == "四子王旗"


def test_paging_follows_next_links_over_every_feature(client, gis):
    made = {mf.facility(lon=111.5 + n * 0.01, lat=41.0).id for n in range(23)}
    seen: list[int] = []
    url = f"{BASE}/collections/facilities/items?limit=10"
    pages = 0
    prev_seen = False
    while url:
        body = client.get(url, headers=gis).get_json()
        pages += 1
        assert body["numberMatched"] == 23
        assert body["numberReturned"] == len(body["features"]) <= 10
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert "self" in links
        prev_seen = prev_seen or "prev" in links
        url = _path(links["next"]) if "next" in links else ""
    assert pages == 3 and prev_seen
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    # an offset beyond the end: empty page, no next
    tail = client.get(f"{BASE}/collections/facilities/items?offset=100", headers=gis).get_json()
    assert tail["numberReturned"] == 0 and tail["numberMatched"] == 23
    assert not any(link["rel"] == "next" for link in tail["links"])
    # limit above the maximum is lowered to it
    big = client.get(f"{BASE}/collections/facilities/items?limit=50000", headers=gis).get_json()
    assert big["numberReturned"] == 23
    assert "limit=10000" in next(lk["href"] for lk in big["links"] if lk["rel"] == "self")


def test_bbox_filters_points_and_polygons(client, gis):
    inside = mf.facility(lon=112.0, lat=41.0)
    mf.facility(lon=113.0, lat=41.0)
    upsert_places(places=[
        PlaceIn(code="V1", name="村", kind="village", population=1, lon=112.0, lat=41.0),
        PlaceIn(code="V2", name="远村", kind="village", population=1, lon=114.0, lat=42.0),
        # its centre is outside the box, its outline reaches in
        PlaceIn(code="M1", name="矿", kind="mine", population=1, lon=112.3, lat=41.0,
                geometry={"type": "Polygon", "coordinates": [[[112.15, 40.95], [112.45, 40.95],
                                                               [112.45, 41.05], [112.15, 41.05],
                                                               [112.15, 40.95]]]}),
    ], actor=mf.ACTOR, region=mf.REGION)
    box = "111.9,40.9,112.2,41.1"
    fac = client.get(f"{BASE}/collections/facilities/items?bbox={box}", headers=gis).get_json()
    assert [f["id"] for f in fac["features"]] == [inside.id] and fac["numberMatched"] == 1
    assert "bbox=111.9%2C40.9%2C112.2%2C41.1" in fac["links"][0]["href"]
    places = client.get(f"{BASE}/collections/places/items?bbox={box}", headers=gis).get_json()
    assert sorted(f["properties"]["code"] for f in places["features"]) == ["V1"]  # centres
    outlines = client.get(f"{BASE}/collections/place-areas/items?bbox={box}",
                          headers=gis).get_json()
    assert [f["properties"]["code"] for f in outlines["features"]] == ["M1"]
    three_d = client.get(f"{BASE}/collections/facilities/items?bbox=111.9,40.9,0,112.2,41.1,9",
                         headers=gis).get_json()
    assert three_d["numberMatched"] == 1
    areas = client.get(f"{BASE}/collections/admin-areas/items?bbox=111.0,42.0,111.5,42.5",
                       headers=gis).get_json()
    codes = {f["id"] for f in areas["features"]}
    assert "150929" in codes and "150902" not in codes  # Siziwang, not Jining


@pytest.mark.parametrize(("query", "word"), [
    # Tokens get the default locale (zh-CN): the reason names the parameter either way.
    ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("bbox=112,42,113,41", "纬度"),
    ("bbox=200,40,201,41", "经度"), ("limit=0", "limit"), ("limit=ten", "limit"),
    ("offset=-1", "offset"), ("f=html", "f=json"), ("colour=red", "colour"),
    ("bbox-crs=EPSG:3857", "bbox-crs"),
])
def test_bad_parameters_answer_400_with_a_message(client, gis, query, word):
    resp = client.get(f"{BASE}/collections/facilities/items?{query}", headers=gis)
    assert resp.status_code == 400 and resp.is_json
    assert word in resp.get_json()["error"]


def test_unknown_collection_and_feature_answer_404(client, gis):
    f = mf.facility()
    for url in ("/collections/sofas", "/collections/sofas/items",
                "/collections/facilities/items/999999", "/collections/facilities/items/abc",
                "/collections/admin-areas/items/000000", f"/collections/units/items/{f.id}9"):
        resp = client.get(BASE + url, headers=gis)
        assert resp.status_code == 404 and resp.is_json and resp.get_json()["error"], url


def test_access_needs_the_map_permission(client):
    assert client.get(BASE + "/collections").status_code == 401
    assert client.get(BASE + "/collections", headers=_token("liaison")).status_code == 403
    assert client.get(BASE + "/collections", headers=_token("operator")).status_code == 200


def test_areas_endpoint_serves_outlines():
    """The live map's areas layer: seats by default, polygons with ``boundaries=1``."""
    known = boundaries.by_code()
    assert len(known) == 13 and known["150900"]["properties"]["name_zh"] == "乌兰察布市"
    for f in known.values():
        _assert_rfc7946(f)


def test_areas_api_with_boundaries(client, gis):
    mf.area()
    plain = client.get("/api/areas", headers=gis).get_json()
    assert plain["features"][0]["geometry"]["type"] == "Point"
    outlined = client.get("/api/areas?boundaries=1", headers=gis).get_json()
    by_code = {f["properties"]["code"]: f for f in outlined["features"]}
    assert set(by_code) == {"150000", "150902"}  # the area and its province for context
    jining = by_code["150902"]
    assert jining["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert [jining["properties"]["seat_lon"], jining["properties"]["seat_lat"]] == \
        list(mf.JINING)
    assert shape(jining["geometry"]).contains(shape({"type": "Point",
                                                      "coordinates": list(mf.JINING)}))


# --- a real third-party client -------------------------------------------------



def _seed_server_db(url: str, instance: Path) -> str:
    """A migrated database with 1,250 facilities, 30 units and places; a GIS token."""
    from coordination import create_app, migrate
    from coordination.demo import ACTOR, AREAS
    from coordination.extensions import db
    from coordination.facilities.schemas import CapacityReportIn, NewFacility
    from coordination.facilities.service import create_facilities
    from coordination.geo.service import upsert_areas
    from coordination.units.schemas import NewUnit
    from coordination.units.service import create_units

    app = create_app({"instance_path": instance, "database_url": url, "secret_key": "gdal",
                      "redis_url": None})
    with app.app_context():
        migrate.upgrade()
        upsert_areas(areas=AREAS, actor=ACTOR)
        create_facilities(items=[NewFacility(
            code=f"G{n}", name=f"卫生院 {n}",
            kind="township_health_centre" if n % 5 else "fever_clinic",
            lon=111.2 + (n % 50) * 0.06, lat=40.3 + (n // 50) * 0.09,
            initial=None if n % 5 else CapacityReportIn.model_validate(
                {"figures": {"icu_bed": {"capacity": 4, "occupied": n % 4}}}))
            for n in range(1250)],
            actor=ACTOR, region=None)
        create_units(items=[NewUnit(call_sign=f"U{n}", lon=112 + n * 0.01, lat=41.0)
                            for n in range(30)], actor=ACTOR, region=None)
        upsert_places(places=[PlaceIn(code=f"P{n}", name=f"村{n}", kind="village", population=n,
                                      lon=112 + n * 0.001, lat=41.2) for n in range(40)],
                      actor=ACTOR, region=None)
        _t, secret = auth.create_token(name="qgis", roles=["trainer"], actor=ACTOR)
    db.dispose()
    return secret


@pytest.fixture
def gdal_server(tmp_path: Path):
    need("GDAL's ogrinfo (Debian gdal-bin)", shutil.which("ogrinfo") is not None)
    url = f"sqlite:///{tmp_path / 'gdal.db'}"
    secret = _seed_server_db(url, tmp_path / "instance")
    server = start_server(database_url=url, instance=tmp_path / "instance")
    try:
        yield server, secret
    finally:
        server.stop()


def _gdal(cmd: list[str], secret: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GDAL_HTTP_HEADERS=f"Authorization: Bearer {secret}",
               CPL_DEBUG="OFF", GDAL_HTTP_TIMEOUT="60")
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp)


def test_gdal_ogrinfo_lists_every_collection_with_counts(gdal_server, tmp_path):
    server, secret = gdal_server
    base = f"OAPIF:{server.url}/api/ogc"
    out = _gdal(["ogrinfo", "-ro", "-al", "-so", base], secret, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Layer name: facilities\n" in out.stdout
    assert "Layer name: facilities-fever_clinic" in out.stdout
    assert "Layer name: units" in out.stdout and "Layer name: admin-areas" in out.stdout
    blocks = {b.split("\n", 1)[0].strip(): b for b in out.stdout.split("Layer name: ")[1:]}
    assert "Feature Count: 1250" in blocks["facilities"]
    assert "Feature Count: 250" in blocks["facilities-fever_clinic"]
    assert "Feature Count: 30" in blocks["units"]
    assert "icu_bed_capacity: Integer" in blocks["facilities"]
    denied = subprocess.run(["ogrinfo", "-ro", "-so", base], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, GDAL_HTTP_HEADERS=""))
    assert denied.returncode != 0  # no token, no data


def test_gdal_ogr2ogr_pages_through_all_features(gdal_server, tmp_path):
    server, secret = gdal_server
    base = f"OAPIF:{server.url}/api/ogc"
    # a page size far below the count: GDAL must follow 13 next links
    out_path = tmp_path / "fac.geojson"
    res = _gdal(["ogr2ogr", "-f", "GeoJSON", str(out_path), base, "facilities",
                 "-oo", "PAGE_SIZE=100"], secret, tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads(out_path.read_text())
    codes = [f["properties"]["code"] for f in data["features"]]
    assert len(codes) == 1250 and len(set(codes)) == 1250
    first = next(f for f in data["features"] if f["properties"]["code"] == "G0")
    assert first["geometry"]["coordinates"][:2] == [111.2, 40.3]
    log = server.log()
    assert log.count("/api/ogc/collections/facilities/items") >= 13
    # a spatial filter is passed on as bbox
    box_path = tmp_path / "box.geojson"
    res = _gdal(["ogr2ogr", "-f", "GeoJSON", str(box_path), base, "facilities",
                 "-spat", "111.1", "40.2", "111.5", "40.5"], secret, tmp_path)
    assert res.returncode == 0, res.stderr
    boxed = json.loads(box_path.read_text())["features"]
    assert boxed and all(111.1 <= f["geometry"]["coordinates"][0] <= 111.5 for f in boxed)
    assert len(boxed) == 6 * 3  # lon steps 111.2..111.5 (6) × lat rows 40.3, 40.39, 40.48
    assert "/collections/facilities/items?" in server.log() and "bbox=111.1" in server.log()
