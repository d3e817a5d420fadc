"""Which unit to send and where to take the patient: ranked by estimated arrival.

Only available units are candidates, only negative-pressure ones where the
disease needs them; units decontaminating or out of service are not
available, so they never appear. The estimate is the great-circle distance
times a detour factor over a mean speed (both configurable), computed for all
candidates at once with numpy: 5,000 units cost well under a millisecond, so
the board can ask on every change. When a road network is loaded (the
``routing`` module of coordination.geo) its driving time replaces the
estimate; units the network cannot place fall back to the straight line.

The destination is the nearest designated hospital or fever clinic that is
open and reports a free bed of the kind the disease needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..extensions import db
from ..facilities.models import BedKind, Facility, FacilityKind, FacilityStatus
from ..units.models import Unit, UnitStatus
from . import diseases
from .service import _context, _incident, needs_negative_pressure

EARTH_RADIUS_M = 6_371_008.8
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
        if not has_app_context():
            return cls()
        settings = current_app.config["COORDINATION"]
        return cls(detour=settings.eta_detour_factor, speed_kmh=settings.eta_speed_kmh)


def haversine_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Great-circle metres from one point to many (vectorised)."""
    lon1, lat1 = math.radians(lon), math.radians(lat)
    lon2, lat2 = np.radians(lons), np.radians(lats)
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


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
    call_signs: list[str]
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
        return Candidates(np.empty(0, dtype=np.int64), [], np.empty((0, 2)), np.empty(0, bool))
    ids, signs, lons, lats, nps = zip(*rows, strict=True)
    return Candidates(np.asarray(ids, dtype=np.int64), list(signs),
                      np.column_stack([np.asarray(lons, dtype=np.float64),
                                       np.asarray(lats, dtype=np.float64)]),
                      np.asarray(nps, dtype=bool))


def road_network(context: str) -> Any:
    """The loaded road network, if the roads module offers one (else None)."""
    try:
        from ..geo import roads  # type: ignore[attr-defined]
    except ImportError:
        return None
    getter = getattr(roads, "current_network", None) or getattr(roads, "network", None)
    if getter is None:
        return None
    try:
        return getter(context=context)
    except Exception:  # noqa: BLE001 - no usable network means straight-line ETA
        return None


def rank_units(lon: float, lat: float, cands: Candidates, *, model: EtaModel, limit: int,
               network: Any = None) -> tuple[list[dict[str, Any]], str]:
    """The best ``limit`` candidates by ETA, and which method produced the figures."""
    if not len(cands):
        return [], "straight"
    eta = straight_eta(lon, lat, cands.lonlat[:, 0], cands.lonlat[:, 1], model)
    method = "straight"
    via_road = np.zeros(len(cands), dtype=bool)
    if network is not None:
        road = np.asarray(network.eta_seconds(cands.lonlat, (lon, lat)), dtype=np.float64)
        usable = ~np.isnan(road)
        if usable.any():
            eta = np.where(usable, road, eta)
            via_road = usable
            method = "network"
    dist = haversine_m(lon, lat, cands.lonlat[:, 0], cands.lonlat[:, 1])
    out = []
    for idx in top_k(eta, limit):
        if not np.isfinite(eta[idx]):
            continue  # no road leads there
        out.append({
            "unit_id": int(cands.ids[idx]), "call_sign": cands.call_signs[idx],
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


def recommend(*, context: str = LIVE, incident_id: int, limit: int = 5,
              model: EtaModel | None = None, network: Any = None,
              use_network: bool = True) -> dict[str, Any]:
    """Units ranked by ETA and destinations ranked by distance, for one incident."""
    model = model or EtaModel.configured()
    with db.reading() as s:
        _context(s, context)
        i = _incident(s, incident_id, context)
        required = needs_negative_pressure(i.disease)
        cands = candidate_units(s, context=context, negative_pressure=required)
        kinds, beds = beds_needed(i.disease)
        destinations = nearest_facilities(s, context=context, lon=i.lon, lat=i.lat,
                                          kinds=kinds, beds=beds, limit=3)
    if network is None and use_network:
        network = road_network(context)
    ranked, method = rank_units(i.lon, i.lat, cands, model=model, limit=limit,
                                network=network)
    return {
        "incident_id": i.id,
        "negative_pressure_required": required,
        "candidates": len(cands),
        "method": method,
        "model": {"detour": model.detour, "speed_kmh": model.speed_kmh},
        "units": ranked,
        "beds": beds,
        "destinations": destinations,
    }
