"""Reading a GIS layer file into numbered rows of WGS-84 geometries.

Formats: GeoJSON, GeoPackage, zipped Shapefile (read with pyogrio/GDAL) and CSV
with longitude/latitude columns (read here, so that rows carry the line number
a spreadsheet shows and text in GBK, as Excel in China saves it, still reads).

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
import warnings
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
           ".csv": "csv", ".txt": "csv"}
NAMES = {"geojson": "GeoJSON", "gpkg": "GeoPackage", "shapefile": "Shapefile", "csv": "CSV"}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")


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


def layer_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise UnsupportedLayerFile(str(_l(
            "Import a .geojson, .gpkg, .zip (Shapefile) or .csv file.")))
    return FORMATS[suffix]


def read_layer(content: bytes, filename: str) -> RawLayer:
    """Rows of the file with geometries in WGS-84, or a 4xx error about the whole file."""
    fmt = layer_format(filename)
    if len(content) > MAX_LAYER_BYTES:
        raise LayerTooLarge(str(_l("The file is larger than %(mb)d MB.",
                                   mb=MAX_LAYER_BYTES // (1024 * 1024))))
    if not content.strip():
        raise ValidationFailed(str(_l("The file is empty.")))
    layer = _read_csv(content) if fmt == "csv" else _read_with_gdal(content, fmt)
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


def _read_csv(content: bytes) -> RawLayer:
    from shapely.geometry import Point

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
    lon_i, lat_i = _find(header, LON_NAMES), _find(header, LAT_NAMES)
    if lon_i is None or lat_i is None:
        raise ValidationFailed(str(_l(
            "The CSV needs a longitude and a latitude column (lon, lng, longitude, x or 经度; "
            "lat, latitude, y or 纬度).")))
    layer = RawLayer(format="csv", crs="EPSG:4326")
    start = reader.line_num + 1
    try:
        for values in reader:
            number, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(layer.rows) >= MAX_ROWS:
                raise ValidationFailed(str(_l("At most %(n)d rows per file.", n=MAX_ROWS)))
            row = {h: (values[i].strip() if i < len(values) else "")
                   for i, h in enumerate(header) if h}
            raw_lon, raw_lat = row.get(header[lon_i], ""), row.get(header[lat_i], "")
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
    except csv.Error as exc:
        raise ValidationFailed(str(_l("The CSV file cannot be read: %(why)s", why=str(exc)))) \
            from None
    return layer


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


def _read_with_gdal(content: bytes, fmt: str) -> RawLayer:
    import pyogrio
    import shapely

    with tempfile.TemporaryDirectory(prefix="layer-") as tmp:
        folder = Path(tmp)
        if fmt == "shapefile":
            path = _unzip_shapefile(content, folder)
        else:
            path = folder / ("upload.gpkg" if fmt == "gpkg" else "upload.geojson")
            path.write_bytes(content)
        try:
            layers = pyogrio.list_layers(path)
            spatial = [str(name) for name, geom in layers if geom is not None]
            if not spatial:
                raise ValidationFailed(str(_l("The file holds no layer with geometries.")))
            # GDAL's own warnings ("Non closed ring detected", in English whatever the
            # reader's language) are dropped: the rows they concern come back without a
            # geometry, and the row check reports those in the report's own words.
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                frame = pyogrio.read_dataframe(path, layer=spatial[0], on_invalid="ignore")
        except CoordinationError:
            raise
        except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds for a damaged file
            why = str(exc).replace(f"{folder}/", "").split("; It might help")[0][:300]
            raise ValidationFailed(str(_l("The file cannot be read as %(format)s: %(why)s",
                                          format=NAMES[fmt], why=why))) from None
    if frame.crs is None:
        if fmt != "geojson":
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
    layer = RawLayer(format=fmt, crs=crs)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    geoms = shapely.force_2d(frame.geometry.values)
    for n, (record, geom) in enumerate(zip(frame[columns].itertuples(index=False, name=None),
                                           geoms, strict=True), start=1):
        values = {str(c).strip().lower(): clean(v) for c, v in zip(columns, record, strict=True)}
        layer.rows.append(RawRow(n, values, None if geom is None else geom))
    return layer
