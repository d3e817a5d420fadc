"""Layer files as real tools write them (issue #23).

A UTF-8 Shapefile with Chinese field names written by GDAL (which cuts the DBF
names at 10 bytes, mid-character, as QGIS does), KML and KMZ as Google Earth
and 奥维互动地图 save them, an XLSX with 经度/纬度 columns, and the dry run's
column report that keeps re-imports from blanking what a file does not carry.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from shapely.geometry import Point
from sqlalchemy import select

from coordination.errors import CoordinationError
from coordination.extensions import db
from coordination.facilities.models import Facility
from coordination.geo import layers
from coordination.geo.service import AreaIn, upsert_areas

from . import map_factories as mf

POINTS = [(113.123, 41.000), (113.150, 40.962), (113.108, 41.130)]


def _import(content: bytes, filename: str, **kw: Any) -> dict:
    return layers.import_layer(content=content, filename=filename, kind="fever_clinic",
                               actor=mf.ACTOR, region=mf.REGION, **kw)


def _areas() -> None:
    upsert_areas(areas=[AreaIn(code=c, name_zh=n, name_en=n, level="county", lon=113.1,
                               lat=41.0, population=1) for c, n in
                        (("150902", "集宁区"), ("150921", "卓资县"))], actor=mf.ACTOR)


def _facility(code: str) -> Facility:
    with db.reading() as s:
        return s.scalars(select(Facility).where(Facility.code == code)).one()


def _qgis_shapefile(folder: Path) -> bytes:
    """Written by GDAL with a .cpg of UTF-8, as QGIS does: long names cut at 10 bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame({
        "编码": ["FC-A", "FC-B", "FC-C"],
        "名称": ["集宁区发热门诊", "卓资县发热门诊", "丰镇市发热门诊"],
        "联系电话": ["0474-8210001", "0474-8210002", ""],        # 12 bytes
        "行政区划代码": ["150902", "150921", "150902"],            # 18 bytes
        "备注说明": ["24小时", "", "夜间关闭"],                      # 12 bytes
    }, geometry=[Point(p) for p in POINTS], crs="EPSG:4326")
    with pytest.warns(RuntimeWarning):  # GDAL says it "laundered" the long names
        pyogrio.write_dataframe(frame, folder / "发热门诊.shp", encoding="UTF-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in sorted(folder.iterdir()):
            z.write(part, part.name)
    return buf.getvalue()


def _dbf_names(dbf: bytes) -> list[bytes]:
    header = int.from_bytes(dbf[8:10], "little")
    return [dbf[i:i + 11].split(b"\0", 1)[0] for i in range(32, header - 1, 32)]


def test_a_qgis_utf8_shapefile_with_cut_chinese_names_imports(app, tmp_path):
    _areas()
    content = _qgis_shapefile(tmp_path / "shp")
    dbf = next(p for p in (tmp_path / "shp").iterdir() if p.suffix == ".dbf").read_bytes()
    names = _dbf_names(dbf)
    assert "联系电话".encode()[:10] in names  # cut in the middle of 话, as the real file is
    with pytest.raises(UnicodeDecodeError):
        "联系电话".encode()[:10].decode("utf-8")

    result = _import(content, "发热门诊.zip", dry_run=True)
    cols = result["columns"]
    assert cols["used"]["联系电话"] == "contact_phone"
    assert cols["used"]["行政区划代码"] == "area"
    assert cols["unused"] == ["备注说"]  # said, not silently dropped
    assert "address" in cols["missing"] and "contact_name" in cols["missing"]
    assert set(cols["truncated"]) == {"联系电", "行政区", "备注说"}

    _import(content, "发热门诊.zip")
    clinic = _facility("FC-B")
    assert (clinic.name, clinic.contact_phone, clinic.area_code) == (
        "卓资县发热门诊", "0474-8210002", "150921")


def test_reimport_without_a_column_keeps_the_stored_values(app, tmp_path):
    _areas()
    full = tmp_path / "full.csv"
    full.write_text("code,name,area,address,longitude,latitude\n"
                    + "".join(f"FC-{n},门诊{n},150902,新华街{n}号,{lon},{lat}\n"
                              for n, (lon, lat) in enumerate(POINTS)), encoding="utf-8")
    _import(full.read_bytes(), "full.csv")
    # The same clinics from another system: no area column, one empty address.
    partial = tmp_path / "partial.csv"
    partial.write_text("编码,名称,地址,备注,经度,纬度\n"
                       "FC-0,门诊0,,新址,113.2,41.05\nFC-1,门诊1,民主路1号,,113.15,40.962\n",
                       encoding="utf-8")
    preview = _import(partial.read_bytes(), "partial.csv", dry_run=True)
    cols = preview["columns"]
    assert cols["unused"] == ["备注"]
    assert cols["missing"] == ["area", "contact_name", "contact_phone"]
    assert cols["kept"] == {"area": 2}
    assert cols["cleared"] == {"address": 1}
    _import(partial.read_bytes(), "partial.csv")
    assert _facility("FC-0").area_code == "150902"  # kept: the file has no area column
    assert _facility("FC-1").area_code == "150902"
    assert _facility("FC-0").address == ""  # cleared: the column is there, the cell empty
    assert _facility("FC-1").address == "民主路1号"


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document><name>发热门诊</name>
  <Folder><name>集宁区</name>
    <Placemark id="FC-A"><name>集宁区发热门诊</name><description>24小时</description>
      <ExtendedData><Data name="地址"><value>新华街1号</value></Data></ExtendedData>
      <Point><coordinates>113.123,41.0,0</coordinates></Point></Placemark>
  </Folder>
  <Folder><name>卓资县</name>
    <Placemark id="FC-B"><name>卓资县发热门诊</name>
      <Point><coordinates>113.15,40.962,0</coordinates></Point></Placemark>
    <Placemark id="FC-C"><name>丰镇市发热门诊</name>
      <Point><coordinates>113.108,41.13</coordinates></Point></Placemark>
  </Folder>
</Document></kml>
"""


def test_kml_with_folders_imports_every_placemark(app):
    result = _import(KML.encode(), "发热门诊.kml", dry_run=True)
    assert result["format"] == "kml" and result["rows"] == 3
    assert "altitudemode" not in result["columns"]["unused"]  # GDAL's styling columns
    _import(KML.encode(), "发热门诊.kml")
    clinic = _facility("FC-A")
    assert (clinic.name, clinic.address) == ("集宁区发热门诊", "新华街1号")
    assert (clinic.lon, clinic.lat) == pytest.approx(POINTS[0])


def test_kmz_imports_like_its_kml(app):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", KML)
        z.writestr("files/icon.png", b"\x89PNG\r\n")
    result = _import(buf.getvalue(), "发热门诊.kmz")
    assert (result["format"], result["created"]) == ("kmz", 3)
    assert _facility("FC-C").name == "丰镇市发热门诊"


def test_a_kmz_without_a_kml_is_refused(app):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "nothing")
    with pytest.raises(CoordinationError, match="kml"):
        _import(buf.getvalue(), "empty.kmz")


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_with_jingdu_weidu_imports_with_spreadsheet_row_numbers(app):
    _areas()
    header = ["编码", "名称", "行政区划代码", "经度", "纬度"]
    good = _xlsx([header, ["FC-A", "集宁区发热门诊", 150902, 113.123, 41.0],
                  ["FC-B", "卓资县发热门诊", "150921", "113.15", "40.962"]])
    result = _import(good, "门诊.xlsx")
    assert (result["format"], result["created"]) == ("xlsx", 2)
    assert _facility("FC-A").area_code == "150902"  # a number cell, read as the code
    bad = _xlsx([header, ["FC-C", "丰镇市发热门诊", None, 113.108, 41.13],
                 [None, None, None, None, None],
                 ["FC-D", "无坐标", None, "东经113", 41.1]])
    with pytest.raises(layers.LayerRejected) as err:
        _import(bad, "门诊.xlsx")
    assert [(d["row"], d["field"]) for d in err.value.details] == [(4, "经度")]


def test_a_damaged_xlsx_is_a_clear_4xx(app):
    with pytest.raises(CoordinationError) as err:
        _import(b"PK\x03\x04 not really", "broken.xlsx")
    assert err.value.status == 400


def test_the_upload_page_preview_names_unused_and_missing_columns(app, auth, make_user):
    from .support import csrf_from

    make_user("operator", username="gis")
    auth.login("gis")
    token = csrf_from(auth.client.get("/layers").text)
    csv_file = ("编码,名称,备注,经度,纬度\nFC-1,门诊 <b>1</b>,夜间关闭,113.1,41.0\n").encode()
    form = {"kind": "fever_clinic", "file": (io.BytesIO(csv_file), "clinics.csv"),
            "preview": "1", "csrf_token": token}
    resp = auth.client.post("/layers", data=form, content_type="multipart/form-data")
    assert resp.status_code == 200
    block = resp.text[resp.text.index('id="layer-columns"'):]
    assert "<code>备注</code>" in block  # the unused column, said
    assert "联系电话" in block and "contact_phone" not in block  # missing, by its label
