"""Which columns of a layer file are used, which are not, and what re-importing keeps.

A file's columns are matched to the fields a layer has by their names in
English or Chinese (layer_files.COLUMNS). The upload's preview (dry run) lists every
column the importer does not use and every optional field the file has no
column for, so nobody learns from the map that a column was ignored.

Re-importing a file to update rows must not blank what the file does not
speak of: an optional field with no column at all (the clinics' ``area`` in a
file without an area column) keeps the value stored for each existing row. A
column that is there with an empty cell does clear it; the preview counts
those rows per field.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..facilities.models import BedKind, Facility
from .layer_files import COLUMNS, LAT_NAMES, LON_NAMES, RawLayer
from .places import PopulatedPlace

# The optional fields of each layer and the stored column each one updates.
FACILITY_OPTIONAL = {"area": "area_code", "address": "address",
                     "contact_name": "contact_name", "contact_phone": "contact_phone"}
PLACE_OPTIONAL = {"area": "area_code"}
# Capabilities are not "optional" in that sense: a layer without the column leaves the stored
# services alone (NewFacility.capabilities None), a blank cell means none provided.
FACILITY_FIELDS = ("code", "name", "kind", *FACILITY_OPTIONAL, "capabilities")
PLACE_FIELDS = ("code", "name", "kind", "population", *PLACE_OPTIONAL)
FIELD_LABELS = {
    "code": _l("Id (code)"), "name": _l("Name"), "kind": _l("Type"),
    "population": _l("Population"), "area": _l("Area code"), "address": _l("Address"),
    "contact_name": _l("Contact person"), "contact_phone": _l("Contact phone"),
    "capabilities": _l("Care services"),
    "lon": _l("Longitude"), "lat": _l("Latitude"),
}
# Columns a layer file may carry that describe the file, not the row.
IGNORED = frozenset({"fid", "ogc_fid", "objectid"})


def _aliases() -> dict[str, tuple[str, ...]]:
    return COLUMNS


def complete_truncated(layer: RawLayer) -> None:
    """Give a Shapefile column cut at 10 bytes the name it began, when only one fits.

    联系电 (联系电话 cut mid-character, then trimmed) is the phone column; a cut
    name that begins no known column, or several, stays as it is and is listed
    as unused.
    """
    names = [a for aliases in _aliases().values() for a in aliases]
    for cut in sorted(layer.truncated):
        if cut in names:
            continue
        fits = {a for a in names if a.startswith(cut)}
        if len(fits) != 1:
            continue
        full = fits.pop()
        if full in layer.columns:
            continue
        layer.columns = [full if c == cut else c for c in layer.columns]
        for row in layer.rows:
            if cut in row.values:
                row.values[full] = row.values.pop(cut)


def _used(layer: RawLayer, places: bool) -> dict[str, str]:
    """column → field, for the columns the importer reads."""
    fields = PLACE_FIELDS if places else FACILITY_FIELDS
    used: dict[str, str] = {}
    for key in fields:
        hit = next((n for n in _aliases()[key] if n in layer.columns), None)
        if hit is not None:
            used[hit] = key
    if layer.format in ("csv", "xlsx"):
        for names, key in ((LON_NAMES, "lon"), (LAT_NAMES, "lat")):
            hit = next((n for n in names if n in layer.columns), None)
            if hit is not None:
                used[hit] = key
    if not places:
        for bed in BedKind:
            for suffix in ("capacity", "occupied"):
                column = f"{bed.value}_{suffix}"
                if column in layer.columns:
                    used[column] = column
    return used


def _stored(places: bool, codes: list[str], context: str) -> dict[str, dict[str, Any]]:
    optional = PLACE_OPTIONAL if places else FACILITY_OPTIONAL
    model: Any = PopulatedPlace if places else Facility
    with db.reading() as s:
        q = select(model).where(model.code.in_(codes))
        if not places:
            q = q.where(Facility.context == context)
        return {row.code: {f: getattr(row, attr) for f, attr in optional.items()}
                for row in s.scalars(q)}


def reconcile(layer: RawLayer, kind: str, items: list[Any], *, places: bool,
              context: str) -> tuple[list[Any], dict[str, Any]]:
    """The items with absent optional fields kept from the stored rows, and the report.

    The report: ``used`` (column → field), ``unused`` columns, ``missing``
    optional fields, ``kept`` (field → existing rows whose stored value stays)
    and ``cleared`` (field → existing rows an empty cell blanks).
    """
    optional = PLACE_OPTIONAL if places else FACILITY_OPTIONAL
    used = _used(layer, places)
    present = set(used.values())
    missing = [f for f in optional if f not in present]
    stored = _stored(places, [i.code for i in items], context)
    kept: dict[str, int] = {}
    cleared: dict[str, int] = {}
    out: list[Any] = []
    for item in items:
        old = stored.get(item.code)
        if old is None:
            out.append(item)
            continue
        update: dict[str, Any] = {}
        for f in optional:
            if f in missing:
                if old[f]:
                    update[f] = old[f]
                    kept[f] = kept.get(f, 0) + 1
            elif old[f] and not getattr(item, f):
                cleared[f] = cleared.get(f, 0) + 1
        out.append(item.model_copy(update=update) if update else item)
    unused = [c for c in layer.columns if c not in used and c not in IGNORED]
    return out, {"used": used, "unused": unused, "missing": missing, "kept": kept,
                 "cleared": cleared, "truncated": sorted(layer.truncated),
                 "labels": {f: str(label) for f, label in FIELD_LABELS.items()}}
