"""Which unit to send and where to take the patient: ranked by estimated arrival.

Only available units are candidates, only negative-pressure ones where the
disease needs them; units decontaminating or out of service are not
available, so they never appear. The estimate is the great-circle distance
times a detour factor over a mean speed (both configurable), computed for all
candidates at once with numpy: 5,000 units cost well under a millisecond, so
the board can ask on every change. When a road network is loaded (the
``routing`` module of coordination.geo) its driving time replaces the
estimate; units the network cannot place fall back to the straight line.
A network that fails to load or to route is logged and the answer says so
(``notice``: "ETA by straight line: road network unavailable"), so a routing
bug never looks like a slow ambulance.

The destination is the nearest designated hospital or fever clinic that is
open and reports a free bed of the kind the disease needs.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events, runtime
from ..contexts import LIVE
from ..events import Event
from ..extensions import db
from ..facilities.capabilities import Condition, condition_for
from ..facilities.models import BedKind, Facility, FacilityKind, FacilityStatus
from ..geo.distance import EARTH_RADIUS_M, haversine_m
from ..units.models import Unit, UnitStatus
from . import diseases
from .care import care_destinations
from .common import context_row, incident_row
from .settings import needs_negative_pressure

log = logging.getLogger(__name__)
DEFAULT_DETOUR = 1.35
DEFAULT_SPEED_KMH = 60.0
DESTINATION_KINDS = [FacilityKind.DESIGNATED_HOSPITAL, FacilityKind.FEVER_CLINIC]
# Injuries and poisonings go to hospitals and township health centres with general beds.
GENERAL_KINDS = [FacilityKind.DESIGNATED_HOSPITAL, FacilityKind.TOWNSHIP_HEALTH_CENTRE]


@dataclass(frozen=True)
class EtaModel:
    detour: float = DEFAULT_DETOUR
    speed_kmh: float = DEFAULT_SPEED_KMH

    @classmethod
    def configured(cls) -> EtaModel:
        settings = runtime.settings()
        if settings is None:
            return cls()
        return cls(detour=settings.eta_detour_factor, speed_kmh=settings.eta_speed_kmh)


def straight_eta(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray,
                 model: EtaModel) -> np.ndarray:
    """Seconds: distance x detour / speed."""
    return haversine_m(lon, lat, lons, lats) * model.detour / (model.speed_kmh / 3.6)


def top_k(eta: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest etas, smallest first (argpartition, then sort k)."""
    n = len(eta)
    if n == 0 or k <= 0:
        return np.empty(0, dtype=np.int64)
    if k < n:
        part = np.argpartition(eta, k - 1)[:k]
    else:
        part = np.arange(n)
    return part[np.argsort(eta[part], kind="stable")]


def naive_rank(lon: float, lat: float, candidates: Iterable[tuple[int, float, float]],
               model: EtaModel, k: int) -> list[tuple[int, float]]:
    """The same ranking with a plain Python loop: the benchmark's baseline."""
    out = []
    rlon, rlat = math.radians(lon), math.radians(lat)
    for uid, ulon, ulat in candidates:
        p2, l2 = math.radians(ulat), math.radians(ulon)
        a = (math.sin((p2 - rlat) / 2) ** 2
             + math.cos(rlat) * math.cos(p2) * math.sin((l2 - rlon) / 2) ** 2)
        d = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))
        out.append((uid, d * model.detour / (model.speed_kmh / 3.6)))
    out.sort(key=lambda t: t[1])
    return out[:k]


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


ROAD_UNAVAILABLE = _l("ETA by straight line: road network unavailable")


def road_network(context: str) -> Any:
    """The imported road network of the context (None when none was imported).

    A failure to load one is not hidden here: ``recommend`` logs it and says so.
    """
    from ..geo import roads

    return roads.current_network(context=context)


def _rank_safely(lon: float, lat: float, cands: Candidates, *, model: EtaModel, limit: int,
                 context: str, network: Any, use_network: bool,
                 ) -> tuple[list[dict[str, Any]], str, str | None]:
    """``rank_units`` on the road network; on any failure of it, logged, the straight line
    and a notice the board shows beside the figures."""
    try:
        if network is None and use_network:
            network = road_network(context)
        ranked, method = rank_units(lon, lat, cands, model=model, limit=limit, network=network)
        return ranked, method, None
    except Exception:  # noqa: BLE001 - logged with its traceback and shown, never silent
        log.exception("road network of %s unavailable; ETAs by straight line", context)
    ranked, method = rank_units(lon, lat, cands, model=model, limit=limit, network=None)
    return ranked, method, str(ROAD_UNAVAILABLE)


def rank_units(lon: float, lat: float, cands: Candidates, *, model: EtaModel, limit: int,
               network: Any = None) -> tuple[list[dict[str, Any]], str]:
    """The best ``limit`` candidates by ETA, and which method produced the figures."""
    if not len(cands):
        return [], "straight"
    dist = haversine_m(lon, lat, cands.lonlat[:, 0], cands.lonlat[:, 1])
    eta = dist * (model.detour / (model.speed_kmh / 3.6))
    method = "straight"
    via_road = np.zeros(len(cands), dtype=bool)
    if network is not None:
        road = np.asarray(network.eta_seconds(cands.lonlat, (lon, lat)), dtype=np.float64)
        usable = ~np.isnan(road)
        if usable.any():
            eta = np.where(usable, road, eta)
            via_road = usable
            method = "network"
    out = []
    for idx in top_k(eta, limit):
        if not np.isfinite(eta[idx]):
            continue  # no road leads there
        out.append({
            "unit_id": int(cands.ids[idx]), "call_sign": str(cands.call_signs[idx]),
            "negative_pressure": bool(cands.negative_pressure[idx]),
            "lon": float(cands.lonlat[idx, 0]), "lat": float(cands.lonlat[idx, 1]),
            "distance_m": round(float(dist[idx]), 1), "eta_seconds": round(float(eta[idx]), 1),
            "via": "network" if via_road[idx] else "straight",
        })
    return out, method


def _free(figures: dict[str, Any], bed: str) -> int:
    f = (figures or {}).get(bed) or {}
    return max(int(f.get("capacity", 0)) - int(f.get("occupied", 0)), 0)


def nearest_facilities(s: Session, *, context: str, lon: float, lat: float,
                       kinds: Sequence[FacilityKind], beds: Sequence[str],
                       limit: int = 3) -> list[dict[str, Any]]:
    """Open facilities of these kinds with a free bed of one of these kinds, nearest first."""
    rows = list(s.scalars(select(Facility).where(
        Facility.context == context, Facility.kind.in_([k.value for k in kinds]),
        Facility.status == FacilityStatus.OPEN.value)))
    rows = [f for f in rows if any(_free(f.figures, b) > 0 for b in beds)]
    if not rows:
        return []
    dist = haversine_m(lon, lat, np.array([f.lon for f in rows]), np.array([f.lat for f in rows]))
    out = []
    for idx in top_k(dist, limit):
        f = rows[int(idx)]
        out.append({"id": f.id, "code": f.code, "name": f.name, "kind": f.kind,
                    "lon": f.lon, "lat": f.lat, "distance_m": round(float(dist[idx]), 1),
                    "free": {b: _free(f.figures, b) for b in beds}})
    return out


def beds_needed(disease: str | None) -> tuple[list[FacilityKind], list[str]]:
    """Which facilities and which beds a patient of this disease (or none) needs."""
    if disease is None:
        return GENERAL_KINDS, [BedKind.GENERAL_BED.value, BedKind.ICU_BED.value]
    found = diseases.get(disease)
    if needs_negative_pressure(disease):
        return DESTINATION_KINDS, [BedKind.NEGATIVE_PRESSURE_ROOM.value]
    bed = found.bed.value if found else BedKind.ISOLATION_ROOM.value
    return DESTINATION_KINDS, [bed]


def network_or_none(context: str, network: Any, use_network: bool) -> tuple[Any, str | None]:
    """The road network for the care ranking; a failure to load it is logged and said."""
    if network is not None or not use_network:
        return network, None
    try:
        return road_network(context), None
    except Exception:  # noqa: BLE001 - logged with its traceback and shown, never silent
        log.exception("road network of %s unavailable; care ETAs by straight line", context)
        return None, str(ROAD_UNAVAILABLE)


def care_choices(s: Session, *, context: str, i: Any, condition: Condition, limit: int,
                 model: EtaModel, network: Any, use_network: bool,
                 explicit: bool) -> dict[str, Any]:
    """Capable centres for the incident's patient by road ETA (``care.care_destinations``).

    ``fallback`` is true when the condition only came from the incident's type
    and no hospital of the context records the service at all (capabilities
    never loaded): the caller then offers the nearest free beds as before, and
    the notice says so, rather than an empty list. A condition the dispatcher
    picked is never overridden.
    """
    net, notice = network_or_none(context, network, use_network)
    care = care_destinations(
        s, context=context, lon=i.lon, lat=i.lat, condition=condition, network=net,
        straight=lambda lon, lat, lons, lats: straight_eta(lon, lat, lons, lats, model),
        limit=limit)
    care["notice"] = care["notice"] or notice
    care["fallback"] = bool(care["unrecorded"] and not explicit)
    if care["fallback"]:
        care["notice"] = str(_l("No hospital here records a %(service)s; the nearest with a "
                                "free bed are shown.", service=care["capability_label"]))
    return care


def recommend(*, context: str = LIVE, incident_id: int, limit: int = 5,
              model: EtaModel | None = None, network: Any = None,
              use_network: bool = True, condition: str | None = None) -> dict[str, Any]:
    """Units ranked by ETA and destinations, for one incident.

    Without a condition the destinations are the nearest with a free bed of the
    kind the disease needs; with one (``condition``, else the incident's pick,
    else what its type implies) they are the capable centres by road ETA, with
    the nearer hospitals that were skipped and why (``care``).
    """
    model = model or EtaModel.configured()
    with db.reading() as s:
        context_row(s, context)
        i = incident_row(s, incident_id, context)
        required = needs_negative_pressure(i.disease)
        cands = FLEET.candidates(s, context=context, negative_pressure=required)
        kinds, beds = beds_needed(i.disease)
        picked = condition_for(i.type, condition or i.condition)
        care = None
        if picked is not None:
            care = care_choices(s, context=context, i=i, condition=picked, limit=3,
                                model=model, network=network, use_network=use_network,
                                explicit=bool(condition or i.condition))
        if care is not None and not care["fallback"]:
            destinations = care["destinations"]
        else:
            destinations = nearest_facilities(s, context=context, lon=i.lon, lat=i.lat,
                                              kinds=kinds, beds=beds, limit=3)
    ranked, method, notice = _rank_safely(i.lon, i.lat, cands, model=model, limit=limit,
                                          context=context, network=network,
                                          use_network=use_network)
    return {
        "condition": picked.value if picked else None,
        "care": care,
        "incident_id": i.id,
        "negative_pressure_required": required,
        "candidates": len(cands),
        "method": method,
        "notice": notice,
        "model": {"detour": model.detour, "speed_kmh": model.speed_kmh},
        "units": ranked,
        "beds": beds,
        "destinations": destinations,
    }
