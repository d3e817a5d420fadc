"""Epidemic zones (疫点/疫区): kept in step with confirmed cases, one version per change.

``refresh_zones`` reads the confirmed case locations of a disease that has an
epidemic-point rule (geo/epidemic.py), groups them (a case within the point
plus zone radius of a zone's case joins that zone; otherwise it starts a new
zone), and for every zone whose cases changed appends a version with the
geometry, the affected places and facilities and the population. Calling it
again with nothing new changes nothing. The incidents service may call it
after ``add_case``; operators can also run it from the zone pages, the API
or ``coordination zones refresh``. ``recompute_zone`` appends a version with
the same cases (after places or facilities were reloaded).

The context row is locked first, so two refreshes of one context never build
the same version twice (SQLite serialises writers anyway).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..contexts import LIVE, Context
from ..errors import NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..facilities.models import Facility
from ..geo import epidemic, rfc7946
from ..geo.places import PopulatedPlace
from .models import Case, Incident, IncidentStatus
from .zone_models import EpidemicZone, EpidemicZoneVersion, ZoneStatus

AUDIENCE = ["role:operator", "role:trainer"]
# Places are fetched by their representative point; a place polygon may reach
# this far beyond it (a large mine or town) and still be found.
PLACE_MARGIN_M = 20_000


def _rule(disease: str) -> epidemic.EpidemicRule:
    rule = epidemic.rule_for(disease)
    if rule is None:
        known = ", ".join(sorted(epidemic.default_rules()))
        raise ValidationFailed(_l("%(disease)s has no epidemic-point rule (rules exist for: "
                                  "%(known)s).", disease=disease, known=known))
    return rule


def _confirmed_cases(s: Session, context: str, disease: str) -> list[dict[str, Any]]:
    rows = s.execute(
        select(Case.id, Case.incident_id, Case.lon, Case.lat, Case.label, Case.at)
        .join(Incident, Incident.id == Case.incident_id)
        .where(Case.context == context, Incident.disease == disease,
               Case.confirmed.is_(True),
               Incident.status != IncidentStatus.CANCELLED.value)
        .order_by(Case.id))
    return [{"id": r.id, "incident_id": r.incident_id, "lon": r.lon, "lat": r.lat,
             "label": r.label, "at": r.at.isoformat()} for r in rows]


def _metres(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Great-circle distance: enough to decide which zone a case belongs to."""
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _frames(s: Session, context: str, cases: list[dict[str, Any]],
            rule: epidemic.EpidemicRule) -> tuple[Any, Any]:
    """Places and facilities around the cases, as WGS-84 GeoDataFrames."""
    import geopandas as gpd
    from shapely.geometry import Point, shape

    reach = (rule.point_radius_m + rule.zone_radius_m + PLACE_MARGIN_M
             + max([rule.default_place_radius_m, *rule.place_radius_m.values()]))
    lat0 = sum(c["lat"] for c in cases) / len(cases)
    dlat = reach / 111_000
    dlon = reach / (111_000 * max(math.cos(math.radians(lat0)), 0.1))
    lons, lats = [c["lon"] for c in cases], [c["lat"] for c in cases]
    box = (min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat)
    places = list(s.scalars(select(PopulatedPlace).where(
        PopulatedPlace.lon.between(box[0], box[2]), PopulatedPlace.lat.between(box[1], box[3]))))
    place_frame = gpd.GeoDataFrame(
        {"id": [p.id for p in places], "kind": [p.kind for p in places],
         "population": [p.population for p in places]},
        geometry=[shape(json.loads(p.geometry)) if p.geometry else Point(p.lon, p.lat)
                  for p in places], crs="EPSG:4326")
    facs = list(s.scalars(select(Facility).where(
        Facility.context == context, Facility.lon.between(box[0], box[2]),
        Facility.lat.between(box[1], box[3]))))
    fac_frame = gpd.GeoDataFrame({"id": [f.id for f in facs]},
                                 geometry=[Point(f.lon, f.lat) for f in facs], crs="EPSG:4326")
    return place_frame, fac_frame


def _add_version(s: Session, zone: EpidemicZone, cases: list[dict[str, Any]],
                 rule: epidemic.EpidemicRule, reason: str, actor: Actor,
                 now: datetime) -> EpidemicZoneVersion:
    places, facilities = _frames(s, zone.context, cases, rule)
    area = epidemic.compute_epidemic_area([(c["lon"], c["lat"]) for c in cases], places, rule,
                                          facilities)
    zone.version += 1
    zone.case_ids = [c["id"] for c in cases]
    zone.updated_at = now
    v = EpidemicZoneVersion(
        context=zone.context, zone_id=zone.id, version=zone.version, reason=reason,
        created_at=now, created_by=actor.name, rule=rule.as_dict(), cases=cases,
        point_geojson=json.dumps(area.point), zone_geojson=json.dumps(area.zone),
        point_place_ids=area.point_place_ids, zone_place_ids=area.zone_place_ids,
        point_facility_ids=area.point_facility_ids, zone_facility_ids=area.zone_facility_ids,
        point_population=area.point_population, zone_population=area.zone_population,
        point_area_km2=area.point_area_km2, zone_area_km2=area.zone_area_km2,
    )
    s.add(v)
    s.flush()
    events.append(s, context=zone.context, type="zone.updated", actor=actor, audience=AUDIENCE,
                  subject=("zone", zone.id), payload=_summary(zone, v))
    return v


def _lock_context(s: Session, context: str) -> Context:
    ctx = s.scalars(select(Context).where(Context.name == context).with_for_update()).first()
    if ctx is None:
        raise NotFound(_l("No such context."))
    return ctx


def refresh_zones(*, disease: str, actor: Actor, context: str = LIVE) -> list[dict[str, Any]]:
    """Bring the disease's zones in step with its confirmed cases; returns changed zones."""
    rule = _rule(disease)
    changed: list[dict[str, Any]] = []
    with db.unit_of_work() as s:
        now = _lock_context(s, context).clock().now()
        cases = _confirmed_cases(s, context, disease)
        by_id = {c["id"]: c for c in cases}
        zones = list(s.scalars(select(EpidemicZone).where(
            EpidemicZone.context == context, EpidemicZone.disease == disease,
            EpidemicZone.status == ZoneStatus.ACTIVE.value).order_by(EpidemicZone.id)))
        members: dict[int, list[dict[str, Any]]] = {
            z.id: [by_id[i] for i in z.case_ids if i in by_id] for z in zones}
        placed = {i for z in zones for i in z.case_ids if i in by_id}
        reach = rule.point_radius_m + rule.zone_radius_m
        fresh: list[list[dict[str, Any]]] = []
        for case in cases:
            if case["id"] in placed:
                continue
            home = next((zid for zid, group in members.items()
                         if any(_metres(case, c) <= reach for c in group)), None)
            if home is not None:
                members[home].append(case)
                continue
            group = next((g for g in fresh if any(_metres(case, c) <= reach for c in g)), None)
            if group is not None:
                group.append(case)
            else:
                fresh.append([case])
        for zone in zones:
            group = members[zone.id]
            if [c["id"] for c in group] == list(zone.case_ids):
                continue
            if not group:
                zone.status = ZoneStatus.LIFTED.value
                zone.updated_at = now
                events.append(s, context=context, type="zone.lifted", actor=actor,
                              audience=AUDIENCE, subject=("zone", zone.id),
                              payload={"id": zone.id, "disease": disease})
                continue
            v = _add_version(s, zone, group, rule, "cases", actor, now)
            changed.append(_summary(zone, v))
        for group in fresh:
            zone = EpidemicZone(context=context, disease=disease,
                                status=ZoneStatus.ACTIVE.value, version=0, case_ids=[],
                                created_at=now, updated_at=now)
            s.add(zone)
            s.flush()
            v = _add_version(s, zone, group, rule, "cases", actor, now)
            changed.append(_summary(zone, v))
    return changed


def recompute_zone(*, zone_id: int, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """A new version with the same cases: after places or facilities changed."""
    with db.unit_of_work() as s:
        now = _lock_context(s, context).clock().now()
        zone = _zone(s, zone_id, context)
        if zone.status != ZoneStatus.ACTIVE.value:
            raise ValidationFailed(_l("This zone has been lifted."))
        latest = _version(s, zone, None)
        v = _add_version(s, zone, latest.cases, _rule(zone.disease), "recomputed", actor, now)
        return _summary(zone, v)


def _zone(s: Session, zone_id: int, context: str) -> EpidemicZone:
    zone = s.get(EpidemicZone, zone_id)
    if zone is None or zone.context != context:
        raise NotFound(_l("No such epidemic zone."))
    return zone


def _version(s: Session, zone: EpidemicZone, version: int | None) -> EpidemicZoneVersion:
    q = select(EpidemicZoneVersion).where(EpidemicZoneVersion.zone_id == zone.id)
    q = q.where(EpidemicZoneVersion.version == version) if version is not None else \
        q.order_by(EpidemicZoneVersion.version.desc()).limit(1)
    v = s.scalars(q).first()
    if v is None:
        raise NotFound(_l("No such version of this epidemic zone."))
    return v


def _summary(zone: EpidemicZone, v: EpidemicZoneVersion) -> dict[str, Any]:
    return {
        "id": zone.id, "disease": zone.disease, "status": zone.status, "version": v.version,
        "latest_version": zone.version, "updated_at": zone.updated_at.isoformat(),
        "cases": len(v.cases), "point_places": len(v.point_place_ids),
        "zone_places": len(v.zone_place_ids), "point_population": v.point_population,
        "zone_population": v.zone_population, "zone_facilities": len(v.zone_facility_ids),
        "point_area_km2": v.point_area_km2, "zone_area_km2": v.zone_area_km2,
    }


def list_zones(*, context: str = LIVE, active_only: bool = False) -> list[dict[str, Any]]:
    with db.reading() as s:
        q = select(EpidemicZone).where(EpidemicZone.context == context)
        if active_only:
            q = q.where(EpidemicZone.status == ZoneStatus.ACTIVE.value)
        out = []
        for zone in s.scalars(q.order_by(EpidemicZone.id.desc())):
            out.append(_summary(zone, _version(s, zone, None)))
        return out


def get_zone(*, zone_id: int, version: int | None = None,
             context: str = LIVE) -> dict[str, Any]:
    """A zone at one version (default the newest): geometry, places, facilities, history."""
    with db.reading() as s:
        zone = _zone(s, zone_id, context)
        v = _version(s, zone, version)
        ids = sorted(set(v.zone_place_ids) | set(v.point_place_ids))
        places = {p.id: p for p in s.scalars(
            select(PopulatedPlace).where(PopulatedPlace.id.in_(ids)))} if ids else {}
        fac_ids = sorted(set(v.zone_facility_ids))
        facs = {f.id: f for f in s.scalars(
            select(Facility).where(Facility.id.in_(fac_ids)))} if fac_ids else {}
        history = [{"version": h.version, "reason": h.reason, "at": h.created_at.isoformat(),
                    "by": h.created_by, "cases": len(h.cases),
                    "zone_population": h.zone_population}
                   for h in s.scalars(select(EpidemicZoneVersion).where(
                       EpidemicZoneVersion.zone_id == zone.id)
                       .order_by(EpidemicZoneVersion.version.desc()))]
        point_ids = set(v.point_place_ids)
        return _summary(zone, v) | {
            "created_at": zone.created_at.isoformat(), "version_at": v.created_at.isoformat(),
            "version_by": v.created_by, "rule": v.rule, "case_list": v.cases,
            "point": json.loads(v.point_geojson), "zone": json.loads(v.zone_geojson),
            "places": [
                {"id": p.id, "code": p.code, "name": p.name, "kind": p.kind,
                 "population": p.population, "lon": p.lon, "lat": p.lat,
                 "geometry": (json.loads(p.geometry) if p.geometry
                              else {"type": "Point", "coordinates": [p.lon, p.lat]}),
                 "in": "point" if p.id in point_ids else "zone"}
                for pid in ids if (p := places.get(pid)) is not None],
            "facilities": [
                {"id": f.id, "code": f.code, "name": f.name, "kind": f.kind, "lon": f.lon,
                 "lat": f.lat, "in": "point" if f.id in set(v.point_facility_ids) else "zone"}
                for fid in fac_ids if (f := facs.get(fid)) is not None],
            "history": history,
        }


def zone_geojson(*, zone_id: int, version: int | None = None,
                 context: str = LIVE) -> dict[str, Any]:
    """The zone as a FeatureCollection: 疫点, 疫区, cases, affected places and facilities."""
    z = get_zone(zone_id=zone_id, version=version, context=context)
    common = {"zone_id": z["id"], "disease": z["disease"], "version": z["version"]}
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": z["point"], "properties": common | {
            "layer": "epidemic_point", "population": z["point_population"],
            "area_km2": z["point_area_km2"], "radius_m": z["rule"]["point_radius_m"]}},
        {"type": "Feature", "geometry": z["zone"], "properties": common | {
            "layer": "epidemic_zone", "population": z["zone_population"],
            "area_km2": z["zone_area_km2"], "radius_m": z["rule"]["zone_radius_m"]}},
    ]
    features += [{"type": "Feature", "geometry": {"type": "Point",
                                                  "coordinates": [c["lon"], c["lat"]]},
                  "properties": common | {"layer": "case", "case_id": c["id"],
                                          "incident_id": c["incident_id"], "at": c["at"]}}
                 for c in z["case_list"]]
    features += [{"type": "Feature", "geometry": p["geometry"], "properties": common | {
        "layer": "place", "place_id": p["id"], "code": p["code"], "name": p["name"],
        "kind": p["kind"], "population": p["population"], "in": p["in"]}} for p in z["places"]]
    features += [{"type": "Feature", "geometry": {"type": "Point",
                                                  "coordinates": [f["lon"], f["lat"]]},
                  "properties": common | {"layer": "facility", "facility_id": f["id"],
                                          "name": f["name"], "kind": f["kind"], "in": f["in"]}}
                 for f in z["facilities"]]
    return rfc7946.collection(features)
