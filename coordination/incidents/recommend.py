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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import runtime
from ..contexts import LIVE
from ..extensions import db
from ..facilities.capabilities import Condition, condition_for
from ..facilities.models import BedKind, Facility, FacilityKind, FacilityStatus
from ..geo.distance import EARTH_RADIUS_M, haversine_m
from . import diseases
from .care import care_destinations
from .common import context_row, incident_row
from .fleet import FLEET, Candidates
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
