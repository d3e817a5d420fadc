"""The command room's panels as plain data: what /ops renders and /api/ops/panels returns.

Each panel reads one source. A source that fails becomes that panel's
``{"error": …}`` and the others are still built, so the screen never goes
blank because the gap report (say) raised. Words are translated here; the
page's script inserts every value as text.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from .. import runtime
from ..alerts import service as alerts
from ..auth.principal import Principal, allowed
from ..auth.roles import Permission
from ..extensions import db
from ..facilities import service as facilities
from ..facilities.models import FacilityKind
from ..incidents import service as incidents
from ..incidents.patient_boards import triage_counts
from ..roster import queries as roster_queries
from ..roster import service as roster
from ..stock.gaps import gap_report
from ..units import service as units
from ..units.models import UnitStatus
from ..vocab import localized

log = logging.getLogger(__name__)
BED_KINDS = (FacilityKind.DESIGNATED_HOSPITAL.value, FacilityKind.ISOLATION_POINT.value,
             FacilityKind.FEVER_CLINIC.value)
ISOLATION_BEDS = ("isolation_room", "negative_pressure_room")
NEAR_FULL = 0.9
BEDS_PER_KIND = 30  # rows shown per kind of facility; the rest are counted, not listed
STOCK_ROWS = 100


def incidents_panel(context: str) -> dict[str, Any]:
    rows = incidents.list_incidents(context=context)
    keep = ("id", "type", "disease", "disease_name", "priority", "status", "status_at",
            "logged_at", "report_deadline", "deadline_missed", "address", "patients", "lon",
            "lat", "negative_pressure", "event_ref", "venue_ref")
    with db.reading() as s:
        counts = triage_counts(s, [r["id"] for r in rows])
    out = []
    for r in rows:
        item = {k: r.get(k) for k in keep}
        item["triage"] = counts.get(r["id"])  # MCI patients by START category, handed over
        item["units"] = [{"id": u["unit_id"], "call_sign": u["call_sign"],
                          "status": u["unit_status"]} for u in r.get("units", [])]
        item["reported_up"] = bool(r["clocks"].get("reported"))
        out.append(item)
    return {"rows": out}


def units_panel(context: str) -> dict[str, Any]:
    rows = units.list_units(context=context)
    counts = Counter(u.status for u in rows)
    return {
        "counts": {s.value: counts.get(s.value, 0) for s in UnitStatus},
        "rows": [{"id": u.id, "call_sign": u.call_sign, "status": u.status,
                  "negative_pressure": u.negative_pressure,
                  "has_position": u.lon is not None} for u in rows],
    }


def _free(figures: dict[str, Any]) -> tuple[int, int]:
    cap = sum(int(figures[k]["capacity"]) for k in ISOLATION_BEDS if k in figures)
    occ = sum(int(figures[k]["occupied"]) for k in ISOLATION_BEDS if k in figures)
    return cap - occ, cap


def beds_panel(context: str) -> dict[str, Any]:
    """Free isolation beds per facility, grouped by kind: full, nearly full and fewest free
    first. Each kind lists at most ``BEDS_PER_KIND`` rows and counts all of them, so the
    panel (and the page that embeds it) stays one screen's worth at any scale."""
    stale_after = runtime.current_settings().facility_stale_after
    out = []
    for p in facilities.bed_rows(kinds=BED_KINDS, stale_after=stale_after, context=context):
        free, cap = _free(p["figures"])
        shown = p["shown_status"]
        out.append({"id": p["id"], "name": localized(p["name"], p["name_en"]),
                    "kind": p["kind"], "status": shown,
                    "free": free, "capacity": cap, "full": p["status"] == "full" or
                    (cap > 0 and free <= 0),
                    "near_full": cap > 0 and free > 0 and (cap - free) / cap >= NEAR_FULL,
                    "stale": shown == "stale", "last_report_at": p["last_report_at"]})
    rank = {k: n for n, k in enumerate(BED_KINDS)}
    out.sort(key=lambda r: (rank[r["kind"]], not r["full"], not r["near_full"], r["free"]))
    kinds: dict[str, dict[str, int]] = {}
    shown_rows = []
    for r in out:
        k = kinds.setdefault(r["kind"], {"facilities": 0, "free": 0, "capacity": 0,
                                         "full": 0, "stale": 0, "listed": 0})
        k["facilities"] += 1
        k["free"] += max(r["free"], 0)
        k["capacity"] += r["capacity"]
        k["full"] += r["full"]
        k["stale"] += r["stale"]
        if k["listed"] < BEDS_PER_KIND:
            k["listed"] += 1
            shown_rows.append(r)
    return {"rows": shown_rows, "kinds": kinds}


def tasks_panel(context: str) -> dict[str, Any]:
    stats = roster_queries.stats(context=context)
    now = datetime.fromisoformat(stats["now"])
    open_tasks = roster.list_tasks(context=context, open_only=True)
    late, escalated = [], []
    for t in open_tasks:
        row = {"id": t["id"], "title": t["title"], "agency_zh": t["agency_name_zh"],
               "agency_en": t["agency_name_en"], "status": t["status"],
               "ack_deadline": t["ack_deadline"]}
        if t["status"] == "open" and t["ack_deadline"] and \
                datetime.fromisoformat(t["ack_deadline"]) < now:
            late.append(row)
        if any(c["current"] and c["target"] == "command_room" and c["fired_at"]
               for c in t["chain"]):
            escalated.append(row)
    agencies = [{"code": a["code"], "name_zh": a["name_zh"], "name_en": a["name_en"],
                 "open": a["open"], "overdue": a["overdue"]}
                for a in stats["agencies"] if a["open"] or a["overdue"]]
    return {"agencies": agencies, "late": late, "escalated": escalated,
            "open_total": len(open_tasks)}


def stock_panel(context: str) -> dict[str, Any]:
    rows = [r for r in gap_report(context=context)["rows"]
            if r["critical"] and r["shortfall"] > 0]
    rows.sort(key=lambda r: (r["available"] > 0, -r["shortfall"]))
    return {"rows": [{"depot": r["depot"], "depot_zh": r["depot_name_zh"],
                      "depot_en": r["depot_name_en"], "item": r["item"],
                      "item_zh": r["item_name_zh"], "item_en": r["item_name_en"],
                      "available": r["available"], "target": r["target"],
                      "shortfall": r["shortfall"], "unit": r["unit"]} for r in rows[:STOCK_ROWS]],
            "total": len(rows)}


def alerts_panel(context: str) -> dict[str, Any]:
    return {"rows": alerts.list_alerts(context=context)}


PANELS: dict[str, tuple[Permission, Callable[[str], dict[str, Any]]]] = {
    "alerts": (Permission.VIEW_OPS, alerts_panel),
    "incidents": (Permission.VIEW_INCIDENTS, incidents_panel),
    "units": (Permission.VIEW_MAP, units_panel),
    "beds": (Permission.VIEW_MAP, beds_panel),
    "tasks": (Permission.VIEW_TASKS, tasks_panel),
    "stock": (Permission.VIEW_STOCK, stock_panel),
}


def build(who: Principal, context: str, names: list[str] | None = None) -> dict[str, Any]:
    """The panels ``who`` may see (all, or ``names``), each its data or its own error."""
    out: dict[str, Any] = {}
    for name, (permission, make) in PANELS.items():
        if names is not None and name not in names:
            continue
        if not allowed(who, permission):
            continue
        try:
            out[name] = make(context)
        except Exception:  # one failing source must not blank the screen
            log.exception("ops panel %s failed", name)
            out[name] = {"error": _("This panel could not be loaded; the others still work.")}
    return out
