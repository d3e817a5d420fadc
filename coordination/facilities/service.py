"""Facilities and capacity reports: the only place their rows change.

Every report is appended to ``capacity_reports`` and applied to the facility's
current figures in the same transaction, with one ``facility.capacity_reported``
event whose payload is the facility's new map feature: every open map applies
it in place, in order, through the live channel.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from .. import events
from ..contexts import LIVE
from ..contexts import context_row as _context
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..geo.models import AdminArea
from ..geo.region import BBox, check_position
from .capabilities import CapabilitiesIn
from .models import STALE, BedKind, CapacityReport, Facility, FacilityKind, FacilityStatus
from .schemas import Beds, CapacityReportIn, NewFacility

AUDIENCE = ["role:operator", "role:trainer"]
# Kinds that are expected to report capacity; the others are never "stale".
REPORTING_KINDS = frozenset({
    FacilityKind.FEVER_CLINIC, FacilityKind.TRIAGE_POINT, FacilityKind.ISOLATION_POINT,
    FacilityKind.DESIGNATED_HOSPITAL, FacilityKind.TOWNSHIP_HEALTH_CENTRE,
})


def is_stale(f: Facility, now: datetime, stale_after: timedelta) -> bool:
    if f.kind not in REPORTING_KINDS:
        return False
    return f.last_report_at is None or now - f.last_report_at > stale_after


def shown_status(f: Facility, now: datetime, stale_after: timedelta) -> str:
    """What the map shows: the reported status, or ``stale`` when the report is too old."""
    return STALE if is_stale(f, now, stale_after) else f.status


def properties(f: Facility) -> dict[str, Any]:
    """A facility as the map and the API see it (also the payload of its events)."""
    return {
        "id": f.id,
        "code": f.code,
        "name": f.name,
        "name_en": f.name_en,
        "kind": f.kind,
        "area": f.area_code,
        "status": f.status,
        "figures": f.figures or {},
        "capabilities": f.capabilities or {},
        "last_report_at": f.last_report_at.isoformat() if f.last_report_at else None,
        "reports": f.kind in REPORTING_KINDS,
        "address": f.address,
        "contact_name": f.contact_name,
        "contact_phone": f.contact_phone,
        "lon": f.lon,
        "lat": f.lat,
    }


def feature(f: Facility, now: datetime, stale_after: timedelta) -> dict[str, Any]:
    props = properties(f)
    props["shown_status"] = shown_status(f, now, stale_after)
    return {
        "type": "Feature",
        "id": f.id,
        "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
        "properties": props,
    }


def _apply(f: Facility, data: CapacityReportIn) -> dict[str, Any]:
    figures = {k: dict(v) for k, v in (f.figures or {}).items()}
    for kind, beds in data.figures.items():
        figures[kind.value] = {"capacity": beds.capacity, "occupied": beds.occupied}
    return figures


def create_facilities(
    *, items: list[NewFacility], actor: Actor, region: BBox | None,
    context: str = LIVE, reported_at: dict[str, datetime] | None = None,
) -> int:
    """Add facilities (skipping codes that exist), all or nothing, with one event.

    ``reported_at`` backdates the initial report of some codes: only loaders of
    historical or demo data use it.
    """
    with db.unit_of_work() as s:
        ctx = _context(s, context)
        now = ctx.clock().now()
        existing = set(s.scalars(select(Facility.code).where(Facility.context == context)))
        areas = set(s.scalars(select(AdminArea.code)))
        created: list[tuple[Facility, NewFacility]] = []
        for n, item in enumerate(items, start=1):
            where = f"#{n} {item.code}"
            check_position(item.lon, item.lat, region, where=where)
            if item.area is not None and item.area not in areas:
                raise ValidationFailed(f"{where}: " + str(_l("Unknown area %(code)s.",
                                                              code=item.area)))
            if item.code in existing:
                continue
            existing.add(item.code)
            f = Facility(
                context=context, code=item.code, name=item.name, name_en=item.name_en,
                kind=item.kind.value,
                area_code=item.area, lon=item.lon, lat=item.lat, address=item.address,
                contact_name=item.contact_name, contact_phone=item.contact_phone,
                status="open", figures={}, created_at=now,
                capabilities=item.capabilities.stored() if item.capabilities else {},
                capabilities_at=now if item.capabilities else None,
            )
            s.add(f)
            created.append((f, item))
        s.flush()
        for f, item in created:
            if item.initial is not None:
                at = (reported_at or {}).get(f.code, now)
                _record(s, f, item.initial, actor, at)
        if created:
            events.append(
                s, context=context, type="facilities.loaded", actor=actor, audience=AUDIENCE,
                payload={"count": len(created)},
            )
        return len(created)


def _record(s: Any, f: Facility, data: CapacityReportIn, actor: Actor,
            at: datetime) -> CapacityReport:
    figures = _apply(f, data)
    report = CapacityReport(
        context=f.context, facility_id=f.id, status=data.status.value,
        reported={k.value: v.model_dump() for k, v in data.figures.items()},
        figures=figures, note=data.note, reporter_kind=actor.kind,
        reporter_name=actor.name, reported_at=at,
    )
    s.add(report)
    f.figures, f.status = figures, data.status.value
    if f.last_report_at is None or at >= f.last_report_at:
        f.last_report_at = at
    return report


def report_capacity(
    *, facility_id: int, data: CapacityReportIn, actor: Actor, context: str = LIVE,
) -> dict[str, Any]:
    """Record a capacity/occupancy report and tell every map."""
    with db.unit_of_work() as s:
        ctx = _context(s, context)
        f = s.get(Facility, facility_id)
        if f is None or f.context != context:
            raise NotFound(_l("No such facility."))
        report = _record(s, f, data, actor, ctx.clock().now())
        s.flush()
        body = properties(f) | {"report_id": report.id, "note": report.note}
        events.append(
            s, context=context, type="facility.capacity_reported", actor=actor,
            audience=AUDIENCE, subject=("facility", f.id), payload=body,
        )
        return body


def adjust_occupancy(s: Any, f: Facility, *, bed: str, delta: int, actor: Actor,
                     at: datetime, note: str = "") -> dict[str, Any]:
    """Take (+1) or free (-1) beds of one kind inside the caller's transaction.

    Used when the system itself fills a room (a close contact sent to an
    isolation point): it is recorded as a capacity report like any other, so
    the history and every map stay right. Refuses to go above capacity or
    below zero; the caller should hold the facility row locked.
    """
    figures = (f.figures or {}).get(bed)
    if figures is None:
        raise ValidationFailed(str(_l("%(name)s reports no beds of this kind.", name=f.name)))
    occupied = figures.get("occupied", 0) + delta
    if occupied > figures.get("capacity", 0):
        raise Conflict(str(_l("%(name)s has no free bed of this kind.", name=f.name)))
    occupied = max(occupied, 0)
    data = CapacityReportIn(status=FacilityStatus(f.status), note=note, figures={
        BedKind(bed): Beds(capacity=figures.get("capacity", 0), occupied=occupied)})
    report = _record(s, f, data, actor, at)
    s.flush()
    body = properties(f) | {"report_id": report.id, "note": report.note}
    events.append(s, context=f.context, type="facility.capacity_reported", actor=actor,
                  audience=AUDIENCE, subject=("facility", f.id), payload=body)
    return body


def set_capabilities(*, facility_id: int, data: CapabilitiesIn, actor: Actor,
                     context: str = LIVE) -> dict[str, Any]:
    """Replace the services a facility provides and their availability now, and tell every map.

    The whole set is sent each time (a form lists every service): a service
    left out is no longer provided. One ``facility.capabilities_changed`` event
    carries the facility's new map feature, so an open recommendation reranks.
    """
    with db.unit_of_work() as s:
        ctx = _context(s, context)
        f = s.get(Facility, facility_id, with_for_update=True)
        if f is None or f.context != context:
            raise NotFound(_l("No such facility."))
        before = f.capabilities or {}
        f.capabilities, f.capabilities_at = data.stored(), ctx.clock().now()
        s.flush()
        body = properties(f) | {"note": data.note, "previous": before}
        events.append(
            s, context=context, type="facility.capabilities_changed", actor=actor,
            audience=AUDIENCE, subject=("facility", f.id), payload=body,
        )
        return body


def facilities_geojson(
    *, stale_after: timedelta, context: str = LIVE, kind: FacilityKind | None = None,
) -> dict[str, Any]:
    with db.reading() as s:
        now = _context(s, context).clock().now()
        # Plain rows, not ORM objects: the layer of 10,000 facilities is read on
        # every map load, and identity-map bookkeeping was half its cost (profiled).
        # Rows answer the same attribute names, so ``feature`` serves both.
        q = select(*Facility.__table__.c).where(Facility.context == context)
        if kind is not None:
            q = q.where(Facility.kind == kind.value)
        features = [feature(cast(Facility, f), now, stale_after)
                    for f in s.execute(q.order_by(Facility.id))]
    return {"type": "FeatureCollection", "features": features}


def bed_rows(*, kinds: tuple[str, ...], stale_after: timedelta,
             context: str = LIVE) -> list[dict[str, Any]]:
    """Facilities of ``kinds`` with their figures and shown status, for a beds summary.

    Only the columns a summary needs, not the map's features: the command room
    reads this on every load and every capacity event, and at ten times the demo's
    facilities building whole features (addresses, contacts, geometry) for rows it
    only counts was most of the panel's time (profiled).
    """
    c = Facility.__table__.c
    with db.reading() as s:
        now = _context(s, context).clock().now()
        q = (select(c.id, c.name, c.name_en, c.kind, c.status, c.figures, c.last_report_at)
             .where(c.context == context, c.kind.in_(kinds)).order_by(c.id))
        return [{"id": f.id, "name": f.name, "name_en": f.name_en, "kind": f.kind,
                 "status": f.status,
                 "shown_status": shown_status(f, now, stale_after),  # type: ignore[arg-type]
                 "figures": f.figures or {},
                 "last_report_at": f.last_report_at.isoformat() if f.last_report_at else None}
                for f in s.execute(q)]


def get_facility(*, facility_id: int, stale_after: timedelta, context: str = LIVE,
                 history: int = 20) -> dict[str, Any]:
    """One facility with its newest reports, newest first."""
    with db.reading() as s:
        now = _context(s, context).clock().now()
        f = s.get(Facility, facility_id)
        if f is None or f.context != context:
            raise NotFound(_l("No such facility."))
        reports = s.scalars(
            select(CapacityReport).where(CapacityReport.facility_id == f.id)
            .order_by(CapacityReport.reported_at.desc(), CapacityReport.id.desc())
            .limit(history)
        )
        body = properties(f) | {"shown_status": shown_status(f, now, stale_after)}
        body["history"] = [
            {"id": r.id, "status": r.status, "reported": r.reported, "figures": r.figures,
             "note": r.note, "reporter": r.reporter_name, "at": r.reported_at.isoformat()}
            for r in reports
        ]
        return body


def list_facilities(*, context: str = LIVE, kind: FacilityKind | None = None) -> list[Facility]:
    with db.reading() as s:
        q = select(Facility).where(Facility.context == context)
        if kind is not None:
            q = q.where(Facility.kind == kind.value)
        return list(s.scalars(q.order_by(Facility.kind, Facility.name)))


def upsert_facilities(
    *, items: list[NewFacility], actor: Actor, region: BBox | None, context: str = LIVE,
    source: str = "",
) -> dict[str, int]:
    """Insert or update facilities by code (a GIS layer import), all or nothing, one event.

    An update changes what a layer describes (name, kind, position, area, address,
    contacts) and never the reported figures: capacity and status belong to the
    facility's own reports, so an ``initial`` report is recorded only for a new
    facility. The ``facilities.loaded`` event makes every open map reload the layer.
    """
    with db.unit_of_work() as s:
        ctx = _context(s, context)
        now = ctx.clock().now()
        areas = set(s.scalars(select(AdminArea.code)))
        for n, item in enumerate(items, start=1):
            where = f"#{n} {item.code}"
            check_position(item.lon, item.lat, region, where=where)
            if item.area is not None and item.area not in areas:
                raise ValidationFailed(f"{where}: " + str(_l("Unknown area %(code)s.",
                                                              code=item.area)))
        existing = {f.code: f for f in s.scalars(select(Facility).where(
            Facility.context == context, Facility.code.in_([i.code for i in items])))}
        created: list[tuple[Facility, NewFacility]] = []
        plain: list[dict[str, Any]] = []  # new and without a first report: one bulk INSERT
        for n, item in enumerate(items, start=1):
            f = existing.get(item.code)
            if f is not None and f.kind != item.kind.value:
                raise Conflict(f"#{n} {item.code}: " + str(_l(
                    "The id %(code)s is already used by a facility of kind %(kind)s.",
                    code=item.code, kind=f.kind)))
            if f is None and item.initial is None:
                plain.append({
                    "context": context, "code": item.code, "status": "open", "figures": {},
                    "capabilities": item.capabilities.stored() if item.capabilities else {},
                    "capabilities_at": now if item.capabilities else None,
                    "created_at": now, "name": item.name, "name_en": item.name_en,
                    "kind": item.kind.value,
                    "area_code": item.area, "lon": item.lon, "lat": item.lat,
                    "address": item.address, "contact_name": item.contact_name,
                    "contact_phone": item.contact_phone})
                continue
            if f is None:
                f = Facility(context=context, code=item.code, status="open", figures={},
                             created_at=now)
                s.add(f)
                created.append((f, item))
            f.name, f.name_en = item.name, item.name_en
            f.kind, f.area_code = item.kind.value, item.area
            f.lon, f.lat, f.address = item.lon, item.lat, item.address
            f.contact_name, f.contact_phone = item.contact_name, item.contact_phone
            if item.capabilities is not None:
                f.capabilities, f.capabilities_at = item.capabilities.stored(), now
        if plain:
            s.execute(insert(Facility), plain)
        s.flush()
        for f, item in created:
            if item.initial is not None:
                _record(s, f, item.initial, actor, now)
        counts = {"created": len(created) + len(plain),
                  "updated": len(items) - len(created) - len(plain)}
        if items:
            events.append(
                s, context=context, type="facilities.loaded", actor=actor, audience=AUDIENCE,
                payload={"count": len(items), **counts, "source": source},
            )
        return counts
