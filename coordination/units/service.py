"""Units, status changes and position reports: the only place their rows change.

Position reports are the hot path (a tracker per ambulance, every few
seconds), so a batch is validated whole, written with one multi-row insert and
announced with one ``unit.moved`` event naming only the units whose current
position changed. A report older than the unit's current position is kept in
the track but moves nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, insert, or_, select, update

from .. import events
from ..contexts import LIVE
from ..contexts import context_row as _context
from ..errors import NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..facilities.models import Facility
from ..geo.region import BBox, check_position
from .models import PositionReport, Unit, UnitStatus, UnitStatusChange
from .schemas import NewUnit, PositionIn, StatusIn

AUDIENCE = ["role:operator", "role:trainer"]
# A tracker whose clock runs ahead would pin its unit forever (nothing later
# could ever be newer), so reports from further in the future are refused.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)


def unit_props(u: Unit) -> dict[str, Any]:
    return {
        "id": u.id,
        "call_sign": u.call_sign,
        "kind": u.kind,
        "crew": list(u.crew or []),
        "negative_pressure": u.negative_pressure,
        "station_id": u.station_id,
        "status": u.status,
        "status_at": u.status_at.isoformat(),
        "lon": u.lon,
        "lat": u.lat,
        "position_at": u.position_at.isoformat() if u.position_at else None,
        "speed_kmh": u.speed_kmh,
        "heading": u.heading,
    }


def unit_feature(u: Unit) -> dict[str, Any]:
    geometry = {"type": "Point", "coordinates": [u.lon, u.lat]} if u.lon is not None else None
    return {"type": "Feature", "id": u.id, "geometry": geometry, "properties": unit_props(u)}


def _unit(s: Any, unit_id: int, context: str) -> Unit:
    u = s.get(Unit, unit_id)
    if u is None or u.context != context:
        raise NotFound(_l("No such unit."))
    return u


def create_units(*, items: list[NewUnit], actor: Actor, region: BBox | None,
                 context: str = LIVE) -> int:
    """Add units (skipping call signs that exist), all or nothing, with one event.

    A unit without a position starts at its station's.
    """
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        existing = set(s.scalars(select(Unit.call_sign).where(Unit.context == context)))
        stations = {f.code: f for f in s.scalars(
            select(Facility).where(Facility.context == context))}
        created = 0
        for n, item in enumerate(items, start=1):
            where = f"#{n} {item.call_sign}"
            station = None
            if item.station is not None:
                station = stations.get(item.station)
                if station is None:
                    raise ValidationFailed(f"{where}: " + str(_l(
                        "Unknown station %(code)s.", code=item.station)))
            lon, lat = item.lon, item.lat
            if lon is None or lat is None:
                lon, lat = (station.lon, station.lat) if station else (None, None)
            if lon is not None and lat is not None:
                check_position(lon, lat, region, where=where)
            if item.call_sign in existing:
                continue
            existing.add(item.call_sign)
            u = Unit(
                context=context, call_sign=item.call_sign, crew=list(item.crew),
                negative_pressure=item.negative_pressure,
                station_id=station.id if station else None, status=item.status.value,
                status_at=now, lon=lon, lat=lat,
                position_at=(item.at or now) if lon is not None else None,
            )
            s.add(u)
            s.flush()
            s.add(UnitStatusChange(context=context, unit_id=u.id, status=u.status,
                                   previous=None, actor_name=actor.name, at=now))
            created += 1
        if created:
            events.append(s, context=context, type="units.loaded", actor=actor,
                          audience=AUDIENCE, payload={"count": created})
        return created


class _UnitRef(NamedTuple):
    """What the position path needs of a unit: no ORM object, no JSON columns."""

    id: int
    call_sign: str
    position_at: datetime | None


def _resolve(s: Any, reports: list[PositionIn], context: str) -> dict[int | str, _UnitRef]:
    """The named units, keyed by id and by call sign, locked for this transaction.

    One query, rows locked in id order (``FOR UPDATE`` on PostgreSQL; SQLite's
    single writer lock already serialises batches), so two trackers' batches
    for the same unit cannot both read the old position and race each other
    backwards in time, and cannot deadlock.
    """
    ids = {r.unit for r in reports if isinstance(r.unit, int)}
    names = {r.unit for r in reports if isinstance(r.unit, str)}
    wanted = []
    if ids:
        wanted.append(Unit.id.in_(ids))
    if names:
        wanted.append(Unit.call_sign.in_(names))
    found: dict[int | str, _UnitRef] = {}
    if not wanted:
        return found
    q = (select(Unit.id, Unit.call_sign, Unit.position_at)
         .where(Unit.context == context, or_(*wanted)).order_by(Unit.id).with_for_update())
    for row in s.execute(q):
        ref = _UnitRef(*row)
        if ref.id in ids:
            found[ref.id] = ref
        if ref.call_sign in names:
            found[ref.call_sign] = ref
    return found


_MOVE = (update(cast(Table, Unit.__table__)).where(Unit.__table__.c.id == bindparam("uid"))
         .values(lon=bindparam("lon"), lat=bindparam("lat"), position_at=bindparam("at"),
                 speed_kmh=bindparam("speed_kmh"), heading=bindparam("heading")))


def record_positions(*, reports: list[PositionIn], actor: Actor, region: BBox | None,
                     context: str = LIVE) -> dict[str, Any]:
    """Store a batch of fixes, all or nothing; move each unit to its newest fix.

    Returns how many were stored, which units moved and how many fixes arrived
    late (older than the unit's current position: kept in the track only).

    The hot path of the system (every tracker, every few seconds), so it works
    below the ORM: one locked column query for the units, one multi-row insert
    of the fixes, one executemany update of the units that moved (profiled:
    ORM objects and the unit-of-work flush were two thirds of a batch's cost).
    """
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        units = _resolve(s, reports, context)
        rows: list[dict[str, Any]] = []
        newest: dict[int, tuple[datetime, PositionIn]] = {}
        late = 0
        for n, r in enumerate(reports):
            where = f"#{n}"
            u = units.get(r.unit) if r.unit is not None else None
            if u is None:
                raise NotFound(f"{where}: " + str(_l("No such unit: %(unit)s.", unit=r.unit)))
            check_position(r.lon, r.lat, region, where=where)
            at = r.at or now
            if at > now + MAX_CLOCK_AHEAD:
                raise ValidationFailed(f"{where}: " + str(_l(
                    "The report time is in the future; check the tracker's clock.")))
            if at < now - MAX_AGE:
                raise ValidationFailed(f"{where}: " + str(_l("The report is older than 7 days.")))
            rows.append({"context": context, "unit_id": u.id, "lon": r.lon, "lat": r.lat,
                         "speed_kmh": r.speed_kmh, "heading": r.heading,
                         "reported_at": at, "received_at": now})
            if u.position_at is not None and at <= u.position_at:
                late += 1
            best = newest.get(u.id)
            if best is None or at >= best[0]:
                newest[u.id] = (at, r)
        s.execute(insert(cast(Table, PositionReport.__table__)), rows)
        by_id = {u.id: u for u in units.values()}
        moved: list[dict[str, Any]] = []
        params: list[dict[str, Any]] = []
        for unit_id, (at, r) in newest.items():
            u = by_id[unit_id]
            if u.position_at is not None and at <= u.position_at:
                continue
            params.append({"uid": unit_id, "lon": r.lon, "lat": r.lat, "at": at,
                           "speed_kmh": r.speed_kmh, "heading": r.heading})
            moved.append({"id": unit_id, "call_sign": u.call_sign, "lon": r.lon, "lat": r.lat,
                          "at": at.isoformat(), "speed_kmh": r.speed_kmh,
                          "heading": r.heading})
        if params:
            s.execute(_MOVE, params)
        if moved:
            events.append(s, context=context, type="unit.moved", actor=actor,
                          audience=AUDIENCE, payload={"count": len(moved), "positions": moved})
        return {"stored": len(rows), "moved": [m["id"] for m in moved], "late": late}


def set_status(*, unit_id: int, data: StatusIn, actor: Actor,
               context: str = LIVE) -> dict[str, Any]:
    """Change a unit's status, keep the history, tell every map. Same status: no change."""
    with db.unit_of_work() as s:
        now = _context(s, context).clock().now()
        u = _unit(s, unit_id, context)
        if u.status == data.status.value:
            return unit_props(u)
        previous, u.status, u.status_at = u.status, data.status.value, now
        s.add(UnitStatusChange(context=context, unit_id=u.id, status=u.status,
                               previous=previous, note=data.note,
                               actor_name=actor.name, at=now))
        body = unit_props(u) | {"previous": previous, "note": data.note}
        events.append(s, context=context, type="unit.status_changed", actor=actor,
                      audience=AUDIENCE, subject=("unit", u.id), payload=body)
        return body


def change_status_in(s: Any, u: Unit, status: UnitStatus, *, actor: Actor, now: datetime,
                     note: str = "", previous: str | None = None,
                     extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Change a unit's status inside the caller's transaction (dispatch, hand-over).

    For services whose change moves a unit as part of a larger one: the history
    row and the ``unit.status_changed`` event every map recolours on are the
    same as ``set_status`` writes. ``previous`` is given when the caller has
    already moved the status with a conditional UPDATE (the dispatch race).
    """
    if previous is None:
        if u.status == status.value:
            return None
        previous, u.status, u.status_at = u.status, status.value, now
    s.add(UnitStatusChange(context=u.context, unit_id=u.id, status=u.status,
                           previous=previous, note=note, actor_name=actor.name, at=now))
    body = unit_props(u) | {"previous": previous, "note": note} | (extra or {})
    events.append(s, context=u.context, type="unit.status_changed", actor=actor,
                  audience=AUDIENCE, subject=("unit", u.id), payload=body)
    return body


def units_geojson(*, context: str = LIVE) -> dict[str, Any]:
    with db.reading() as s:
        rows = s.scalars(select(Unit).where(Unit.context == context).order_by(Unit.id))
        return {"type": "FeatureCollection", "features": [unit_feature(u) for u in rows]}


def unit_detail(*, unit_id: int, minutes: int = 60, context: str = LIVE,
                history: int = 20) -> dict[str, Any]:
    """A unit with its newest status changes and its track of the last ``minutes``.

    The track is ordered by report time, so late fixes sit where they belong.
    """
    with db.reading() as s:
        now = _context(s, context).clock().now()
        u = _unit(s, unit_id, context)
        changes = s.scalars(
            select(UnitStatusChange).where(UnitStatusChange.unit_id == u.id)
            .order_by(UnitStatusChange.at.desc(), UnitStatusChange.id.desc()).limit(history))
        since = now - timedelta(minutes=minutes)
        track = s.execute(
            select(PositionReport.lon, PositionReport.lat, PositionReport.reported_at)
            .where(PositionReport.unit_id == u.id, PositionReport.reported_at >= since)
            .order_by(PositionReport.reported_at, PositionReport.id))
        station = s.get(Facility, u.station_id) if u.station_id else None
        return unit_props(u) | {
            "station": station.name if station else None,
            "status_history": [
                {"status": c.status, "previous": c.previous, "note": c.note,
                 "by": c.actor_name, "at": c.at.isoformat()} for c in changes
            ],
            "track": {
                "since": since.isoformat(),
                "points": [{"lon": lon, "lat": lat, "at": at.isoformat()}
                           for lon, lat, at in track],
            },
        }


def list_units(*, context: str = LIVE, status: UnitStatus | None = None) -> list[Unit]:
    with db.reading() as s:
        q = select(Unit).where(Unit.context == context)
        if status is not None:
            q = q.where(Unit.status == status.value)
        return list(s.scalars(q.order_by(Unit.call_sign)))
