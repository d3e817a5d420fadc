"""Where to take a patient whose condition needs a rescue centre: capable hospitals by road ETA.

A stroke patient taken to the nearest hospital loses the thrombolysis window
if that hospital has no stroke centre; the plan's answer is the rescue-centre
network (胸痛、卒中、创伤、危重孕产妇、危重新生儿救治中心). Given the scene and the
condition, every hospital's driving time *from the scene* comes from one
forward Dijkstra on the road network (``RoadNetwork.eta_from``), or the
straight-line estimate where there is no network. Hospitals that can take the
patient (service provided and available now, trauma level high enough, open,
a free bed) are ranked by that time and marked against the condition's
window; every hospital nearer than the first capable one is listed with the
reason it was skipped, so the dispatcher sees why the ambulance drives past it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..facilities.capabilities import (
    CAPABILITY_LABELS,
    CONDITION_LABELS,
    NEEDS,
    Condition,
    lacks,
)
from ..facilities.models import STATUS_LABELS, BedKind, Facility, FacilityKind, FacilityStatus
from ..geo.distance import haversine_m

log = logging.getLogger(__name__)

HOSPITAL_KINDS = (FacilityKind.DESIGNATED_HOSPITAL.value,
                  FacilityKind.TOWNSHIP_HEALTH_CENTRE.value)
CARE_BEDS = (BedKind.GENERAL_BED.value, BedKind.ICU_BED.value)
ROAD_UNAVAILABLE = _l("ETA by straight line: road network unavailable")


def _free(figures: dict[str, Any] | None, bed: str) -> int:
    f = (figures or {}).get(bed) or {}
    return max(int(f.get("capacity", 0)) - int(f.get("occupied", 0)), 0)


def _why(reason: str, f: Facility, condition: Condition) -> str:
    need = NEEDS[condition]
    service = str(CAPABILITY_LABELS[need.capability])
    state = (f.capabilities or {}).get(need.capability.value) or {}
    texts = {
        "missing": _l("no %(service)s", service=service),
        "unavailable": _l("%(service)s reported unavailable now", service=service),
        "level": _l("trauma centre level %(level)s; level %(needed)s or higher needed",
                    level=state.get("level"), needed=need.max_trauma_level),
        "status": _l("not taking patients (%(status)s)",
                     status=STATUS_LABELS.get(FacilityStatus(f.status), "")),
        "no_bed": _l("no free general or ICU bed reported"),
        "unreachable": _l("no road leads there"),
    }
    return str(texts[reason])


def _reason(f: Facility, condition: Condition) -> str | None:
    missing = lacks(f.capabilities, NEEDS[condition])
    if missing is not None:
        return missing
    if f.status != FacilityStatus.OPEN.value:
        return "status"
    if not any(_free(f.figures, b) > 0 for b in CARE_BEDS):
        return "no_bed"
    return None


def facility_etas(lon: float, lat: float, rows: list[Facility], *, network: Any,
          straight: Any) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Seconds from the scene to each facility, which were by road, and a notice on failure."""
    lonlat = np.array([(f.lon, f.lat) for f in rows], dtype=np.float64).reshape(-1, 2)
    eta = np.asarray(straight(lon, lat, lonlat[:, 0], lonlat[:, 1]), dtype=np.float64)
    via_road = np.zeros(len(rows), dtype=bool)
    if network is None:
        return eta, via_road, None
    try:
        road = np.asarray(network.eta_from((lon, lat), lonlat), dtype=np.float64)
    except Exception:  # noqa: BLE001 - logged with its traceback and shown, never silent
        log.exception("road network failed for care destinations; ETAs by straight line")
        return eta, via_road, str(ROAD_UNAVAILABLE)
    usable = ~np.isnan(road)
    return np.where(usable, road, eta), usable, None


def care_destinations(s: Session, *, context: str, lon: float, lat: float,
                      condition: Condition, network: Any, straight: Any,
                      limit: int = 5) -> dict[str, Any]:
    """Capable hospitals by ETA from the scene against the window, and the nearer ones skipped.

    ``straight(lon, lat, lons, lats)`` gives the fallback seconds (the caller's
    ETA model); ``network`` is the context's road network or None.
    """
    need = NEEDS[condition]
    rows = list(s.scalars(select(Facility).where(
        Facility.context == context, Facility.kind.in_(HOSPITAL_KINDS)).order_by(Facility.id)))
    window_s = need.window_minutes * 60
    out: dict[str, Any] = {
        "condition": condition.value, "condition_label": str(CONDITION_LABELS[condition]),
        "capability": need.capability.value,
        "capability_label": str(CAPABILITY_LABELS[need.capability]),
        "window_minutes": need.window_minutes, "window_label": str(need.window_label),
        "method": "straight", "notice": None, "destinations": [], "skipped": [],
        # No hospital of the context records this service at all (capabilities never loaded).
        "unrecorded": not any(need.capability.value in (f.capabilities or {}) for f in rows),
    }
    if not rows:
        return out
    eta, via_road, notice = facility_etas(lon, lat, rows, network=network, straight=straight)
    dist = haversine_m(lon, lat, np.array([f.lon for f in rows]), np.array([f.lat for f in rows]))
    out["notice"] = notice
    if via_road.any():
        out["method"] = "network"
    order = np.argsort(eta, kind="stable")
    first_capable: float | None = None
    for idx in order:
        f, t = rows[int(idx)], float(eta[idx])
        reason = _reason(f, condition) if np.isfinite(t) else "unreachable"
        entry = {"id": f.id, "code": f.code, "name": f.name, "kind": f.kind,
                 "lon": f.lon, "lat": f.lat, "distance_m": round(float(dist[idx]), 1),
                 "eta_seconds": round(t, 1) if np.isfinite(t) else None,
                 "via": "network" if via_road[idx] else "straight",
                 "free": {b: _free(f.figures, b) for b in CARE_BEDS}}
        if reason is None:
            if first_capable is None:
                first_capable = t
            if len(out["destinations"]) < limit:
                over = max(t - window_s, 0.0)
                out["destinations"].append(entry | {
                    "within_window": t <= window_s,
                    "over_window_minutes": round(over / 60, 1)})
        elif first_capable is None and reason != "unreachable" and len(out["skipped"]) < limit:
            out["skipped"].append(entry | {"reason": reason, "why": _why(reason, f, condition)})
        if first_capable is not None and len(out["destinations"]) >= limit:
            break
    out["none_within_window"] = not any(d["within_window"] for d in out["destinations"])
    return out
