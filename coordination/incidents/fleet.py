"""The units a recommendation can send, read once per process and caught up from the log.

``candidate_units`` reads the table (the baseline, and after a bulk load);
``FLEET`` keeps every unit of a context as arrays and applies only the unit events
since its last read, so a recommendation does not reread thousands of unit rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..events import Event
from ..units.models import Unit, UnitStatus


@dataclass
class Candidates:
    ids: np.ndarray
    call_signs: np.ndarray  # of str (object)
    lonlat: np.ndarray
    negative_pressure: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def candidate_units(s: Session, *, context: str, negative_pressure: bool) -> Candidates:
    """Available units with a position (negative-pressure only, when required)."""
    q = select(Unit.id, Unit.call_sign, Unit.lon, Unit.lat, Unit.negative_pressure).where(
        Unit.context == context, Unit.status == UnitStatus.AVAILABLE.value,
        Unit.lon.is_not(None), Unit.lat.is_not(None))
    if negative_pressure:
        q = q.where(Unit.negative_pressure.is_(True))
    rows = s.execute(q).all()
    if not rows:
        return Candidates(np.empty(0, dtype=np.int64), np.empty(0, dtype=object),
                          np.empty((0, 2)), np.empty(0, bool))
    ids, signs, lons, lats, nps = zip(*rows, strict=True)
    return Candidates(np.asarray(ids, dtype=np.int64), np.asarray(signs, dtype=object),
                      np.column_stack([np.asarray(lons, dtype=np.float64),
                                       np.asarray(lats, dtype=np.float64)]),
                      np.asarray(nps, dtype=bool))


# Event types that change what candidate_units would read.
UNIT_EVENTS = ("unit.moved", "unit.status_changed", "units.loaded")
MAX_DELTA_EVENTS = 500


@dataclass
class _Fleet:
    """Every unit of a context as arrays, current as of event ``seq``."""

    seq: int
    ids: np.ndarray
    call_signs: np.ndarray      # of str (object)
    lonlat: np.ndarray          # nan where a unit has no position
    negative_pressure: np.ndarray
    available: np.ndarray
    index: dict[int, int]


class FleetCache:
    """Unit positions and statuses kept in memory per process, caught up from the log.

    Reading 5,000 unit rows for every recommendation costs tens of
    milliseconds; the event log already says what changed since the last read
    (``unit.moved``, ``unit.status_changed``, ``units.loaded``), so each call
    reads the context's head sequence number and, when it moved, only the
    unit events after the cached one. Every change of a unit appends one of
    those events in its own transaction, so the cache can never miss one; too
    many, or a bulk load, and it simply reads the table again.
    """

    def __init__(self) -> None:
        self._fleets: dict[tuple[str, str], _Fleet] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._fleets.clear()

    def _load(self, s: Session, context: str, seq: int) -> _Fleet:
        rows = s.execute(select(Unit.id, Unit.call_sign, Unit.lon, Unit.lat,
                                Unit.negative_pressure, Unit.status)
                         .where(Unit.context == context).order_by(Unit.id)).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        lonlat = np.array([(np.nan if r[2] is None else r[2], np.nan if r[3] is None else r[3])
                           for r in rows], dtype=np.float64).reshape(-1, 2)
        return _Fleet(seq=seq, ids=ids, call_signs=np.array([r[1] for r in rows], dtype=object),
                      lonlat=lonlat,
                      negative_pressure=np.array([bool(r[4]) for r in rows], dtype=bool),
                      available=np.array([r[5] == UnitStatus.AVAILABLE.value for r in rows],
                                         dtype=bool),
                      index={int(u): n for n, u in enumerate(ids)})

    def fleet(self, s: Session, context: str) -> _Fleet:
        # Keyed by database too: tests (and tools) open several in one process.
        key = (s.get_bind().engine.url.render_as_string(hide_password=True), context)
        head = events.head(s, context)
        with self._lock:
            fleet = self._fleets.get(key)
        if fleet is not None and fleet.seq == head:
            return fleet
        updated = None
        if fleet is not None and fleet.seq < head:
            rows = list(s.execute(
                select(Event.type, Event.payload).where(
                    Event.context == context, Event.seq > fleet.seq, Event.seq <= head,
                    Event.type.in_(UNIT_EVENTS)).order_by(Event.seq)
                .limit(MAX_DELTA_EVENTS + 1)))
            if len(rows) <= MAX_DELTA_EVENTS:
                updated = self._apply(fleet, rows, head)
        if updated is None:
            updated = self._load(s, context, head)
        with self._lock:
            self._fleets[key] = updated
        return updated

    @staticmethod
    def _apply(fleet: _Fleet, rows: list[Any], head: int) -> _Fleet | None:
        """A new fleet with the events applied; None means "read the table again"."""
        lonlat, avail, nps = (fleet.lonlat.copy(), fleet.available.copy(),
                              fleet.negative_pressure.copy())
        for type_, payload in rows:
            if type_ == "units.loaded":
                return None
            if type_ == "unit.moved":
                for p in payload.get("positions", []):
                    n = fleet.index.get(int(p["id"]))
                    if n is None:
                        return None
                    lonlat[n] = (p["lon"], p["lat"])
            else:
                n = fleet.index.get(int(payload["id"]))
                if n is None:
                    return None
                avail[n] = payload["status"] == UnitStatus.AVAILABLE.value
                nps[n] = bool(payload.get("negative_pressure"))
                if payload.get("lon") is not None and payload.get("lat") is not None:
                    lonlat[n] = (payload["lon"], payload["lat"])
        return _Fleet(seq=head, ids=fleet.ids, call_signs=fleet.call_signs, lonlat=lonlat,
                      negative_pressure=nps, available=avail, index=fleet.index)

    def candidates(self, s: Session, *, context: str, negative_pressure: bool) -> Candidates:
        fleet = self.fleet(s, context)
        mask = fleet.available & ~np.isnan(fleet.lonlat[:, 0])
        if negative_pressure:
            mask &= fleet.negative_pressure
        picked = np.flatnonzero(mask)
        return Candidates(fleet.ids[picked], fleet.call_signs[picked],
                          fleet.lonlat[picked], fleet.negative_pressure[picked])


FLEET = FleetCache()
