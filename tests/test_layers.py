"""GIS layer import and export: formats, CRS, GCJ-02, bad rows, the page, the API, the CLI.

Fixtures are written with geopandas/pyogrio into tmp_path (real GeoJSON, GeoPackage,
zipped Shapefile and CSV files), imported through the real service, page, API or
command, and compared with what comes back out of the GeoJSON export.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from flask_babel import force_locale
from shapely.geometry import LineString, Point, Polygon, shape
from sqlalchemy import func, select

from coordination.events import Event
from coordination.extensions import db
from coordination.facilities.models import CapacityReport, Facility
from coordination.geo import gcj02, layers
from coordination.geo.layer_export import export_layer
from coordination.geo.layer_files import MAX_LAYER_BYTES
from coordination.geo.places import PopulatedPlace

from . import map_factories as mf
from .support import csrf_from

REGION = mf.REGION
# Three points around Jining (Ulanqab), WGS-84.
POINTS = [(113.123, 41.000), (113.150, 40.962), (113.108, 41.130)]


def _count(model: Any) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def _state() -> tuple[int, int, int, int]:
    return (_count(Facility), _count(PopulatedPlace), _count(CapacityReport), _count(Event))


def _facility_frame(short: bool = False) -> gpd.GeoDataFrame:
    data: dict[str, list[Any]] = {
        "code": ["FC-A", "FC-B", "FC-C"],
        "name": ["集宁区发热门诊", "Fever clinic <b>B</b>", "卓资县发热门诊"],
        "address": ["新华街1号", "", "民主路7号"],
    }
    if not short:  # Shapefile columns are at most 10 characters long
        data["isolation_room_capacity"] = [10, 4, 6]
        data["isolation_room_occupied"] = [2, 0, 6]
    return gpd.GeoDataFrame(data, geometry=[Point(p) for p in POINTS], crs="EPSG:4326")


def _zip_shapefile(frame: gpd.GeoDataFrame, folder: Path, *, prj: bool = True) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_file(folder / "clinics.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in sorted(folder.iterdir()):
            if part.suffix == ".prj" and not prj:
                continue
            z.write(part, f"data/{part.name}")
    return buf.getvalue()


def _write(frame: gpd.GeoDataFrame, tmp_path: Path, fmt: str) -> tuple[bytes, str]:
    if fmt == "geojson":
        path = tmp_path / "layer.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    elif fmt == "gpkg":
        path = tmp_path / "layer.gpkg"
        frame.to_file(path, driver="GPKG", layer="clinics", engine="pyogrio")
    elif fmt == "shapefile":
        return _zip_shapefile(frame, tmp_path / "shp"), "clinics.zip"
    else:
        path = tmp_path / "layer.csv"
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["longitude"], table["latitude"] = frame.geometry.x, frame.geometry.y
        table.to_csv(path, index=False)
    return path.read_bytes(), path.name


def _import(content: bytes, filename: str, kind: str = "fever_clinic", **kw: Any) -> dict:
    return layers.import_layer(content=content, filename=filename, kind=kind, actor=mf.ACTOR,
                               region=REGION, **kw)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two lon/lat points (haversine, R = 6371 km)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shapefile", "csv"])
def test_each_format_round_trips(app, tmp_path, fmt):
    frame = _facility_frame(short=fmt == "shapefile")
    content, name = _write(frame, tmp_path, fmt)
    events_before = _count(Event)
    result = _import(content, name)
    assert (result["rows"], result["created"], result["updated"]) == (3, 3, 0)
    assert _count(Facility) == 3
    assert _count(Event) == events_before + 1
    with db.reading() as s:
        ev = s.scalars(select(Event).where(Event.type == "facilities.loaded")).one()
    assert ev.payload["created"] == 3 and ev.payload["source"] == name

    exported = export_layer(kind="fever_clinic")
    assert "crs" not in exported and exported["type"] == "FeatureCollection"
    by_code = {f["id"]: f for f in exported["features"]}
    assert sorted(by_code) == ["FC-A", "FC-B", "FC-C"]
    for code, name_, address, point in zip(frame.code, frame.name, frame.address, POINTS,
                                           strict=True):
        feat = by_code[code]
        assert feat["geometry"]["type"] == "Point"
        lon, lat = feat["geometry"]["coordinates"]  # RFC 7946: lon, lat
        assert abs(lon - point[0]) < 1e-7 and abs(lat - point[1]) < 1e-7
        assert feat["properties"]["name"] == name_
        assert feat["properties"]["address"] == address
        assert feat["properties"]["kind"] == "fever_clinic"
    if fmt != "shapefile":
        assert by_code["FC-A"]["properties"]["isolation_room_capacity"] == 10
        assert by_code["FC-C"]["properties"]["isolation_room_occupied"] == 6

    # The export imports again as updates of the same rows, never duplicates.
    again = _import(json.dumps(exported).encode(), "export.geojson")
    assert (again["created"], again["updated"]) == (0, 3)
    assert _count(Facility) == 3
    assert export_layer(kind="fever_clinic")["features"] == exported["features"]


def test_reimport_updates_positions_and_names_and_keeps_reports(app, tmp_path):
    content, name = _write(_facility_frame(), tmp_path, "csv")
    _import(content, name)
    reports = _count(CapacityReport)
    moved = _facility_frame()
    moved.loc[0, "name"] = "集宁区发热门诊（新址）"
    moved.loc[0, "geometry"] = Point(113.2, 41.05)
    content, name = _write(moved, tmp_path, "csv")
    result = _import(content, name)
    assert (result["created"], result["updated"]) == (0, 3)
    assert _count(CapacityReport) == reports  # figures belong to the facility's own reports
    with db.reading() as s:
        f = s.scalars(select(Facility).where(Facility.code == "FC-A")).one()
    assert (f.name, f.lon, f.lat) == ("集宁区发热门诊（新址）", 113.2, 41.05)


def test_places_with_polygons_export_right_hand_rings(app, tmp_path):
    clockwise = Polygon([(113.10, 41.00), (113.10, 41.02), (113.13, 41.02), (113.13, 41.00)])
    assert not clockwise.exterior.is_ccw
    frame = gpd.GeoDataFrame(
        {"code": ["V-1", "S-1"], "name": ["霸王河村", "集宁一中"], "type": ["村", "school"],
         "population": [1200, 2400]},
        geometry=[clockwise, Point(113.12, 41.01)], crs="EPSG:4326")
    content, name = _write(frame, tmp_path, "gpkg")
    result = _import(content, name, kind="places")
    assert (result["created"], result["updated"]) == (2, 0)
    exported = export_layer(kind="places")
    village = next(f for f in exported["features"] if f["id"] == "V-1")
    assert village["properties"] == {"code": "V-1", "name": "霸王河村", "kind": "village",
                                     "population": 1200, "area": None}
    ring = shape(village["geometry"]).exterior
    assert ring.is_ccw  # RFC 7946 section 3.1.6: exterior rings counter-clockwise
    assert shape(village["geometry"]).equals(clockwise)
    again = _import(json.dumps(exported).encode(), "places.geojson", kind="places")
    assert (again["created"], again["updated"]) == (0, 2)


def test_units_layer_exports(app):
    mf.unit(call_sign="乌120-99", lon=113.1, lat=41.0)
    body = export_layer(kind="units")
    assert [f["id"] for f in body["features"]] == ["乌120-99"]
    assert body["features"][0]["geometry"]["coordinates"] == [113.1, 41.0]


# --- CRS and GCJ-02 ------------------------------------------------------------------------


def test_a_projected_file_is_reprojected_to_wgs84(app, tmp_path):
    utm = _facility_frame().to_crs("EPSG:32649")  # UTM zone 49N, metres
    assert utm.geometry.x.min() > 1000  # really metres, not degrees
    content, name = _write(utm, tmp_path, "gpkg")
    result = _import(content, name, dry_run=True)
    assert "32649" in result["crs"]
    _import(content, name)
    with db.reading() as s:
        got = {f.code: (f.lon, f.lat) for f in s.scalars(select(Facility))}
    for code, point in zip(["FC-A", "FC-B", "FC-C"], POINTS, strict=True):
        assert _metres(got[code], point) < 0.05


def test_web_mercator_geojson_is_reprojected(app, tmp_path):
    merc = _facility_frame().to_crs("EPSG:3857")
    content, name = _write(merc, tmp_path, "geojson")
    assert b"3857" in content  # GDAL wrote the legacy crs member
    _import(content, name)
    with db.reading() as s:
        got = {f.code: (f.lon, f.lat) for f in s.scalars(select(Facility))}
    assert _metres(got["FC-B"], POINTS[1]) < 0.05


# Test pairs (WGS-84 lat, lng, GCJ-02 lat, lng) from the eviltransform project's test suite,
# https://github.com/googollee/eviltransform/blob/master/go/transform_test.go
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize("pair", EVILTRANSFORM_PAIRS)
def test_gcj02_test_vectors(pair):
    wgs_lat, wgs_lng, gcj_lat, gcj_lng = pair
    lon, lat = gcj02.wgs84_to_gcj02(wgs_lng, wgs_lat)
    assert _metres((float(lon), float(lat)), (gcj_lng, gcj_lat)) < 0.5
    lon, lat = gcj02.gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert _metres((float(lon), float(lat)), (wgs_lng, wgs_lat)) < 1.0
    # The iterative inverse is exact for the forward transform (< 0.2 m, in fact < 1 mm) ...
    back_lon, back_lat = gcj02.wgs84_to_gcj02(lon, lat)
    assert _metres((float(back_lon), float(back_lat)), (gcj_lng, gcj_lat)) < 0.001
    # ... where the one-step inverse (subtract the offset at the GCJ point) is metres off.
    f_lon, f_lat = gcj02.wgs84_to_gcj02(gcj_lng, gcj_lat)
    one_step = (2 * gcj_lng - float(f_lon), 2 * gcj_lat - float(f_lat))
    assert _metres(one_step, (float(lon), float(lat))) > 0.2


def test_gcj02_is_vectorised():
    lons, lats = gcj02.gcj02_to_wgs84([p[3] for p in EVILTRANSFORM_PAIRS],
                                      [p[2] for p in EVILTRANSFORM_PAIRS])
    assert lons.shape == (3,)
    for lon, lat, pair in zip(lons, lats, EVILTRANSFORM_PAIRS, strict=True):
        assert _metres((lon, lat), (pair[1], pair[0])) < 1.0


def test_import_converts_gcj02_only_when_the_source_says_so(app):
    wgs_lat, wgs_lng, gcj_lat, gcj_lng = EVILTRANSFORM_PAIRS[2]  # Beijing, inside the region
    ulaanbaatar = (106.917, 47.918)  # inside the region's box; no rectangle decides anything
    csv = (f"code,name,lng,lat\nBJ,北京,{gcj_lng},{gcj_lat}\n"
           f"UB,Ulaanbaatar,{ulaanbaatar[0]},{ulaanbaatar[1]}\n").encode()
    _import(csv, "from-amap.csv", source=layers.Source.GCJ02)
    with db.reading() as s:
        got = {f.code: (f.lon, f.lat) for f in s.scalars(select(Facility))}
    assert _metres(got["BJ"], (wgs_lng, wgs_lat)) < 1.0
    assert _metres(got["UB"], ulaanbaatar) > 50  # the flag converts every row of the file
    _import(csv.replace(b"UB,", b"UB2,").replace(b"BJ,", b"BJ2,"), "plain.csv")
    with db.reading() as s:
        plain = {f.code: (f.lon, f.lat) for f in s.scalars(select(Facility))}
    assert plain["UB2"] == ulaanbaatar
    assert _metres(plain["BJ2"], (gcj_lng, gcj_lat)) < 0.05  # stored to 7 decimals (~1 cm)


# --- bad rows ------------------------------------------------------------------------------

BAD_CSV = """code,name,kind,lon,lat,area,isolation_room_capacity
OK-1,好的发热门诊,fever_clinic,113.1,41.0,,4
OK-2,,fever_clinic,113.1,41.0,,
,没有编号,fever_clinic,113.1,41.0,,
SW-1,经纬度颠倒,fever_clinic,41.0,113.1,,
OUT-1,巴黎,fever_clinic,2.35,48.85,,

NAN-1,坐标不是数字,fever_clinic,abc,41.0,,
OK-1,重复编号,fever_clinic,113.2,41.1,,
KIND-1,未知类型,field_hospital,113.2,41.1,,
CAP-1,容量不是数字,fever_clinic,113.2,41.1,,lots
AREA-1,未知地区,fever_clinic,113.2,41.1,999999,
MIS-1,缺少坐标,fever_clinic,,41.1,,
OTHER-1,别的类型,isolation_point,113.2,41.1,,
"""
# (spreadsheet line, field): line 7 is blank, so later rows keep their line numbers.
BAD_CSV_EXPECTED = [
    (3, "name"), (4, "code"), (5, "lon/lat"), (6, "lon/lat"), (8, "lon"), (9, "code"),
    (10, "kind"), (11, "isolation_room_capacity"), (12, "area"), (13, "lon"), (14, "kind"),
]


def test_every_bad_row_is_reported_and_nothing_is_written(app):
    mf.area()
    before = _state()
    with force_locale("en"), pytest.raises(layers.LayerRejected) as caught:
        _import(BAD_CSV.encode(), "bad.csv")
    assert caught.value.status == 422
    got = [(d["row"], d["field"]) for d in caught.value.details]
    assert got == BAD_CSV_EXPECTED
    messages = {(d["row"], d["field"]): d["message"] for d in caught.value.details}
    assert "swapped" in messages[(5, "lon/lat")]
    assert "outside the configured region" in messages[(6, "lon/lat")]
    assert "row 2" in messages[(9, "code")]
    assert _state() == before
    with pytest.raises(layers.LayerRejected):
        _import(BAD_CSV.encode(), "bad.csv", dry_run=True)


def test_bad_geometries_and_place_fields_are_reported(app, tmp_path):
    bowtie = Polygon([(113.10, 41.00), (113.12, 41.02), (113.12, 41.00), (113.10, 41.02)])
    assert not bowtie.is_valid
    frame = gpd.GeoDataFrame(
        {"code": ["P-1", "P-2", "P-3", "P-4", "P-5", "P-6", "P-7"],
         "name": ["好", "空", "自相交", "线", "未知类型", "人口缺失", "人口不是数字"],
         "kind": ["village", "village", "village", "village", "castle", "school", "mine"],
         "population": ["10", "10", "10", "10", "10", None, "many"]},
        geometry=[Point(113.1, 41.0), None, bowtie,
                  LineString([(113.1, 41.0), (113.2, 41.1)]), Point(113.1, 41.0),
                  Point(113.1, 41.0), Point(113.1, 41.0)], crs="EPSG:4326")
    content, name = _write(frame, tmp_path, "geojson")
    before = _state()
    with force_locale("en"), pytest.raises(layers.LayerRejected) as caught:
        _import(content, name, kind="places")
    got = [(d["row"], d["field"]) for d in caught.value.details]
    assert got == [(2, "geometry"), (3, "geometry"), (4, "geometry"), (5, "kind"),
                   (6, "population"), (7, "population")]
    assert "invalid" in caught.value.details[1]["message"]
    assert _state() == before


def test_an_id_used_by_a_facility_of_another_kind_is_refused(app):
    mf.facility(code="X-1", kind="isolation_point")
    before = _state()
    with pytest.raises(layers.LayerRejected) as caught:
        _import(b"code,name,lon,lat\nX-1,Clash,113.1,41.0\n", "clash.csv")
    assert [(d["row"], d["field"]) for d in caught.value.details] == [(2, "code")]
    assert _state() == before


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_a_shapefile_without_cpg_keeps_its_chinese_names(app, tmp_path, encoding):
    folder = tmp_path / "cpg"
    folder.mkdir()
    _facility_frame(short=True).to_file(folder / "clinics.shp", engine="pyogrio",
                                        encoding=encoding)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in folder.iterdir():
            if part.suffix != ".cpg":
                z.write(part, part.name)
    _import(buf.getvalue(), "clinics.zip")
    with db.reading() as s:
        names = set(s.scalars(select(Facility.name)))
    assert "集宁区发热门诊" in names and "卓资县发热门诊" in names


def test_the_service_refuses_to_change_a_facility_kind_even_without_the_validator(app):
    from coordination.errors import Conflict
    from coordination.facilities import service
    from coordination.facilities.schemas import NewFacility

    mf.facility(code="X-2", kind="isolation_point")
    before = _state()
    with pytest.raises(Conflict):
        service.upsert_facilities(items=[
            NewFacility(code="NEW-1", name="n", kind="fever_clinic", lon=113.1, lat=41.0),
            NewFacility(code="X-2", name="x", kind="fever_clinic", lon=113.1, lat=41.0)],
            actor=mf.ACTOR, region=REGION)
    assert _state() == before


def test_a_shapefile_without_prj_is_refused(app, tmp_path):
    content = _zip_shapefile(_facility_frame(short=True), tmp_path / "noprj", prj=False)
    with force_locale("en"), pytest.raises(layers.CoordinationError) as caught:
        _import(content, "noprj.zip")
    assert caught.value.status == 400 and ".prj" in caught.value.message
    assert _count(Facility) == 0


def test_a_geopackage_without_crs_is_refused_but_geojson_is_wgs84(app, tmp_path):
    frame = _facility_frame().set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="crs"):
        content, name = _write(frame, tmp_path, "gpkg")
    with pytest.raises(layers.CoordinationError) as caught:
        _import(content, name)
    assert caught.value.status == 400
    with pytest.warns(UserWarning, match="crs"):
        content, name = _write(frame, tmp_path, "geojson")
    assert _import(content, name)["created"] == 3  # RFC 7946: GeoJSON is WGS-84


def test_unknown_layer_kind(app):
    with pytest.raises(layers.CoordinationError) as caught:
        _import(b"code,name,lon,lat\nA,B,113.1,41.0\n", "a.csv", kind="hospitals")
    assert caught.value.status == 404


# --- the page, the API, the command --------------------------------------------------------


def _login(auth, make_user, role: str = "operator") -> None:
    make_user(role, username=f"gis-{role}")
    auth.login(f"gis-{role}")


def test_upload_page_previews_then_imports_with_csrf(app, auth, make_user, tmp_path):
    _login(auth, make_user)
    page = auth.client.get("/layers")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "/api/layers/places.geojson" in page.text
    assert 'href="/layers"' in auth.client.get("/me").text  # in the navigation
    token = csrf_from(page.text)
    content, name = _write(_facility_frame(), tmp_path, "csv")

    def post(action: str, data: bytes, csrf: str | None = token, filename: str = name) -> Any:
        form = {"kind": "fever_clinic", "file": (io.BytesIO(data), filename)}
        if action == "preview":
            form["preview"] = "1"
        if csrf:
            form["csrf_token"] = csrf
        return auth.client.post("/layers", data=form, content_type="multipart/form-data")

    assert post("import", content, csrf=None).status_code == 400  # no CSRF token
    assert _count(Facility) == 0
    with force_locale("en"):
        preview = post("preview", content)
    assert preview.status_code == 200 and 'id="layer-result"' in preview.text
    assert "Fever clinic &lt;b&gt;B&lt;/b&gt;" in preview.text  # escaped
    assert _count(Facility) == 0  # a preview writes nothing
    done = post("import", content)
    assert done.status_code == 201 and _count(Facility) == 3
    before = _state()
    bad = post("import", BAD_CSV.encode(), filename="bad.csv")
    assert bad.status_code == 422 and 'id="layer-problems"' in bad.text
    for row, _field in BAD_CSV_EXPECTED:
        assert f"<td>{row}</td>" in bad.text
    assert _state() == before
    assert post("import", b"", filename="empty.csv").status_code == 400


def test_upload_page_is_for_operators_and_admins_only(app, auth, make_user):
    _login(auth, make_user, "liaison")
    assert auth.client.get("/layers").status_code == 403


def test_api_imports_and_exports(app, auth, make_user, tmp_path):
    _login(auth, make_user, "admin")
    content, name = _write(_facility_frame(), tmp_path, "gpkg")
    headers = {"X-CSRFToken": auth.csrf}
    r = auth.client.post("/api/layers/fever_clinic", headers=headers,
                         data={"file": (io.BytesIO(content), name), "dry_run": "1"})
    assert r.status_code == 200 and r.get_json()["dry_run"] and _count(Facility) == 0
    r = auth.client.post("/api/layers/fever_clinic", headers=headers,
                         data={"file": (io.BytesIO(content), name)})
    assert r.status_code == 201 and r.get_json()["created"] == 3
    r = auth.client.post("/api/layers/fever_clinic", headers=headers,
                         data={"file": (io.BytesIO(BAD_CSV.encode()), "bad.csv")})
    assert r.status_code == 422
    body = r.get_json()
    assert [(d["row"], d["field"]) for d in body["details"]] == BAD_CSV_EXPECTED
    r = auth.client.get("/api/layers/fever_clinic.geojson")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert "attachment" in r.headers["Content-Disposition"]
    data = r.get_json()
    assert "crs" not in data and len(data["features"]) == 3
    assert auth.client.get("/api/layers/nonsense.geojson").status_code == 404


@pytest.mark.parametrize("filename,content", [
    ("layer.gpkg", b"this is not a geopackage at all" * 10),
    ("layer.geojson", b'{"type": "FeatureCollection", "features": [ {"type": '),
    ("layer.zip", b"PK\x03\x04 broken zip"),
    ("layer.kml", b"<kml/>"),
    ("layer.csv", b""),
    ("layer.csv", b"name,city\nA,B\n"),
    ("layer.csv", b"\xff\xfe\x00garbage\x81\x82"),
    ("layer.geojson", b'{"type": "FeatureCollection", "features": []}'),
    ("huge.csv", b"code,name,lon,lat\n" + b"x" * (MAX_LAYER_BYTES + 10)),
])
def test_bad_files_get_a_4xx_never_a_500(app, auth, make_user, filename, content):
    _login(auth, make_user)
    r = auth.client.post("/api/layers/fever_clinic", headers={"X-CSRFToken": auth.csrf},
                         data={"file": (io.BytesIO(content), filename)})
    assert 400 <= r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.get_json()["error"]
    if filename == "huge.csv":
        assert r.status_code == 413
    page = auth.client.post("/layers", content_type="multipart/form-data", data={
        "kind": "fever_clinic", "csrf_token": auth.csrf,
        "file": (io.BytesIO(content), filename)})
    assert 400 <= page.status_code < 500
    assert _count(Facility) == 0


def test_zip_without_a_shapefile_and_with_two(app, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(layers.CoordinationError) as caught:
        _import(buf.getvalue(), "empty.zip")
    assert caught.value.status == 400


def test_cli_import_dry_run_export(app, tmp_path, monkeypatch):
    from coordination import cli

    monkeypatch.setattr(cli, "_app", lambda: app)
    monkeypatch.setattr(cli, "_migrate", lambda: None)
    content, name = _write(_facility_frame(), tmp_path, "geojson")
    path = tmp_path / name
    runner = CliRunner()
    result = runner.invoke(cli.main, ["import-layer", str(path), "--kind", "fever_clinic",
                                      "--dry-run"])
    assert result.exit_code == 0, result.output
    assert _count(Facility) == 0
    result = runner.invoke(cli.main, ["import-layer", str(path), "--kind", "fever_clinic"])
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output and _count(Facility) == 3

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    before = _state()
    with force_locale("en"):
        result = runner.invoke(cli.main, ["import-layer", str(bad), "--kind", "fever_clinic"])
    assert result.exit_code == 1
    for row, field in BAD_CSV_EXPECTED:
        assert f"bad.csv: row {row}, {field}: " in result.output
    assert _state() == before

    out = tmp_path / "out.geojson"
    result = runner.invoke(cli.main, ["export-layer", "fever_clinic", "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(f["id"] for f in exported["features"]) == ["FC-A", "FC-B", "FC-C"]
    result = runner.invoke(cli.main, ["export-layer", "castles"])
    assert result.exit_code == 1
