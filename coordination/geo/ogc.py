"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) over the live layers.

A GIS officer's QGIS (or GDAL, ArcGIS, OWSLib) loads facilities, ambulances,
populated places and the administrative boundaries straight from the live
database, read-only. Every document here is built from a ``base`` URL the
route passes in, so this module never touches the request.

Choices, and why:

* Collections: ``facilities`` (all kinds, one layer to style by ``kind``) and
  one per facility kind (``facilities-fever_clinic`` ...), because QGIS users
  add "the fever clinics" as a layer of its own; ``units`` (ambulances with
  status), ``places`` (populated places) and ``admin-areas`` (boundaries).
* Properties are flat scalars with the same keys on every feature (capacity
  figures become ``isolation_room_capacity`` ...): GDAL and QGIS derive the
  attribute table from the first page, and nested objects end up as strings.
* Paging is ``limit`` + ``offset`` over a stable order (id), with ``next`` /
  ``prev`` links; ``numberMatched`` is an exact count.
* ``bbox`` is filtered in SQL on the lon/lat columns (every facility and unit
  is a point); places that carry a polygon are tested exactly with shapely
  (an STRtree over those shapes), so a mine whose outline crosses the box is
  found even when its centre lies outside.
* One geometry type per collection (GDAL declares a layer's type from it, and a
  GeoPackage export warns on a mix): ``places`` is every populated place at its
  centre point, ``place-areas`` the outlines of the places that have one, each
  a MultiPolygon.
* ``incidents``: every live incident at its position, with kind, disease,
  priority, status and its times, but no reporter, phone or notes (the desktop
  GIS maps cases; personal data stays in the command room).
* ``datetime`` filters the collections that have a time (ogc_time.py).
* Only live data: drills never leak into a desktop GIS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select

from ..contexts import LIVE, context_row
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..facilities import service as facility_service
from ..facilities.models import BED_LABELS, KIND_LABELS, BedKind, Facility, FacilityKind
from ..incidents import diseases
from ..incidents.models import STATUS_LABELS as INCIDENT_STATUS_LABELS
from ..incidents.models import TYPE_LABELS, Incident
from ..limits import INT64_MAX
from ..units.models import STATUS_LABELS, Unit
from . import boundaries, ogc_time
from .places import PLACE_LABELS, PopulatedPlace
from .region import BBox
from .rfc7946 import collection as rfc7946_collection
from .rfc7946 import geometry as rfc7946_geometry

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/1.3/CRS84h"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
HTML = "text/html"
KNOWN_ITEM_PARAMS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime"})
PLACE_AREAS = "place-areas"
FACILITY_PREFIX = "facilities-"


# --- request parameters ----------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A CRS84 bbox; ``min_lon > max_lon`` means it crosses the antimeridian."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]

    def shapes(self) -> list[Any]:
        """The box as one or two shapely rectangles (split at ±180)."""
        from shapely.geometry import box

        if self.min_lon <= self.max_lon:
            return [box(self.min_lon, self.min_lat, self.max_lon, self.max_lat)]
        return [box(self.min_lon, self.min_lat, 180, self.max_lat),
                box(-180, self.min_lat, self.max_lon, self.max_lat)]


@dataclass(frozen=True)
class ItemQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: Box | None = None
    bbox_text: str | None = None
    when: ogc_time.Interval | None = None


def parse_item_query(args: dict[str, str]) -> ItemQuery:
    """Check the items parameters; every mistake is a 400 naming it.

    ``limit`` above the maximum is lowered to it (the standard's recommended
    behaviour, so a client asking for "everything" still gets pages).
    """
    unknown = sorted(set(args) - KNOWN_ITEM_PARAMS)
    if unknown:
        raise ValidationFailed(_("Unknown parameter: %(names)s. Known: %(known)s.",
                                 names=", ".join(unknown),
                                 known=", ".join(sorted(KNOWN_ITEM_PARAMS))))
    check_format(args.get("f"))
    limit = _int(args, "limit", DEFAULT_LIMIT, lo=1)
    offset = _int(args, "offset", 0, lo=0)
    crs = args.get("bbox-crs")
    if crs and crs not in (CRS84, CRS84H):
        raise ValidationFailed(_("Only bbox-crs %(crs)s is supported.", crs=CRS84))
    raw = args.get("bbox")
    return ItemQuery(limit=min(limit, MAX_LIMIT), offset=offset,
                     bbox=parse_bbox(raw) if raw is not None else None, bbox_text=raw,
                     when=ogc_time.parse_datetime(args.get("datetime")))


def check_format(f: str | None) -> None:
    if f not in (None, "", "json", "geojson", "application/json", GEOJSON):
        raise ValidationFailed(_("Unsupported format %(f)s: this service answers f=json.", f=f))


def _int(args: dict[str, str], name: str, default: int, *, lo: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(_("The parameter %(name)s must be a whole number.",
                                 name=name)) from None
    if value < lo:
        raise ValidationFailed(_("The parameter %(name)s must be at least %(lo)d.",
                                 name=name, lo=lo))
    if value > INT64_MAX:
        raise ValidationFailed(_("The parameter %(name)s is too large.", name=name))
    return value


def parse_bbox(raw: str) -> Box:
    """``minLon,minLat,maxLon,maxLat`` (or the 6-number 3D form), CRS84."""
    parts = raw.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    message = _("bbox must be four numbers: minLon,minLat,maxLon,maxLat (WGS-84 degrees).")
    if len(nums) != 4 or any(n != n for n in nums):  # n != n: NaN
        raise ValidationFailed(message)
    min_lon, min_lat, max_lon, max_lat = nums
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValidationFailed(_("bbox longitudes must be within ±180."))
    if not (-90 <= min_lat <= max_lat <= 90):
        raise ValidationFailed(_("bbox latitudes must be within ±90, the lower one first "
                                 "(lon,lat order: minLon,minLat,maxLon,maxLat)."))
    return Box(min_lon, min_lat, max_lon, max_lat)


# --- collections -------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str


def collections() -> list[Collection]:
    """Every collection this service offers, in the order a GIS lists them."""
    out = [
        Collection("facilities", _("All facilities"),
                   _("Every medical facility with its status and capacity; style by kind.")),
        *[Collection(FACILITY_PREFIX + k.value, str(KIND_LABELS[k]),
                     _("Facilities of one kind with their status and capacity."))
          for k in FacilityKind],
        Collection("units", _("Ambulances"),
                   _("Ambulances at their latest reported position, with status.")),
        Collection("incidents", _("Incidents"),
                   _("Live incidents at their position with kind, disease, priority, status "
                     "and times; datetime filters by the time found.")),
        Collection("places", _("Populated places"),
                   _("Villages, towns, schools, offices and mines with population, each at "
                     "its centre point.")),
        Collection(PLACE_AREAS, _("Populated places: outlines"),
                   _("The outlines of the populated places that have one (mines, towns).")),
        Collection("admin-areas", _("Administrative boundaries"),
                   _("The city and its banners, counties and districts.")),
    ]
    return out


def _collection(collection_id: str) -> Collection:
    for c in collections():
        if c.id == collection_id:
            return c
    raise NotFound(_("No such collection: %(id)s.", id=collection_id))


# --- per-layer queries -------------------------------------------------------


def _point_filter(lon: Any, lat: Any, box: Box) -> Any:
    lat_ok = and_(lat >= box.min_lat, lat <= box.max_lat)
    if box.min_lon <= box.max_lon:
        return and_(lat_ok, lon >= box.min_lon, lon <= box.max_lon)
    return and_(lat_ok, or_(lon >= box.min_lon, lon <= box.max_lon))


def _facility_kind(collection_id: str) -> FacilityKind | None:
    return FacilityKind(collection_id.removeprefix(FACILITY_PREFIX)) \
        if collection_id.startswith(FACILITY_PREFIX) else None


def _facility_select(collection_id: str, box: Box | None,
                     when: ogc_time.Interval | None = None) -> Select[Any]:
    q = select(Facility).where(Facility.context == LIVE)
    if when is not None:  # a facility's time: its last capacity report
        q = q.where(when.condition(Facility.last_report_at))
    kind = _facility_kind(collection_id)
    if kind is not None:
        q = q.where(Facility.kind == kind.value)
    if box is not None:
        q = q.where(_point_filter(Facility.lon, Facility.lat, box))
    return q


def _unit_select(box: Box | None, when: ogc_time.Interval | None = None) -> Select[Any]:
    q = select(Unit).where(Unit.context == LIVE)
    if when is not None:  # an ambulance's time: its last position fix
        q = q.where(when.condition(Unit.position_at))
    if box is not None:
        q = q.where(Unit.lon.is_not(None), _point_filter(Unit.lon, Unit.lat, box))
    return q


def _incident_select(box: Box | None, when: ogc_time.Interval | None) -> Select[Any]:
    q = select(Incident).where(Incident.context == LIVE)
    if when is not None:  # an incident's time: when it was found (早发现)
        q = q.where(when.condition(Incident.found_at))
    if box is not None:
        q = q.where(_point_filter(Incident.lon, Incident.lat, box))
    return q


def incident_feature(i: Incident) -> dict[str, Any]:
    """What a GIS maps of an incident; no reporter, phone, notes or contacts."""
    kind = TYPE_LABELS.get(i.type)  # type: ignore[call-overload]
    status = INCIDENT_STATUS_LABELS.get(i.status)  # type: ignore[call-overload]
    disease = diseases.get(i.disease)
    return {"type": "Feature", "id": i.id,
            "geometry": {"type": "Point", "coordinates": [i.lon, i.lat]}, "properties": {
                "id": i.id, "type": i.type, "type_label": str(kind) if kind else i.type,
                "disease": i.disease, "disease_label": str(disease.label) if disease else None,
                "priority": i.priority, "status": i.status,
                "status_label": str(status) if status else i.status,
                "patients": i.patients, "address": i.address,
                "found_at": i.found_at.isoformat(), "logged_at": i.logged_at.isoformat(),
                "report_deadline": i.report_deadline.isoformat() if i.report_deadline
                else None}}


def facility_feature(f: Facility, now: Any, stale_after: timedelta) -> dict[str, Any]:
    """A facility with flat, fixed attributes (one column per bed kind and figure)."""
    props: dict[str, Any] = {
        "id": f.id, "code": f.code, "name": f.name, "kind": f.kind,
        "kind_label": str(KIND_LABELS.get(f.kind, f.kind)),  # type: ignore[call-overload]
        "area": f.area_code, "status": f.status,
        "shown_status": facility_service.shown_status(f, now, stale_after),
        "last_report_at": f.last_report_at.isoformat() if f.last_report_at else None,
        "address": f.address, "contact_name": f.contact_name, "contact_phone": f.contact_phone,
    }
    figures = f.figures or {}
    for bed in BedKind:
        fig = figures.get(bed.value)
        props[f"{bed.value}_capacity"] = fig["capacity"] if fig else None
        props[f"{bed.value}_occupied"] = fig["occupied"] if fig else None
        props[f"{bed.value}_free"] = fig["capacity"] - fig["occupied"] if fig else None
    return {"type": "Feature", "id": f.id,
            "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]}, "properties": props}


def unit_feature(u: Unit) -> dict[str, Any]:
    geometry = ({"type": "Point", "coordinates": [u.lon, u.lat]}
                if u.lon is not None and u.lat is not None else None)
    label = STATUS_LABELS.get(u.status)  # type: ignore[call-overload]
    return {"type": "Feature", "id": u.id, "geometry": geometry, "properties": {
        "id": u.id, "call_sign": u.call_sign, "kind": u.kind,
        "crew": ", ".join(str(c) for c in (u.crew or [])),
        "negative_pressure": bool(u.negative_pressure), "station_id": u.station_id,
        "status": u.status, "status_label": str(label) if label else u.status,
        "status_at": u.status_at.isoformat(),
        "position_at": u.position_at.isoformat() if u.position_at else None,
        "speed_kmh": u.speed_kmh, "heading": u.heading,
    }}


def place_feature(p: PopulatedPlace, *, outline: bool = False) -> dict[str, Any]:
    """At its centre point, or (``outline``) its outline as a MultiPolygon."""
    geometry: dict[str, Any] = {"type": "Point", "coordinates": [p.lon, p.lat]}
    if outline and p.geometry:
        geometry = rfc7946(json.loads(p.geometry))
        if geometry["type"] == "Polygon":
            geometry = {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
    label = PLACE_LABELS.get(p.kind)  # type: ignore[call-overload]
    return {"type": "Feature", "id": p.id, "geometry": geometry, "properties": {
        "id": p.id, "code": p.code, "name": p.name, "kind": p.kind,
        "kind_label": str(label) if label else p.kind,
        "population": p.population, "area": p.area_code,
    }}


def rfc7946(geometry: dict[str, Any]) -> dict[str, Any]:
    """A polygonal geometry with right-hand (counter-clockwise exterior) rings."""
    return rfc7946_geometry(geometry) or geometry


def _place_ids(s: Any, box: Box | None) -> list[int] | None:
    """Ids of places whose outline meets the box (None: no box), tested exactly."""
    if box is None:
        return None
    points: set[int] = set()
    shaped = list(s.execute(select(PopulatedPlace.id, PopulatedPlace.geometry).where(
        PopulatedPlace.geometry.is_not(None))))
    if shaped:
        from shapely.geometry import shape
        from shapely.strtree import STRtree

        tree = STRtree([shape(json.loads(g)) for _id, g in shaped])
        for rect in box.shapes():
            for i in tree.query(rect, predicate="intersects"):
                points.add(shaped[int(i)][0])
    return sorted(points)


@dataclass
class Page:
    features: list[dict[str, Any]]
    matched: int


def _page_of(s: Any, q: Select[Any], model: Any, query: ItemQuery) -> tuple[list[Any], int]:
    matched = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = list(s.scalars(q.order_by(model.id).offset(query.offset).limit(query.limit)))
    return rows, int(matched or 0)


def query_items(collection_id: str, query: ItemQuery, *, stale_after: timedelta) -> Page:
    """One page of a collection's features, and how many match in all."""
    _collection(collection_id)
    if collection_id == "admin-areas":
        feats = boundaries.features()
        if query.bbox is not None:
            from shapely.geometry import shape

            feats = [f for f in feats if any(shape(f["geometry"]).intersects(r)
                                             for r in query.bbox.shapes())]
        return Page(feats[query.offset:query.offset + query.limit], len(feats))
    with db.reading() as s:
        if collection_id == "units":
            rows, matched = _page_of(s, _unit_select(query.bbox, query.when), Unit, query)
            return Page([unit_feature(u) for u in rows], matched)
        if collection_id == "incidents":
            rows, matched = _page_of(s, _incident_select(query.bbox, query.when), Incident,
                                     query)
            return Page([incident_feature(i) for i in rows], matched)
        if collection_id == "places":
            q = select(PopulatedPlace)
            if query.bbox is not None:
                q = q.where(_point_filter(PopulatedPlace.lon, PopulatedPlace.lat, query.bbox))
            rows, matched = _page_of(s, q, PopulatedPlace, query)
            return Page([place_feature(p) for p in rows], matched)
        if collection_id == PLACE_AREAS:
            ids = _place_ids(s, query.bbox)
            q = select(PopulatedPlace).where(PopulatedPlace.geometry.is_not(None))
            if ids is not None:
                matched = len(ids)
                ids = ids[query.offset:query.offset + query.limit]
                rows = list(s.scalars(q.where(PopulatedPlace.id.in_(ids))
                                      .order_by(PopulatedPlace.id))) if ids else []
            else:
                rows, matched = _page_of(s, q, PopulatedPlace, query)
            return Page([place_feature(p, outline=True) for p in rows], matched)
        now = _now(s)
        rows, matched = _page_of(s, _facility_select(collection_id, query.bbox, query.when),
                                 Facility, query)
        return Page([facility_feature(f, now, stale_after) for f in rows], matched)


def _now(s: Any) -> Any:
    ctx = context_row(s, LIVE)
    return ctx.clock().now()


def get_item(collection_id: str, fid: str, *, stale_after: timedelta) -> dict[str, Any]:
    """One feature of a collection, or 404 (also for a feature of another collection)."""
    _collection(collection_id)
    missing = NotFound(_("No such feature: %(fid)s.", fid=fid))
    if collection_id == "admin-areas":
        for f in boundaries.features():
            if str(f["id"]) == fid:
                return f
        raise missing
    try:
        key = int(fid)
    except ValueError:
        raise missing from None
    with db.reading() as s:
        if collection_id == "units":
            u = s.get(Unit, key)
            if u is None or u.context != LIVE:
                raise missing
            return unit_feature(u)
        if collection_id == "incidents":
            i = s.get(Incident, key)
            if i is None or i.context != LIVE:
                raise missing
            return incident_feature(i)
        if collection_id in ("places", PLACE_AREAS):
            p = s.get(PopulatedPlace, key)
            outline = collection_id == PLACE_AREAS
            if p is None or (outline and not p.geometry):
                raise missing
            return place_feature(p, outline=outline)
        fac = s.get(Facility, key)
        kind = _facility_kind(collection_id)
        if fac is None or fac.context != LIVE or (kind is not None and fac.kind != kind.value):
            raise missing
        return facility_feature(fac, _now(s), stale_after)


def extent(collection_id: str, region: BBox | None) -> list[float]:
    """The collection's bbox from its data; the configured region when it is empty."""
    _collection(collection_id)
    bounds: list[float] | None = None
    if collection_id == "admin-areas":
        bounds = boundaries.bounds()
    else:
        with db.reading() as s:
            if collection_id == "units":
                q: Any = select(func.min(Unit.lon), func.min(Unit.lat), func.max(Unit.lon),
                                        func.max(Unit.lat)).where(Unit.context == LIVE)
            elif collection_id == "incidents":
                q = select(func.min(Incident.lon), func.min(Incident.lat),
                           func.max(Incident.lon), func.max(Incident.lat)).where(
                    Incident.context == LIVE)
            elif collection_id in ("places", PLACE_AREAS):
                q = select(func.min(PopulatedPlace.lon), func.min(PopulatedPlace.lat),
                           func.max(PopulatedPlace.lon), func.max(PopulatedPlace.lat))
                if collection_id == PLACE_AREAS:
                    q = q.where(PopulatedPlace.geometry.is_not(None))
            else:
                sub = _facility_select(collection_id, None).subquery()
                q = select(func.min(sub.c.lon), func.min(sub.c.lat), func.max(sub.c.lon),
                           func.max(sub.c.lat))
            row = s.execute(q).one()
            if row[0] is not None:
                bounds = [float(v) for v in row]
            if collection_id == PLACE_AREAS and bounds is not None:
                bounds = _with_shapes(s, bounds)
    if bounds is None:
        return region.as_list() if region is not None else [-180.0, -90.0, 180.0, 90.0]
    return bounds


def _with_shapes(s: Any, bounds: list[float]) -> list[float]:
    from shapely.geometry import shape

    for (g,) in s.execute(select(PopulatedPlace.geometry).where(
            PopulatedPlace.geometry.is_not(None))):
        x0, y0, x1, y1 = shape(json.loads(g)).bounds
        bounds = [min(bounds[0], x0), min(bounds[1], y0), max(bounds[2], x1),
                  max(bounds[3], y1)]
    return bounds


# --- documents ---------------------------------------------------------------


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def landing(base: str) -> dict[str, Any]:
    return {
        "title": _("Coordination: live layers"),
        "description": _("Read-only OGC API – Features of the live map: facilities, "
                         "ambulances, populated places and administrative boundaries."),
        "links": [
            _link(f"{base}/", "self", JSON, _("This document")),
            _link(f"{base}/api", "service-desc", OPENAPI, _("The API definition")),
            _link(f"{base}/doc", "service-doc", HTML, _("How to use this service")),
            _link(f"{base}/conformance", "conformance", JSON, _("Conformance classes")),
            _link(f"{base}/collections", "data", JSON, _("The collections")),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def collection_document(base: str, collection_id: str, region: BBox | None) -> dict[str, Any]:
    c = _collection(collection_id)
    url = f"{base}/collections/{c.id}"
    return {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "crs": [CRS84], "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [extent(c.id, region)], "crs": CRS84}},
        "links": [
            _link(url, "self", JSON, c.title),
            _link(f"{url}/items", "items", GEOJSON, c.title),
        ],
    }


def collections_document(base: str, region: BBox | None) -> dict[str, Any]:
    return {
        "links": [_link(f"{base}/collections", "self", JSON, _("The collections"))],
        "collections": [collection_document(base, c.id, region) for c in collections()],
    }


def _items_url(base: str, collection_id: str, query: ItemQuery, offset: int) -> str:
    params: dict[str, Any] = {"f": "json", "limit": query.limit}
    if offset:
        params["offset"] = offset
    if query.bbox_text is not None:
        params["bbox"] = ",".join(f"{v:g}" for v in query.bbox.as_list()) if query.bbox else ""
    if query.when is not None:
        params["datetime"] = query.when.text
    return f"{base}/collections/{collection_id}/items?{urlencode(params)}"


def items_document(base: str, collection_id: str, query: ItemQuery, *,
                   stale_after: timedelta, timestamp: str) -> dict[str, Any]:
    """A FeatureCollection page with ``self``/``next``/``prev`` links and counts."""
    page = query_items(collection_id, query, stale_after=stale_after)
    links = [
        _link(_items_url(base, collection_id, query, query.offset), "self", GEOJSON),
        _link(f"{base}/collections/{collection_id}", "collection", JSON),
    ]
    if query.offset + len(page.features) < page.matched:
        links.append(_link(_items_url(base, collection_id, query, query.offset + query.limit),
                           "next", GEOJSON))
    if query.offset > 0:
        links.append(_link(_items_url(base, collection_id, query,
                                      max(0, query.offset - query.limit)), "prev", GEOJSON))
    return rfc7946_collection(page.features, timeStamp=timestamp,
                              numberMatched=page.matched, numberReturned=len(page.features),
                              links=links)


def item_document(base: str, collection_id: str, fid: str, *,
                  stale_after: timedelta) -> dict[str, Any]:
    feature = get_item(collection_id, fid, stale_after=stale_after)
    feature = feature | {"geometry": rfc7946_geometry(feature.get("geometry"))}
    url = f"{base}/collections/{collection_id}"
    return feature | {"links": [_link(f"{url}/items/{fid}", "self", GEOJSON),
                                _link(url, "collection", JSON)]}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {
        "$ref": "#/components/schemas/exception"}}}}


def openapi(base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 definition of this service (GDAL reads ``limit``'s maximum here)."""
    ids = [c.id for c in collections()]
    p_collection = {"name": "collectionId", "in": "path", "required": True,
                    "description": _("The collection's id."),
                    "schema": {"type": "string", "enum": ids}}
    p_feature = {"name": "featureId", "in": "path", "required": True,
                 "description": _("The feature's id."), "schema": {"type": "string"}}
    p_f = {"name": "f", "in": "query", "required": False, "style": "form", "explode": False,
           "schema": {"type": "string", "enum": ["json"]}}
    p_limit = {"name": "limit", "in": "query", "required": False, "style": "form",
               "explode": False, "description": _("Features per page."),
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                          "default": DEFAULT_LIMIT}}
    p_offset = {"name": "offset", "in": "query", "required": False, "style": "form",
                "explode": False, "description": _("Features to skip (the next link sets it)."),
                "schema": {"type": "integer", "minimum": 0, "default": 0}}
    p_bbox = {"name": "bbox", "in": "query", "required": False, "style": "form",
              "explode": False,
              "description": _("minLon,minLat,maxLon,maxLat in WGS-84 degrees."),
              "schema": {"type": "array", "minItems": 4, "maxItems": 6,
                         "items": {"type": "number"}}}
    p_datetime = {"name": "datetime", "in": "query", "required": False, "style": "form",
                  "explode": False,
                  "description": _("An RFC 3339 date-time, date or interval (start/end, ../end, "
                                   "start/..): ambulances by their last position fix, "
                                   "facilities by their last capacity report, incidents by "
                                   "the time found; ignored by collections without a time."),
                  "schema": {"type": "string"}}
    p_bbox_crs = {"name": "bbox-crs", "in": "query", "required": False, "style": "form",
                  "explode": False, "schema": {"type": "string", "enum": [CRS84]}}
    errors = {"400": _error_response(_("Bad parameter.")),
              "401": _error_response(_("Sign in or send a valid API token.")),
              "403": _error_response(_("Your role does not allow this."))}
    not_found = {"404": _error_response(_("No such collection or feature."))}

    def ok(description: str, type_: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"200": {"description": description, "content": {type_: {"schema": schema}}}}

    obj = {"type": "object"}
    paths = {
        "/": {"get": {"operationId": "getLandingPage", "summary": _("Landing page"),
                      "parameters": [p_f],
                      "responses": ok(_("Links to the API."), JSON, obj) | errors}},
        "/conformance": {"get": {"operationId": "getConformance",
                                 "summary": _("Conformance classes"), "parameters": [p_f],
                                 "responses": ok(_("Conformance classes."), JSON, obj) | errors}},
        "/api": {"get": {"operationId": "getApi", "summary": _("This API definition"),
                         "responses": ok(_("The OpenAPI document."), OPENAPI, obj) | errors}},
        "/collections": {"get": {"operationId": "getCollections",
                                 "summary": _("The collections"), "parameters": [p_f],
                                 "responses": ok(_("The collections."), JSON, obj) | errors}},
        "/collections/{collectionId}": {"get": {
            "operationId": "describeCollection", "summary": _("One collection"),
            "parameters": [p_collection, p_f],
            "responses": ok(_("The collection."), JSON, obj) | errors | not_found}},
        "/collections/{collectionId}/items": {"get": {
            "operationId": "getFeatures", "summary": _("Features of a collection"),
            "parameters": [p_collection, p_limit, p_offset, p_bbox, p_bbox_crs, p_datetime,
                           p_f],
            "responses": ok(_("A page of features."), GEOJSON,
                            {"$ref": "#/components/schemas/featureCollectionGeoJSON"})
            | errors | not_found}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "operationId": "getFeature", "summary": _("One feature"),
            "parameters": [p_collection, p_feature, p_f],
            "responses": ok(_("The feature."), GEOJSON,
                            {"$ref": "#/components/schemas/featureGeoJSON"})
            | errors | not_found}},
    }
    feature_schema = {"type": "object", "required": ["type", "geometry", "properties"],
                      "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                     "geometry": {"nullable": True, "type": "object"},
                                     "properties": {"nullable": True, "type": "object"},
                                     "id": {"oneOf": [{"type": "string"},
                                                      {"type": "integer"}]}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": _("Coordination: live layers"), "version": "1.0.0",
                 "description": _("Read-only OGC API – Features of the live map."),
                 "license": {"name": "AGPL-3.0-or-later"}},
        "servers": [{"url": base}],
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": _("An API token (coordination create-token).")},
                "basic": {"type": "http", "scheme": "basic",
                          "description": _("Any user name, the API token as the password "
                                           "(QGIS, ArcGIS).")},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "exception": {"type": "object", "required": ["error"],
                              "properties": {"error": {"type": "string"},
                                             "code": {"type": "string"}}},
                "featureGeoJSON": feature_schema,
                "featureCollectionGeoJSON": {
                    "type": "object", "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array",
                                     "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                        "links": {"type": "array", "items": {"type": "object"}},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                    }},
            },
        },
    }


def doc_page(base: str) -> dict[str, Any]:
    """What the human service page shows: each collection, the capacity columns, and
    the GDAL command line that loads the service."""
    return {
        "base": base,
        "rows": [{"id": c.id, "title": c.title, "description": c.description,
                  "items": f"{base}/collections/{c.id}/items?limit=100"}
                 for c in collections()],
        "beds": [(f"{b.value}_capacity", str(BED_LABELS[b])) for b in BedKind],
        "gdal": f'ogrinfo --config GDAL_HTTPAUTH BASIC --config GDAL_HTTP_USERPWD "qgis:…" '
                f'OAPIF:{base}',
    }
