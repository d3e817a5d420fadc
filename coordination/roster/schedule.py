"""Who is on duty: rotations and overrides turned into duty segments (no I/O).

Rotations are defined in wall-clock time of their zone (Asia/Shanghai by
default): a daily rotation handing over at 08:00 hands over at 08:00 local on
every calendar day, also across a DST switch in zones that have one, so shift
starts are computed per calendar day with zoneinfo, never by adding 24 hours
to a UTC instant. Custom rotations are a fixed number of hours long.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_DAYS = {"daily": 1, "weekly": 7}
EPS = timedelta(microseconds=1)


@dataclass(frozen=True)
class RotationSpec:
    id: int
    agency_id: int
    layer: str
    role: str
    kind: str
    handover: str
    shift_hours: int
    timezone: str
    start_date: date
    end_date: date | None
    officer_ids: tuple[int, ...]


@dataclass(frozen=True)
class OverrideSpec:
    id: int
    kind: str
    officer_id: int
    cover_officer_id: int | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Segment:
    """A stretch of duty: ``officer_id`` None means the slot is empty (a leave without cover)."""

    rotation_id: int
    layer: str
    role: str
    officer_id: int | None
    start: datetime
    end: datetime
    override_id: int | None = None


def _handover(spec: RotationSpec) -> time:
    hh, mm = spec.handover.split(":")
    return time(int(hh), int(mm))


def shift_start(spec: RotationSpec, n: int) -> datetime:
    """Start (UTC) of shift number ``n`` (0 is the first) of a rotation."""
    tz = ZoneInfo(spec.timezone)
    if spec.kind in PERIOD_DAYS:
        day = spec.start_date + timedelta(days=n * PERIOD_DAYS[spec.kind])
        return datetime.combine(day, _handover(spec), tzinfo=tz).astimezone(UTC)
    first = datetime.combine(spec.start_date, _handover(spec), tzinfo=tz).astimezone(UTC)
    return first + timedelta(hours=n * spec.shift_hours)


def rotation_end(spec: RotationSpec) -> datetime | None:
    if spec.end_date is None:
        return None
    tz = ZoneInfo(spec.timezone)
    return datetime.combine(spec.end_date, _handover(spec), tzinfo=tz).astimezone(UTC)


def shift_index(spec: RotationSpec, at: datetime) -> int:
    """The number of the shift running at ``at`` (negative before the rotation starts)."""
    first = shift_start(spec, 0)
    if spec.kind in PERIOD_DAYS:
        approx = int((at - first).total_seconds() // (PERIOD_DAYS[spec.kind] * 86400))
    else:
        approx = int((at - first).total_seconds() // (spec.shift_hours * 3600))
    n = approx
    while shift_start(spec, n) > at:
        n -= 1
    while shift_start(spec, n + 1) <= at:
        n += 1
    return n


def shifts(spec: RotationSpec, start: datetime, end: datetime) -> Iterator[Segment]:
    """The rotation's own shifts overlapping [start, end), clipped to its validity."""
    if not spec.officer_ids:
        return
    stop = rotation_end(spec)
    n = max(shift_index(spec, start), 0)
    while True:
        s, e = shift_start(spec, n), shift_start(spec, n + 1)
        if stop is not None:
            e = min(e, stop)
        if s >= end or (stop is not None and s >= stop):
            return
        if e > start:
            yield Segment(spec.id, spec.layer, spec.role,
                          spec.officer_ids[n % len(spec.officer_ids)], s, e)
        n += 1


def _apply_overrides(seg: Segment, overrides: Sequence[OverrideSpec]) -> list[Segment]:
    mine = sorted(
        (o for o in overrides
         if o.officer_id == seg.officer_id and o.starts_at < seg.end and o.ends_at > seg.start),
        key=lambda o: o.starts_at,
    )
    out: list[Segment] = []
    cursor = seg.start
    for o in mine:
        s, e = max(o.starts_at, cursor), min(o.ends_at, seg.end)
        if s >= e:
            continue
        if s > cursor:
            out.append(Segment(seg.rotation_id, seg.layer, seg.role, seg.officer_id, cursor, s))
        out.append(Segment(seg.rotation_id, seg.layer, seg.role, o.cover_officer_id, s, e, o.id))
        cursor = e
    if cursor < seg.end:
        out.append(Segment(seg.rotation_id, seg.layer, seg.role, seg.officer_id, cursor, seg.end))
    return out


def segments(
    rotations: Iterable[RotationSpec], overrides: Sequence[OverrideSpec],
    start: datetime, end: datetime,
) -> list[Segment]:
    """Every duty segment in [start, end) after overrides, ordered by start."""
    out: list[Segment] = []
    for spec in rotations:
        for seg in shifts(spec, start, end):
            out.extend(_apply_overrides(seg, overrides))
    return sorted((s for s in out if s.end > start and s.start < end),
                  key=lambda s: (s.start, s.rotation_id))


def at_time(
    rotations: Iterable[RotationSpec], overrides: Sequence[OverrideSpec], at: datetime,
) -> list[Segment]:
    return [s for s in segments(rotations, overrides, at, at + EPS) if s.officer_id is not None]


def gaps(
    rotations: Iterable[RotationSpec], overrides: Sequence[OverrideSpec],
    start: datetime, end: datetime, *, minimum: timedelta = timedelta(minutes=1),
) -> list[tuple[datetime, datetime]]:
    """Stretches of [start, end) that no officer covers (at least ``minimum`` long)."""
    covered = sorted(
        (s.start, s.end) for s in segments(rotations, overrides, start, end)
        if s.officer_id is not None
    )
    out: list[tuple[datetime, datetime]] = []
    cursor = start
    for s, e in covered:
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        out.append((cursor, end))
    return [(s, e) for s, e in out if e - s >= minimum]


def same_officer_overlaps(
    a: Sequence[Segment], b: Sequence[Segment],
) -> list[tuple[int, datetime, datetime]]:
    """Where one officer holds a segment of ``a`` and one of ``b`` at the same time."""
    found = []
    for x in a:
        for y in b:
            if (x.officer_id is not None and x.officer_id == y.officer_id
                    and x.start < y.end and y.start < x.end):
                found.append((x.officer_id, max(x.start, y.start), min(x.end, y.end)))
    return found
