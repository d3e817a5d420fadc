"""Major-event medical cover (重大活动医疗保障): the event file and its coverage check.

An event (``plans/events/<id>.yaml``, reviewed like the plans) has venues as
polygons, a schedule of sessions, a medical post per venue, standby ambulance
positions with the hours they are held, and shifts with their staffing. The
check answers the planner's question: during every session, is its venue
within the target response time (e.g. 4 min) of a standby ambulance? Travel
time is the straight-line distance from the ambulance to the venue's edge,
computed in the data's UTM zone (metres), times a detour factor, at an
average speed; an ambulance counts for a session only if it is held for the
whole session.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import shapely
from flask_babel import lazy_gettext as _l
from pydantic import Field, field_validator
from shapely.geometry import Point, Polygon

from ..errors import NotFound
from ..geo.crs import to_utm
from ..plans.loader import LoadResult, Path_, load_file, plan_files
from ..plans.registry import plans_dir
from ..plans.schema import SLUG, Strict, Text

Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]


class MedicalPost(Strict):
    name: Text
    lon: Lon
    lat: Lat
    doctors: Annotated[int, Field(ge=0, le=1000)] = 0
    nurses: Annotated[int, Field(ge=0, le=1000)] = 0


class Venue(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: Text
    polygon: list[tuple[Lon, Lat]] = Field(min_length=3)
    medical_post: MedicalPost | None = None

    @field_validator("polygon")
    @classmethod
    def _ring(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if not Polygon(value).is_valid:
            raise ValueError("the venue polygon crosses itself")
        return value


class Session(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    venue: str
    title: Text
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with its zone offset, e.g. 2026-02-17T09:00:00+08:00")
        return value


class Standby(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: Text
    lon: Lon
    lat: Lat
    start: datetime
    end: datetime
    crew: Annotated[int, Field(ge=1, le=20)] = 3


class StaffLine(Strict):
    post: str
    role: Annotated[str, Field(min_length=1, max_length=40)]
    count: Annotated[int, Field(ge=1, le=1000)]


class Shift(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    start: datetime
    end: datetime
    staff: list[StaffLine] = Field(min_length=1)


class EventCover(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    title: Text
    kind: Annotated[str, Field(min_length=1, max_length=40)]
    plan: Annotated[str, Field(pattern=SLUG)]
    target_minutes: Annotated[float, Field(gt=0, le=120)] = 4
    speed_kmh: Annotated[float, Field(gt=0, le=200)] = 40
    detour_factor: Annotated[float, Field(ge=1, le=5)] = 1.4
    # An incident logged this close to a venue's outline (metres) is tagged with it.
    venue_buffer_m: Annotated[float, Field(ge=0, le=5000)] = 150
    venues: list[Venue] = Field(min_length=1)
    sessions: list[Session] = Field(min_length=1)
    standby: list[Standby] = Field(default_factory=list)
    shifts: list[Shift] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


def cross_checks(ev: EventCover) -> list[tuple[Path_, str]]:
    """Sessions name existing venues, shifts name existing posts, times run forwards."""
    problems: list[tuple[Path_, str]] = []
    venues = {v.id for v in ev.venues}
    posts = venues | {s.id for s in ev.standby}
    for name, rows in (("venues", ev.venues), ("sessions", ev.sessions),
                       ("standby", ev.standby), ("shifts", ev.shifts)):
        seen: set[str] = set()
        row: Any
        for i, row in enumerate(rows):
            if row.id in seen:
                problems.append(((name, i, "id"), f"duplicate id {row.id!r}"))
            seen.add(row.id)
    for i, s in enumerate(ev.sessions):
        if s.venue not in venues:
            problems.append((("sessions", i, "venue"), f"unknown venue {s.venue!r}"))
        if s.end <= s.start:
            problems.append((("sessions", i, "end"), "the session ends before it starts"))
    for i, a in enumerate(ev.standby):
        if a.end <= a.start:
            problems.append((("standby", i, "end"), "the standby period ends before it starts"))
    for i, sh in enumerate(ev.shifts):
        if sh.end <= sh.start:
            problems.append((("shifts", i, "end"), "the shift ends before it starts"))
        for j, line in enumerate(sh.staff):
            if line.post not in posts:
                problems.append((("shifts", i, "staff", j, "post"),
                                 f"unknown venue or standby position {line.post!r}"))
    return problems


def events_dir(plans: Path) -> Path:
    return plans / "events"


def load_events(directory: Path) -> tuple[dict[str, LoadResult], list[LoadResult]]:
    valid: dict[str, LoadResult] = {}
    invalid: list[LoadResult] = []
    for path in plan_files([directory]) if directory.is_dir() else []:
        r = load_file(path, name=f"plans/events/{path.name}", model=EventCover,
                      checks=cross_checks)
        if r.ok:
            valid[r.plan.id] = r
        else:
            invalid.append(r)
    return valid, invalid


def coverage(ev: EventCover) -> dict[str, Any]:
    """Per session: the nearest standby ambulance held for the whole session, its travel
    time to the venue's edge, and whether that is within the target."""
    lons = [p[0] for v in ev.venues for p in v.polygon]
    lats = [p[1] for v in ev.venues for p in v.polygon]
    tr = to_utm(sum(lons) / len(lons), sum(lats) / len(lats))

    def to_m(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

    shapes = {v.id: shapely.transform(Polygon(v.polygon), to_m) for v in ev.venues}
    points = {a.id: shapely.transform(Point(a.lon, a.lat), to_m) for a in ev.standby}
    metres_per_min = ev.speed_kmh * 1000 / 60
    venue_names = {v.id: v.name.model_dump() for v in ev.venues}
    standby_names = {a.id: a.name.model_dump() for a in ev.standby}
    rows = []
    for s in sorted(ev.sessions, key=lambda x: (x.start, x.venue)):
        best: tuple[float, str] | None = None
        for a in ev.standby:
            if a.start <= s.start and a.end >= s.end:
                minutes = shapes[s.venue].distance(points[a.id]) * ev.detour_factor \
                    / metres_per_min
                if best is None or minutes < best[0]:
                    best = (minutes, a.id)
        rows.append({
            "session": s.id, "venue": s.venue, "title": s.title.model_dump(),
            "start": s.start.isoformat(), "end": s.end.isoformat(),
            "venue_name": venue_names[s.venue],
            "standby": best[1] if best else None,
            "standby_name": standby_names[best[1]] if best else None,
            "minutes": round(best[0], 1) if best else None,
            "ok": best is not None and best[0] <= ev.target_minutes,
        })
    return {"target_minutes": ev.target_minutes, "speed_kmh": ev.speed_kmh,
            "detour_factor": ev.detour_factor, "sessions": rows,
            "gaps": [r for r in rows if not r["ok"]]}


def staffing(ev: EventCover) -> list[dict[str, Any]]:
    """Staff per shift, by role and in total."""
    out = []
    for sh in sorted(ev.shifts, key=lambda x: x.start):
        roles: dict[str, int] = {}
        for line in sh.staff:
            roles[line.role] = roles.get(line.role, 0) + line.count
        out.append({"shift": sh.id, "start": sh.start.isoformat(), "end": sh.end.isoformat(),
                    "roles": roles, "total": sum(roles.values()),
                    "posts": sorted({line.post for line in sh.staff})})
    return out


def event_view(event_id: str, *, directory: Path | None = None) -> dict[str, Any]:
    """One event: venues and posts, standby positions, coverage per session, staffing."""
    valid, _invalid = load_events(directory or events_dir(plans_dir()))
    hit = valid.get(event_id)
    if hit is None:
        raise NotFound(_l("No such event: %(event)s.", event=event_id))
    ev: EventCover = hit.plan
    return {"id": ev.id, "version": ev.version, "title": ev.title.model_dump(),
            "kind": ev.kind, "plan": ev.plan, "file": hit.path, "file_hash": hit.file_hash,
            "venues": [{"id": v.id, "name": v.name.model_dump(),
                        "post": v.medical_post.model_dump(mode="json")
                        if v.medical_post else None} for v in ev.venues],
            "standby": [a.model_dump(mode="json") for a in ev.standby],
            "coverage": coverage(ev), "staffing": staffing(ev)}


def events_overview(*, directory: Path | None = None) -> dict[str, Any]:
    """Every event file: valid ones with their number of coverage gaps, invalid ones' errors."""
    valid, invalid = load_events(directory or events_dir(plans_dir()))
    rows = []
    for eid, r in sorted(valid.items()):
        ev: EventCover = r.plan
        cov = coverage(ev)
        rows.append({"id": eid, "title": ev.title.model_dump(), "plan": ev.plan,
                     "sessions": len(ev.sessions), "gaps": len(cov["gaps"])})
    return {"events": rows,
            "invalid": [{"file": r.path, "errors": [e.as_dict() for e in r.errors]}
                        for r in invalid]}
