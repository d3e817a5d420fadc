"""Reading a GIS layer file into numbered rows of WGS-84 geometries.

Formats: GeoJSON, GeoPackage, zipped Shapefile, KML and KMZ (Google Earth,
奥维互动地图; read with pyogrio/GDAL), and CSV or XLSX with longitude/latitude
columns (read here, so that rows carry the line number a spreadsheet shows and
CSV text in GBK, as Excel in China saves it, still reads).

A DBF stores a field name in 10 bytes; QGIS and GDAL cut a longer UTF-8 name
there, often in the middle of a character (医疗机构名称 → 医疗机\xe6), and GDAL
then cannot give the name back as text. The cut name is trimmed to its last
whole character before reading, and the layer remembers which names were cut
(``RawLayer.truncated``) so the importer can match them to the column they
began.

The coordinate reference system comes from the file and everything is
reprojected to WGS-84 (EPSG:4326). A file without one is taken as WGS-84 only
where the format says so: CSV (there is nowhere to say otherwise) and GeoJSON
(RFC 7946 fixes WGS-84). A Shapefile without its ``.prj`` or a GeoPackage layer
with an undefined CRS is refused: guessing would put every point in the wrong
place without a word.

Problems with the file as a whole (unreadable, wrong extension, empty, too
large) raise a 4xx ``CoordinationError``; problems with single rows are left to
the validator, which reports them all at once.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from ..errors import CoordinationError, ValidationFailed

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

MAX_LAYER_BYTES = 16 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a zip bomb stops here, not in the server's memory
MAX_ROWS = 100_000
FORMATS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shapefile",
           ".csv": "csv", ".txt": "csv", ".kml": "kml", ".kmz": "kmz", ".xlsx": "xlsx"}
NAMES = {"geojson": "GeoJSON", "gpkg": "GeoPackage", "shapefile": "Shapefile", "csv": "CSV",
         "kml": "KML", "kmz": "KMZ", "xlsx": "XLSX"}
# Columns GDAL's LIBKML driver adds to every placemark: styling, not data.
KML_STYLE_COLUMNS = frozenset({"timestamp", "begin", "end", "altitudemode", "tessellate",
                               "extrude", "visibility", "draworder", "icon"})
DBF_NAME_BYTES = 10
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")

# Column names as people write them (lower-cased), in English and Chinese; first match wins.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "external_id", "ext_id", "编码", "编号", "代码", "id"),
    "name": ("name", "名称", "名字", "title"),
    "kind": ("kind", "type", "subtype", "category", "类型", "类别"),
    "population": ("population", "pop", "人口"),
    "area": ("area", "area_code", "adcode", "行政区划代码", "区划代码"),
    "address": ("address", "addr", "地址"),
    "contact_name": ("contact_name", "contact_na", "contact", "联系人"),
    "contact_phone": ("contact_phone", "contact_ph", "phone", "tel", "联系电话", "电话"),
    "capabilities": ("capabilities", "capabiliti", "services", "救治能力", "救治中心", "服务能力"),
}


class LayerTooLarge(CoordinationError):
    status = 413
    code = "too_large"


class UnsupportedLayerFile(CoordinationError):
    status = 415
    code = "unsupported_file"


@dataclass
class RawRow:
    """One data row: its number as the user counts it, its attributes and geometry.

    ``geometry`` is None for a row without one; ``problem`` names the field and
    reason when the coordinates themselves could not be read (CSV only).
    """

    number: int
    values: dict[str, Any]
    geometry: BaseGeometry | None
    problem: tuple[str, str] | None = None


@dataclass
class RawLayer:
    format: str
    crs: str
    rows: list[RawRow] = field(default_factory=list)
    # Every column the file has (lower-cased, as in ``RawRow.values``), in file order.
    columns: list[str] = field(default_factory=list)
    # Shapefile column names cut at the DBF's 10 bytes (trimmed to whole characters).
    truncated: set[str] = field(default_factory=set)


def layer_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise UnsupportedLayerFile(str(_l(
            "Import a .geojson, .gpkg, .zip (Shapefile), .kml, .kmz, .csv or .xlsx file.")))
    return FORMATS[suffix]


def read_layer(content: bytes, filename: str) -> RawLayer:
    """Rows of the file with geometries in WGS-84, or a 4xx error about the whole file."""
    fmt = layer_format(filename)
    if len(content) > MAX_LAYER_BYTES:
        raise LayerTooLarge(str(_l("The file is larger than %(mb)d MB.",
                                   mb=MAX_LAYER_BYTES // (1024 * 1024))))
    if not content.strip():
        raise ValidationFailed(str(_l("The file is empty.")))
    if fmt == "csv":
        layer = _read_csv(content)
    elif fmt == "xlsx":
        layer = _read_xlsx(content)
    else:
        layer = _read_with_gdal(content, fmt)
    if not layer.rows:
        raise ValidationFailed(str(_l("The file has no rows to import.")))
    if len(layer.rows) > MAX_ROWS:
        raise ValidationFailed(str(_l("At most %(n)d rows per file.", n=MAX_ROWS)))
    return layer


def clean(value: Any) -> Any:
    """pandas' missing values (NaN, NaT, None) as None; whole floats of ids as ints."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar -> Python
    return value


# --- CSV ---------------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(str(_l("The CSV file is neither UTF-8 nor GBK.")))


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_LONLAT_MISSING = _l("The file needs a longitude and a latitude column (lon, lng, longitude, x "
                     "or 经度; lat, latitude, y or 纬度).")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _point_rows(fmt: str, header: list[str], rows: Any) -> RawLayer:
    """Rows of a table with longitude/latitude columns; ``rows`` yields (number, cells)."""
    from shapely.geometry import Point

    lon_i, lat_i = _find(header, LON_NAMES), _find(header, LAT_NAMES)
    if lon_i is None or lat_i is None:
        raise ValidationFailed(str(_LONLAT_MISSING))
    layer = RawLayer(format=fmt, crs="EPSG:4326", columns=[h for h in header if h])
    for number, values in rows:
        if not any(_cell_text(v) for v in values):
            continue
        if len(layer.rows) >= MAX_ROWS:
            raise ValidationFailed(str(_l("At most %(n)d rows per file.", n=MAX_ROWS)))
        row = {h: (_cell_text(values[i]) if isinstance(values[i], str) or values[i] is None
                   else values[i]) if i < len(values) else ""
               for i, h in enumerate(header) if h}
        raw_lon = _cell_text(row.get(header[lon_i]))
        raw_lat = _cell_text(row.get(header[lat_i]))
        lon, lat = _number(raw_lon), _number(raw_lat)
        problem = None
        if not raw_lon or not raw_lat:
            problem = (header[lon_i] if not raw_lon else header[lat_i],
                       str(_l("The coordinate is missing.")))
        elif lon is None or lat is None:
            problem = (header[lon_i] if lon is None else header[lat_i],
                       str(_l("The coordinate is not a number.")))
        geom = Point(lon, lat) if problem is None else None
        layer.rows.append(RawRow(number, row, geom, problem))
    return layer


def _read_csv(content: bytes) -> RawLayer:
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise ValidationFailed(str(_l("The file is empty."))) from None

    def numbered() -> Any:
        start = reader.line_num + 1
        for values in reader:
            number, start = start, reader.line_num + 1
            yield number, values

    try:
        return _point_rows("csv", header, numbered())
    except csv.Error as exc:
        raise ValidationFailed(str(_l("The CSV file cannot be read: %(why)s", why=str(exc)))) \
            from None


def _read_xlsx(content: bytes) -> RawLayer:
    """The first sheet whose first row names a longitude and a latitude column.

    Row numbers are the spreadsheet's own, so a problem "row 7" is row 7 in
    Excel or WPS. Formulas are read as their last computed value.
    """
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's style warnings mean nothing here
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - zipfile, XML and openpyxl errors for a damaged file
        raise ValidationFailed(str(_l("The file is not a readable XLSX workbook."))) from None
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None:
                continue
            header = [_cell_text(h).lower() for h in first]
            if _find(header, LON_NAMES) is None or _find(header, LAT_NAMES) is None:
                continue
            return _point_rows("xlsx", header,
                               ((n, list(v)) for n, v in enumerate(rows, start=2)))
    finally:
        book.close()
    raise ValidationFailed(str(_LONLAT_MISSING))


# --- GeoJSON, GeoPackage, Shapefile via GDAL ----------------------------------------------


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _unzip_shapefile(content: bytes, folder: Path) -> Path:
    """Extract the one Shapefile of the zip (flat, safe names) and return its .shp path."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ValidationFailed(str(_l("The file is not a readable zip archive."))) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()
                   and not Path(m.filename).name.startswith(("._", "."))]
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise LayerTooLarge(str(_l("The zip unpacks to more than %(mb)d MB.",
                                       mb=MAX_UNZIPPED_BYTES // (1024 * 1024))))
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            raise ValidationFailed(str(_l(
                "The zip must hold exactly one Shapefile (.shp with its .shx, .dbf and .prj); "
                "it holds %(n)d.", n=len(shps))))
        stem = shps[0].filename[:-4]
        parts = {m.filename[len(stem):].lower(): m for m in members
                 if m.filename.startswith(stem) and m.filename[len(stem):].startswith(".")}
        missing = [ext for ext in (".shx", ".dbf") if ext not in parts]
        if missing:
            raise ValidationFailed(str(_l("The Shapefile lacks its %(parts)s file.",
                                          parts=", ".join(missing))))
        if ".prj" not in parts:
            raise ValidationFailed(str(_l(
                "The Shapefile has no .prj file, so its coordinate system is unknown; add the "
                ".prj (or export it again with its coordinate system).")))
        base = _SAFE.sub("_", Path(stem).name) or "layer"
        for ext, member in parts.items():
            if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                try:
                    (folder / f"{base}{ext}").write_bytes(archive.read(member))
                except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                    raise ValidationFailed(str(_l(
                        "The zip archive is damaged: %(why)s", why=str(exc)))) from None
        if ".cpg" not in parts:
            dbf = (folder / f"{base}.dbf").read_bytes()
            (folder / f"{base}.cpg").write_text(_dbf_encoding(dbf), encoding="ascii")
        return folder / f"{base}.shp"


_CPG = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "gbk": "gb18030",
        "gb2312": "gb18030", "gb18030": "gb18030", "936": "gb18030", "cp936": "gb18030"}


def repair_dbf_names(dbf_path: Path, cpg_path: Path) -> set[str]:
    """Trim field names cut mid-character at the DBF's 10 bytes; return the trimmed names.

    The header's field descriptors are 32 bytes each from offset 32 up to the
    0x0D terminator, the name in the first 11 (NUL-padded). A name whose last
    bytes are the start of a multi-byte character loses those bytes; if two
    names then collide, the later one gets a ``_2``… suffix, as GDAL does when
    it writes. Names that decode whole are left as they are.
    """
    encoding = _CPG.get(cpg_path.read_text("ascii", errors="replace").strip().casefold(),
                        "utf-8") if cpg_path.exists() else "utf-8"
    data = bytearray(dbf_path.read_bytes())
    header_length = int.from_bytes(data[8:10], "little") if len(data) >= 32 else 0
    trimmed: set[str] = set()
    seen: set[str] = set()
    changed = False
    for offset in range(32, min(header_length, len(data)) - 31, 32):
        if data[offset] == 0x0D:
            break
        raw = bytes(data[offset:offset + 11]).split(b"\0", 1)[0]
        try:
            name = raw.decode(encoding)
            cut = False
        except UnicodeDecodeError:
            name = raw.decode(encoding, errors="ignore")
            cut = True
        if cut:
            base, n = name, 2
            while name.casefold() in seen:
                name = f"{base}_{n}"
                while len(name.encode(encoding)) > DBF_NAME_BYTES:
                    base = base[:-1]
                    name = f"{base}_{n}"
                n += 1
            encoded = name.encode(encoding)
            data[offset:offset + 11] = encoded + b"\0" * (11 - len(encoded))
            trimmed.add(name.strip().lower())
            changed = True
        seen.add(name.casefold())
    if changed:
        dbf_path.write_bytes(bytes(data))
    return trimmed


def _dbf_encoding(dbf: bytes) -> str:
    """The text encoding of a .dbf that came without its .cpg.

    GDAL would then assume ISO-8859-1 and turn every Chinese name into mojibake.
    Shapefiles made in China without a .cpg are nearly always GBK (ArcGIS and
    older QGIS on a Chinese Windows); newer tools write UTF-8. Records that decode
    as UTF-8 are UTF-8; anything else is read as GB18030, GBK's superset.
    """
    header_length = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else 0
    try:
        dbf[header_length:].decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def _unzip_kmz(content: bytes, folder: Path) -> Path:
    """A KMZ is a zip around doc.kml (and its icons); the bomb limit applies to it too."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ValidationFailed(str(_l("The file is not a readable zip archive."))) from None
    with archive:
        if sum(m.file_size for m in archive.infolist()) > MAX_UNZIPPED_BYTES:
            raise LayerTooLarge(str(_l("The zip unpacks to more than %(mb)d MB.",
                                       mb=MAX_UNZIPPED_BYTES // (1024 * 1024))))
        kmls = [m for m in archive.infolist() if m.filename.lower().endswith(".kml")]
        if not kmls:
            raise ValidationFailed(str(_l("The KMZ holds no .kml document.")))
        main = next((m for m in kmls if Path(m.filename).name.lower() == "doc.kml"), kmls[0])
        path = folder / "upload.kml"
        try:
            path.write_bytes(archive.read(main))
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
            raise ValidationFailed(str(_l("The zip archive is damaged: %(why)s",
                                          why=str(exc)))) from None
        return path


_SUFFIX = {"gpkg": "upload.gpkg", "geojson": "upload.geojson", "kml": "upload.kml"}


def _read_with_gdal(content: bytes, fmt: str) -> RawLayer:
    import warnings

    import pandas as pd
    import pyogrio
    import shapely

    truncated: set[str] = set()
    if fmt in ("kml", "kmz"):
        # LIBKML turns every non-ASCII ExtendedData name into underscores (地址 → ______)
        # unless told not to; the names are what the importer matches columns by.
        pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        folder = Path(tmp)
        if fmt == "shapefile":
            path = _unzip_shapefile(content, folder)
            truncated = repair_dbf_names(path.with_suffix(".dbf"), path.with_suffix(".cpg"))
        elif fmt == "kmz":
            path = _unzip_kmz(content, folder)
        else:
            path = folder / _SUFFIX[fmt]
            path.write_bytes(content)
        try:
            with warnings.catch_warnings():
                # GDAL's warnings ("Non closed ring detected"...) are English and about
                # the library; the validator reports what matters in the user's words.
                warnings.simplefilter("ignore")
                layers = pyogrio.list_layers(path)
                spatial = [str(name) for name, geom in layers if geom is not None]
                if fmt in ("kml", "kmz"):  # one layer per folder: all of them
                    spatial = [str(name) for name, _geom in layers]
                if not spatial:
                    raise ValidationFailed(str(_l("The file holds no layer with geometries.")))
                frames = [pyogrio.read_dataframe(path, layer=name, on_invalid="ignore")
                          for name in (spatial if fmt in ("kml", "kmz") else spatial[:1])]
        except CoordinationError:
            raise
        except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds for a damaged file
            why = str(exc).replace(f"{folder}/", "").split("; It might help")[0][:300]
            raise ValidationFailed(str(_l("The file cannot be read as %(format)s: %(why)s",
                                          format=NAMES[fmt], why=why))) from None
    frames = [f for f in frames if len(f)] or frames[:1]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.crs is None:
        if fmt not in ("geojson", "kml", "kmz"):  # KML, like GeoJSON, is WGS-84 by definition
            raise ValidationFailed(str(_l(
                "The layer has no coordinate reference system; export it again with one "
                "(for a Shapefile, include the .prj).")))
        frame = frame.set_crs("EPSG:4326")
    crs = frame.crs.to_string()
    if not frame.crs.equals("EPSG:4326"):
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:  # noqa: BLE001 - pyproj errors are the file's CRS, not ours
            raise ValidationFailed(str(_l("The coordinates cannot be converted from %(crs)s: "
                                          "%(why)s", crs=crs, why=str(exc)[:300]))) from None
    columns = [c for c in frame.columns if c != frame.geometry.name and not (
        fmt in ("kml", "kmz") and str(c).strip().lower() in KML_STYLE_COLUMNS)]
    layer = RawLayer(format=fmt, crs=crs, truncated=truncated,
                     columns=[str(c).strip().lower() for c in columns])
    geoms = shapely.force_2d(frame.geometry.values)
    for n, (record, geom) in enumerate(zip(frame[columns].itertuples(index=False, name=None),
                                           geoms, strict=True), start=1):
        values = {str(c).strip().lower(): clean(v) for c, v in zip(columns, record, strict=True)}
        layer.rows.append(RawRow(n, values, None if geom is None else geom))
    return layer
