"""Event venues in operation: which events are on, where their venues and posts are,
and which venue an incident belongs to.

The event files (plans/events/*.yaml, see cover.py) say where and when; this
module answers the command room's questions during the event. An event is "in
progress" on every local day from its first session or standby period to its
last (local to the offset the file's times carry, e.g. +08:00): a call at
08:00 before a 09:00 session at the venue is still the event's call. An
incident inside a venue's outline, or within the event's ``venue_buffer_m`` of
it, carries the event and the venue (the nearest when several qualify).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from flask_babel import lazy_gettext as _l
from shapely.geometry import Point, Polygon, mapping
from shapely.geometry.polygon import orient

from ..contexts import LIVE, context_row
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..geo.crs import to_utm
from ..i18n import pick
from ..plans.loader import plan_files
from ..plans.registry import plans_dir
from .cover import EventCover, events_dir, load_events


@dataclass(frozen=True)
class VenueHit:
    event: str
    venue: str
    distance_m: float


# Parsed event files by folder, kept while no file changes (name, mtime, size): every
# incident logged asks where it is, and parsing the YAML each time costs ~50 ms.
_CACHE: dict[Path, tuple[tuple[tuple[str, int, int], ...], dict[str, EventCover]]] = {}
_LOCK = threading.Lock()


def _events(directory: Path | None) -> dict[str, EventCover]:
    folder = (directory or events_dir(plans_dir())).resolve()
    files = plan_files([folder]) if folder.is_dir() else []
    key = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    with _LOCK:
        hit = _CACHE.get(folder)
        if hit is not None and hit[0] == key:
            return hit[1]
    valid, _invalid = load_events(folder)
    parsed = {eid: r.plan for eid, r in valid.items()}
    with _LOCK:
        _CACHE[folder] = (key, parsed)
    return parsed


def event_tz(ev: EventCover) -> tzinfo:
    """The zone the event's own times are written in (its first session's offset)."""
    first = min(ev.sessions, key=lambda s: s.start)
    return first.start.tzinfo or datetime.now().astimezone().tzinfo  # type: ignore[return-value]


def event_days(ev: EventCover) -> tuple[date, date]:
    """First and last local day of the event (sessions and standby periods)."""
    tz = event_tz(ev)
    starts = [s.start for s in ev.sessions] + [a.start for a in ev.standby]
    ends = [s.end for s in ev.sessions] + [a.end for a in ev.standby]
    return min(starts).astimezone(tz).date(), max(ends).astimezone(tz).date()


def in_progress(ev: EventCover, at: datetime) -> bool:
    first, last = event_days(ev)
    return first <= at.astimezone(event_tz(ev)).date() <= last


def day_bounds(ev: EventCover, day: date) -> tuple[datetime, datetime]:
    """The event's local day as an aware [start, end) pair."""
    start = datetime(day.year, day.month, day.day, tzinfo=event_tz(ev))
    return start, start + timedelta(days=1)


def locate(lon: float, lat: float, at: datetime, *,
           directory: Path | None = None) -> VenueHit | None:
    """The venue (of an event in progress at ``at``) this position is at, or None."""
    best: VenueHit | None = None
    for eid, ev in sorted(_events(directory).items()):
        if not in_progress(ev, at):
            continue
        tr = to_utm(lon, lat)

        def to_m(xy: np.ndarray, tr: Any = tr) -> np.ndarray:
            return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

        here = shapely.transform(Point(lon, lat), to_m)
        for v in ev.venues:
            d = float(shapely.transform(Polygon(v.polygon), to_m).distance(here))
            if d <= ev.venue_buffer_m and (best is None or d < best.distance_m):
                best = VenueHit(event=eid, venue=v.id, distance_m=round(d, 1))
    return best


def check_refs(event_ref: str | None, venue_ref: str | None, *,
               directory: Path | None = None) -> None:
    """An explicitly given event/venue must exist (and the venue belong to the event)."""
    if event_ref is None:
        if venue_ref is not None:
            raise ValidationFailed(_l("A venue needs its event."))
        return
    ev = _events(directory).get(event_ref)
    if ev is None:
        raise ValidationFailed(_l("No such event: %(event)s.", event=event_ref))
    if venue_ref is not None and venue_ref not in {v.id for v in ev.venues}:
        raise ValidationFailed(_l("The event %(event)s has no venue %(venue)s.",
                                  event=event_ref, venue=venue_ref))


def _features(ev: EventCover) -> list[dict[str, Any]]:
    """Venue outlines, medical posts and standby positions as RFC 7946 features."""
    title = ev.title.model_dump()
    out: list[dict[str, Any]] = []
    for v in ev.venues:
        # RFC 7946 3.1.6: exterior rings counter-clockwise, first point repeated last.
        ring = orient(Polygon(v.polygon), sign=1.0)
        out.append({"type": "Feature", "id": f"{ev.id}/venue/{v.id}",
                    "geometry": mapping(ring),
                    "properties": {"kind": "venue", "event": ev.id, "event_title": title,
                                   "venue": v.id, "name": v.name.model_dump(),
                                   "sessions": [{"id": s.id, "title": s.title.model_dump(),
                                                 "start": s.start.isoformat(),
                                                 "end": s.end.isoformat()}
                                                for s in sorted(ev.sessions,
                                                                key=lambda s: s.start)
                                                if s.venue == v.id]}})
        if v.medical_post:
            p = v.medical_post
            out.append({"type": "Feature", "id": f"{ev.id}/post/{v.id}",
                        "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                        "properties": {"kind": "medical_post", "event": ev.id,
                                       "event_title": title, "venue": v.id,
                                       "name": p.name.model_dump(), "doctors": p.doctors,
                                       "nurses": p.nurses}})
    for a in ev.standby:
        out.append({"type": "Feature", "id": f"{ev.id}/standby/{a.id}",
                    "geometry": {"type": "Point", "coordinates": [a.lon, a.lat]},
                    "properties": {"kind": "standby", "event": ev.id, "event_title": title,
                                   "standby": a.id, "name": a.name.model_dump(),
                                   "crew": a.crew, "start": a.start.isoformat(),
                                   "end": a.end.isoformat()}})
    return out


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def event_geojson(event_id: str, *, directory: Path | None = None) -> dict[str, Any]:
    """One event's venues, posts and standby positions, whatever the date."""
    ev = _events(directory).get(event_id)
    if ev is None:
        raise NotFound(_l("No such event: %(event)s.", event=event_id))
    return _collection(_features(ev))


def venues_geojson(*, at: datetime, all_events: bool = False,
                   directory: Path | None = None) -> dict[str, Any]:
    """The live map's layer: every event in progress at ``at`` (or every event)."""
    features: list[dict[str, Any]] = []
    for _eid, ev in sorted(_events(directory).items()):
        if all_events or in_progress(ev, at):
            features.extend(_features(ev))
    return _collection(features)


def live_layer(*, context: str = LIVE, all_events: bool = False,
               directory: Path | None = None) -> dict[str, Any]:
    """``venues_geojson`` at the context's now (a drill sees its own event day)."""
    with db.reading() as s:
        ctx = context_row(s, context)
        now = ctx.clock().now()
    return venues_geojson(at=now, all_events=all_events, directory=directory)


def tag_labels(*, directory: Path | None = None) -> dict[str, str]:
    """Words for an incident's event tag, keyed ``event/venue`` (and ``event/`` for an
    event without a venue), in the reader's language: "event · venue"."""
    out: dict[str, str] = {}
    for eid, ev in _events(directory).items():
        title = pick(ev.title.model_dump())
        out[f"{eid}/"] = title
        for v in ev.venues:
            out[f"{eid}/{v.id}"] = f"{title} · {pick(v.name.model_dump())}"
    return out
