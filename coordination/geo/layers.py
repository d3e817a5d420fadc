"""Importing a GIS layer (facilities of one kind, or populated places): all or nothing.

Every row is checked before anything is written — geometry present, valid and
of the right type, inside the configured region (with lat/lon swaps named as
such), id and name present, id unique within the file and not already used by
a facility of another kind, subtype known, numbers numbers, area known — and
*every* bad row is reported with its row number and field. Only a file without
a single bad row is written, through the facilities or places service, in one
transaction with one ``facilities.loaded`` / ``places.loaded`` event, which is
what the live map listens for to reload the layer. Rows are matched by their
external id (the ``code``), so importing a corrected file again updates the
rows instead of duplicating them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import select

from ..contexts import LIVE
from ..errors import CoordinationError, NotFound, RowError
from ..events import Actor
from ..extensions import db
from ..facilities import service as facilities
from ..facilities.capabilities import CapabilitiesIn, CapabilityTextError, parse_capabilities
from ..facilities.models import BedKind, Facility, FacilityKind
from ..facilities.schemas import Beds, CapacityReportIn, NewFacility
from ..vocab import messages
from . import layer_columns
from .datums import Datum
from .layer_files import COLUMNS, RawLayer, RawRow, read_layer
from .models import AdminArea
from .places import PlaceIn, PlaceKind, PopulatedPlace, upsert_places
from .region import BBox

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

PLACES = "places"
UNITS = "units"
PREVIEW_ROWS = 20
COORD_DIGITS = 7  # ~1 cm: more digits are noise and bytes

PLACE_ALIASES = {"村": "village", "村庄": "village", "嘎查": "village", "镇": "town",
                 "乡": "town", "苏木": "town", "乡镇": "town", "学校": "school", "机关": "office",
                 "单位": "office", "办公": "office", "矿": "mine", "矿山": "mine", "其他": "other"}
FACILITY_ALIASES = {"发热门诊": "fever_clinic", "预检分诊": "triage_point",
                    "隔离留观点": "isolation_point", "定点医院": "designated_hospital",
                    "乡镇卫生院": "township_health_centre", "疾控实验室": "cdc_lab",
                    "急救站": "ems_station", "储备库": "stockpile_depot"}
TEXT_LIMITS = {"code": 40, "name": 200, "area": 12, "address": 300, "contact_name": 120,
               "contact_phone": 40}


class LayerRejected(CoordinationError):
    """The file has bad rows; ``details`` lists each one (row, field, message). Nothing written."""

    status = 422
    code = "invalid_rows"


# Whose coordinates the file holds: true WGS-84, GCJ-02 copied from a Chinese web map
# (AMap/Gaode, Tencent), or Baidu's BD-09.
Source = Datum


def importable_kinds() -> list[str]:
    return [k.value for k in FacilityKind] + [PLACES]


def exportable_kinds() -> list[str]:
    return [*importable_kinds(), UNITS]


def parse_kind(kind: str, *, exporting: bool = False) -> str:
    allowed = exportable_kinds() if exporting else importable_kinds()
    if kind not in allowed:
        raise NotFound(str(_l("Unknown layer %(kind)s; known: %(known)s.", kind=kind,
                              known=", ".join(allowed))))
    return kind


# --- one row --------------------------------------------------------------------------------


def _pick(values: dict[str, Any], key: str) -> tuple[str, Any]:
    """(column name used, value) for a logical field, by its aliases."""
    for name in COLUMNS[key]:
        if name in values:
            return name, values[name]
    return key, None


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _whole(value: Any) -> int | None | str:
    """A whole non-negative number, None when blank, or the reason it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return str(_l("Not a number."))
    try:
        number = float(str(value).strip().replace(",", "")) if isinstance(value, str) \
            else float(value)
    except (TypeError, ValueError):
        return str(_l("Not a number."))
    if not math.isfinite(number):
        return str(_l("Not a number."))
    if number != int(number):
        return str(_l("Must be a whole number."))
    if number < 0:
        return str(_l("Cannot be negative."))
    if number > 50_000_000:
        return str(_l("The number is too large."))
    return int(number)


def _position_problem(lon: float, lat: float, region: BBox | None) -> str | None:
    """Why a WGS-84 position cannot be right, naming a likely lat/lon swap; None if fine."""
    in_range = -180 <= lon <= 180 and -90 <= lat <= 90
    inside = in_range and (region is None or region.contains(lon, lat))
    if inside:
        return None
    if region is not None and region.contains(lat, lon):
        return str(_l("Latitude and longitude look swapped: the point %(lon)s, %(lat)s would be "
                      "inside the region as %(lat)s, %(lon)s.", lon=round(lon, 6),
                      lat=round(lat, 6)))
    if not in_range:
        return str(_l("Coordinates out of range: longitude must be within ±180 and latitude "
                      "within ±90."))
    return str(_l("The position %(lon)s, %(lat)s is outside the configured region.",
                  lon=round(lon, 6), lat=round(lat, 6)))


@dataclass
class _Shape:
    """One row's checked geometry, rounded and oriented, and its representative point."""

    geom: BaseGeometry
    lon: float
    lat: float


def _geometries(rows: list[RawRow], layer: str, region: BBox | None, errors: list[RowError],
                *, position_field: str) -> list[_Shape | None]:
    """Every row's geometry checked at once (shapely's vectorised functions over the whole
    file instead of a handful of calls per row); None where a row's is unusable, after
    recording why (in row order, one problem per row, as a row-by-row check would)."""
    import numpy as np
    import shapely
    from shapely.validation import explain_validity

    n = len(rows)
    geoms = np.empty(n, dtype=object)
    for i, raw in enumerate(rows):
        g = raw.geometry
        if g is not None and g.geom_type == "MultiPoint" and len(g.geoms) == 1:
            g = g.geoms[0]
        geoms[i] = g
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    wanted = [0] if layer != PLACES else [0, 3, 6]  # Point; Polygon, MultiPolygon
    right_type = np.isin(types, wanted)
    usable = ~empty & right_type
    valid = np.zeros(n, dtype=bool)
    valid[usable] = shapely.is_valid(geoms[usable])
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    finite = np.ones(n, dtype=bool)
    np.logical_and.at(finite, index, np.isfinite(coords).all(axis=1))
    ok = usable & valid & finite & (np.bincount(index, minlength=n) > 0)
    shaped = np.empty(n, dtype=object)
    shaped[ok] = shapely.orient_polygons(shapely.set_precision(geoms[ok], 10 ** -COORD_DIGITS))
    points = np.empty(n, dtype=object)
    points[ok] = geoms[ok]
    areal = ok & (types != 0)
    points[areal] = shapely.point_on_surface(geoms[areal])
    xs, ys = np.full(n, np.nan), np.full(n, np.nan)
    xs[ok], ys[ok] = shapely.get_x(points[ok]), shapely.get_y(points[ok])
    bounds = np.full((n, 4), np.nan)
    bounds[areal] = shapely.bounds(geoms[areal])
    rounded = np.empty(n, dtype=object)
    rounded[ok] = geoms[ok]
    rounded[areal] = shapely.point_on_surface(shaped[areal])
    rx, ry = np.full(n, np.nan), np.full(n, np.nan)
    rx[ok] = shapely.get_x(np.where(areal[ok], rounded[ok], shaped[ok]))
    ry[ok] = shapely.get_y(np.where(areal[ok], rounded[ok], shaped[ok]))
    out: list[_Shape | None] = [None] * n
    field = "geometry"
    for i, raw in enumerate(rows):
        if raw.problem is not None:
            errors.append(RowError(raw.number, *raw.problem))
        elif empty[i]:
            errors.append(RowError(raw.number, field, str(_l("The geometry is empty."))))
        elif not right_type[i]:
            kind = geoms[i].geom_type
            errors.append(RowError(raw.number, field, str(
                _l("A facility must be a point, not a %(type)s.", type=kind)
                if layer != PLACES else
                _l("A place must be a point or a polygon, not a %(type)s.", type=kind))))
        elif not ok[i]:
            errors.append(RowError(raw.number, field, str(_l(
                "The geometry is invalid: %(why)s", why=explain_validity(geoms[i])))))
        else:
            problem = _position_problem(float(xs[i]), float(ys[i]), region)
            if problem is None and areal[i]:
                min_lon, min_lat, max_lon, max_lat = bounds[i]
                problem = (_position_problem(min_lon, min_lat, region)
                           or _position_problem(max_lon, max_lat, region))
            if problem is not None:
                errors.append(RowError(raw.number, position_field, problem))
            else:
                out[i] = _Shape(shaped[i], round(float(rx[i]), COORD_DIGITS),
                                round(float(ry[i]), COORD_DIGITS))
    return out


def _common(raw: RawRow, errors: list[RowError]) -> dict[str, Any] | None:
    """Id, name and the optional text fields; None if any is bad (already recorded)."""
    out: dict[str, Any] = {}
    bad = len(errors)
    for key in ("code", "name"):
        column, value = _pick(raw.values, key)
        text = _text(value)
        if not text:
            errors.append(RowError(raw.number, column, str(
                _l("The id is missing.") if key == "code" else _l("The name is missing."))))
        out[key] = text
    for key in ("code", "name", "area", "address", "contact_name", "contact_phone"):
        column, value = _pick(raw.values, key)
        text = out.get(key) or _text(value)
        if len(text) > TEXT_LIMITS[key]:
            errors.append(RowError(raw.number, column, str(_l(
                "Longer than %(n)d characters.", n=TEXT_LIMITS[key]))))
        out[key] = text
    return out if len(errors) == bad else None


def _subtype(raw: RawRow, layer: str, errors: list[RowError]) -> str | None:
    column, value = _pick(raw.values, "kind")
    text = _text(value)
    if layer == PLACES:
        if not text:
            errors.append(RowError(raw.number, column, str(_l(
                "The place type is missing (village, town, school, office, mine or other)."))))
            return None
        kind = PLACE_ALIASES.get(text, text.lower())
        if kind not in {k.value for k in PlaceKind}:
            errors.append(RowError(raw.number, column, str(_l(
                "Unknown place type %(kind)s (village, town, school, office, mine or other).",
                kind=text))))
            return None
        return kind
    if not text:
        return layer
    kind = FACILITY_ALIASES.get(text, text.lower())
    if kind not in {k.value for k in FacilityKind}:
        errors.append(RowError(raw.number, column, str(_l("Unknown facility kind %(kind)s.",
                                                          kind=text))))
        return None
    if kind != layer:
        errors.append(RowError(raw.number, column, str(_l(
            "The row is a %(kind)s but the layer being imported is %(layer)s.",
            kind=kind, layer=layer))))
        return None
    return kind


def _figures(raw: RawRow, errors: list[RowError]) -> CapacityReportIn | None:
    """Optional ``<bed kind>_capacity`` / ``_occupied`` columns: a new facility's first report."""
    figures: dict[BedKind, Beds] = {}
    for bed in BedKind:
        cap_col, occ_col = f"{bed.value}_capacity", f"{bed.value}_occupied"
        cap, occ = _whole(raw.values.get(cap_col)), _whole(raw.values.get(occ_col))
        bad = False
        for column, value in ((cap_col, cap), (occ_col, occ)):
            if isinstance(value, str):
                errors.append(RowError(raw.number, column, value))
                bad = True
        if bad or (cap is None and occ is None):
            continue
        if cap is None:
            errors.append(RowError(raw.number, cap_col, str(_l("The capacity is missing."))))
            continue
        if (occ or 0) > cap:  # type: ignore[operator]
            errors.append(RowError(raw.number, occ_col, str(_l(
                "Occupied is above capacity."))))
            continue
        try:
            figures[bed] = Beds(capacity=cap, occupied=occ or 0)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors.append(RowError(raw.number, cap_col,
                                   messages.problem(exc.errors()[0], field=cap_col)))
    return CapacityReportIn(figures=figures) if figures else None


def _capabilities(raw: RawRow, errors: list[RowError]) -> CapabilitiesIn | None:
    """The optional services column (``胸痛;卒中;创伤:1``); None when the layer has none."""
    column = next((c for c in COLUMNS["capabilities"] if c in raw.values), None)
    if column is None:
        return None
    try:
        return parse_capabilities(_text(raw.values[column]))
    except CapabilityTextError as exc:
        errors.append(RowError(raw.number, column, str(_l(
            "Unknown care service %(part)s (for example 胸痛, 卒中, 创伤:1, stroke, "
            "trauma:2).", part=str(exc)))))
        return None


# --- the file -------------------------------------------------------------------------------


@dataclass
class Checked:
    facilities: list[NewFacility]
    places: list[PlaceIn]
    errors: list[RowError]
    preview: list[dict[str, Any]]


def _convert(layer: RawLayer, source: Source) -> None:
    """Shift GCJ-02 or BD-09 geometries to WGS-84 in place (both by iterative inverse)."""
    import shapely

    from .bd09 import bd09_to_wgs84_coords
    from .gcj02 import gcj02_to_wgs84_coords

    convert = bd09_to_wgs84_coords if source is Source.BD09 else gcj02_to_wgs84_coords
    for row in layer.rows:
        if row.geometry is not None and not row.geometry.is_empty:
            row.geometry = shapely.transform(row.geometry, convert)


def check_layer(layer: RawLayer, kind: str, *, region: BBox | None, areas: set[str],
                existing: dict[str, str]) -> Checked:
    """Validate every row; ``existing`` maps codes already stored to their kind."""
    out = Checked([], [], [], [])
    position_field = "lon/lat" if layer.format == "csv" else "geometry"
    seen: dict[str, int] = {}
    shape_errors: list[RowError] = []
    shapes = _geometries(layer.rows, kind, region, shape_errors, position_field=position_field)
    by_row = {e.row: e for e in shape_errors}
    for raw, shape in zip(layer.rows, shapes, strict=True):
        bad = len(out.errors)
        common = _common(raw, out.errors)
        subtype = _subtype(raw, kind, out.errors)
        if raw.number in by_row:
            out.errors.append(by_row[raw.number])
        area_col, _value = _pick(raw.values, "area")
        if common is not None:
            code = common["code"]
            if code in seen:
                out.errors.append(RowError(raw.number, _pick(raw.values, "code")[0], str(_l(
                    "The id %(code)s already appears in row %(row)d.", code=code,
                    row=seen[code]))))
            else:
                seen[code] = raw.number
            if kind != PLACES and code in existing and existing[code] != kind:
                out.errors.append(RowError(raw.number, _pick(raw.values, "code")[0], str(_l(
                    "The id %(code)s is already used by a facility of kind %(kind)s.",
                    code=code, kind=existing[code]))))
            if common["area"] and common["area"] not in areas:
                out.errors.append(RowError(raw.number, area_col, str(_l(
                    "Unknown area %(code)s.", code=common["area"]))))
        population: Any = None
        caps: CapabilitiesIn | None = None
        if kind == PLACES:
            column, value = _pick(raw.values, "population")
            population = _whole(value)
            if population is None:
                out.errors.append(RowError(raw.number, column, str(_l(
                    "The population is missing."))))
            elif isinstance(population, str):
                out.errors.append(RowError(raw.number, column, population))
            initial = None
        else:
            initial = _figures(raw, out.errors)
            caps = _capabilities(raw, out.errors)
        if len(out.errors) > bad or common is None or shape is None or subtype is None:
            continue
        geom, lon, lat = shape.geom, shape.lon, shape.lat
        area = common["area"] or None
        try:
            _add(out, kind, common, subtype, geom, lon, lat, area, population, initial, caps)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = messages.field_of(first)
            out.errors.append(RowError(raw.number, field, messages.problem(first, field=field)))
            continue
        if len(out.preview) < PREVIEW_ROWS:
            out.preview.append({"row": raw.number, "code": common["code"],
                                "name": common["name"], "kind": subtype, "lon": lon, "lat": lat,
                                "geometry": geom.geom_type,
                                "action": "update" if common["code"] in existing else "create"})
    return out


def _add(out: Checked, kind: str, common: dict[str, Any], subtype: str, geom: BaseGeometry,
         lon: float, lat: float, area: str | None, population: Any,
         initial: CapacityReportIn | None, caps: CapabilitiesIn | None = None) -> None:
    from shapely.geometry import mapping

    if kind == PLACES:
        out.places.append(PlaceIn(
            code=common["code"], name=common["name"], kind=PlaceKind(subtype),
            population=population, area=area, lon=lon, lat=lat,
            geometry=None if geom.geom_type == "Point" else mapping(geom)))
    else:
        out.facilities.append(NewFacility(
            code=common["code"], name=common["name"], kind=FacilityKind(subtype),
            lon=lon, lat=lat, area=area, address=common["address"],
            contact_name=common["contact_name"], contact_phone=common["contact_phone"],
            initial=initial, capabilities=caps))


def _existing(kind: str, context: str) -> tuple[set[str], dict[str, str]]:
    with db.reading() as s:
        areas = set(s.scalars(select(AdminArea.code)))
        if kind == PLACES:
            rows = s.execute(select(PopulatedPlace.code, PopulatedPlace.kind))
        else:
            rows = s.execute(select(Facility.code, Facility.kind)
                             .where(Facility.context == context))
        return areas, {code: k for code, k in rows}


def import_layer(*, content: bytes, filename: str, kind: str, actor: Actor,
                 region: BBox | None, source: Source = Source.WGS84, dry_run: bool = False,
                 context: str = LIVE) -> dict[str, Any]:
    """Import a layer file, or raise ``LayerRejected`` listing every bad row (nothing written).

    ``dry_run`` checks everything and reports what would be created and updated,
    writing nothing: the upload page's preview.
    """
    parse_kind(kind)
    layer = read_layer(content, filename)
    layer_columns.complete_truncated(layer)
    if source is not Source.WGS84:
        _convert(layer, source)
    areas, existing = _existing(kind, context)
    checked = check_layer(layer, kind, region=region, areas=areas, existing=existing)
    if checked.errors:
        raise LayerRejected(
            str(_l("%(n)d problems in the file; nothing was imported.", n=len(checked.errors))),
            details=[e.as_dict() for e in sorted(checked.errors, key=lambda e: e.row)])
    items, columns = layer_columns.reconcile(
        layer, kind, checked.places if kind == PLACES else checked.facilities,
        places=kind == PLACES, context=context)
    checked.places, checked.facilities = (items, []) if kind == PLACES else ([], items)
    codes = [i.code for i in items]
    updated = sum(1 for c in codes if c in existing)
    summary: dict[str, Any] = {
        "kind": kind, "filename": filename[:200], "format": layer.format, "crs": layer.crs,
        "source": source.value, "rows": len(codes), "created": len(codes) - updated,
        "updated": updated, "dry_run": dry_run, "preview": checked.preview,
        "columns": columns,
    }
    if dry_run:
        return summary
    if kind == PLACES:
        upsert_places(places=checked.places, actor=actor, region=region)
    else:
        counts = facilities.upsert_facilities(items=checked.facilities, actor=actor,
                                              region=region, context=context,
                                              source=filename[:200])
        summary["created"], summary["updated"] = counts["created"], counts["updated"]
    return summary

