"""Every layer as an RFC 7946 GeoJSON FeatureCollection, for QGIS, other systems and backups.

RFC 7946: positions are longitude, latitude (WGS-84); polygon exterior rings
run counter-clockwise and holes clockwise (the right-hand rule); there is no
``crs`` member. Feature properties use the same column names the importer
reads, with the external id as ``code`` and as the feature ``id``, so an
exported layer imported again updates the same rows and creates none.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ..contexts import LIVE
from ..extensions import db
from ..facilities.capabilities import capability_text
from ..facilities.models import BedKind, Facility
from ..units import service as units
from . import rfc7946
from .layers import PLACES, UNITS, parse_kind
from .places import PopulatedPlace


def _facility(f: Facility) -> dict[str, Any]:
    props: dict[str, Any] = {
        "code": f.code, "name": f.name, "kind": f.kind, "area": f.area_code,
        "address": f.address, "contact_name": f.contact_name,
        "contact_phone": f.contact_phone, "status": f.status,
        "capabilities": capability_text(f.capabilities),
        "last_report_at": f.last_report_at.isoformat() if f.last_report_at else None,
    }
    figures = f.figures or {}
    for bed in BedKind:
        if bed.value in figures:
            props[f"{bed.value}_capacity"] = figures[bed.value].get("capacity")
            props[f"{bed.value}_occupied"] = figures[bed.value].get("occupied")
    return {"type": "Feature", "id": f.code,
            "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]}, "properties": props}


def _place(p: PopulatedPlace) -> dict[str, Any]:
    geometry = (json.loads(p.geometry) if p.geometry
                else {"type": "Point", "coordinates": [p.lon, p.lat]})
    return {"type": "Feature", "id": p.code, "geometry": geometry,
            "properties": {"code": p.code, "name": p.name, "kind": p.kind,
                           "population": p.population, "area": p.area_code}}


def export_layer(*, kind: str, context: str = LIVE) -> dict[str, Any]:
    """The layer ``kind`` (a facility kind, ``places`` or ``units``) as a FeatureCollection."""
    parse_kind(kind, exporting=True)
    if kind == UNITS:
        features = units.units_geojson(context=context)["features"]
        features = [feat | {"id": feat["properties"].get("call_sign", feat["id"])}
                    for feat in features if feat["geometry"] is not None]
    else:
        with db.reading() as s:
            if kind == PLACES:
                rows = s.scalars(select(PopulatedPlace).order_by(PopulatedPlace.code))
                features = [_place(p) for p in rows]
            else:
                rows_f = s.scalars(select(Facility).where(
                    Facility.context == context, Facility.kind == kind).order_by(Facility.code))
                features = [_facility(f) for f in rows_f]
    return rfc7946.collection(features, name=kind)
