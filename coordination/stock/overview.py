"""What the logistics dashboard and the map's depot markers show, in one read each.

Both are built from the gap report (cached per state of the books, see
cache.py), so a burst of screens refreshing after one issue shares one
computation, and the figures on the dashboard, the map and the gap report page
are the same figures.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..contexts import LIVE
from ..errors import NotFound
from ..extensions import db
from .catalogue import depot_dict
from .common import today_in
from .gaps import GapOptions, gap_report
from .models import Balance, Depot, Item, LedgerEntry, Lot, RequestStatus, StockRequest
from .requests import request_dict

PENDING = (RequestStatus.REQUESTED.value, RequestStatus.APPROVED.value,
           RequestStatus.SHIPPED.value)
# An item short at a depot is listed on the map's popup up to this many times.
POPUP_ITEMS = 8


def recent_movements(*, context: str = LIVE, limit: int = 15) -> list[dict[str, Any]]:
    """The newest ledger entries, newest first (one indexed read from the end)."""
    with db.reading() as s:
        rows = s.execute(
            select(LedgerEntry, Depot.code, Item.code, Item.name_zh, Item.name_en, Item.unit,
                   Lot.lot_number)
            .join(Depot, Depot.id == LedgerEntry.depot_id)
            .join(Item, Item.id == LedgerEntry.item_id)
            .join(Lot, Lot.id == LedgerEntry.lot_id)
            .where(LedgerEntry.context == context)
            .order_by(LedgerEntry.id.desc()).limit(limit)
        ).all()
        return [{"id": e.id, "at": e.occurred_at.isoformat(), "kind": e.kind, "depot": d,
                 "item": i, "item_name_zh": zh, "item_name_en": en, "unit": unit, "lot": lot,
                 "quantity": e.quantity, "balance_after": e.balance_after,
                 "reference": e.destination_ref or "", "reason": e.reason, "actor": e.actor_name}
                for e, d, i, zh, en, unit, lot in rows]


def pending_requests(*, context: str = LIVE, limit: int = 50) -> list[dict[str, Any]]:
    """Requests not yet received or rejected, oldest first: the queue logistics works."""
    with db.reading() as s:
        rows = s.scalars(select(StockRequest).where(StockRequest.context == context,
                                                    StockRequest.status.in_(PENDING))
                         .order_by(StockRequest.id).limit(limit)).all()
        return [request_dict(s, r) for r in rows]


def logistics_overview(*, options: GapOptions | None = None,
                       context: str = LIVE) -> dict[str, Any]:
    """The dashboard: items below target, warnings, pending requests, recent movements."""
    report = gap_report(options=options, context=context)
    below = sorted((r for r in report["rows"] if r["shortfall"] > 0),
                   key=lambda r: (not r["critical"], r["depot"], r["item"]))
    return {
        "generated_at": report["generated_at"],
        "warn_days": report["warn_days"],
        "totals": report["totals"],
        "below_target": below,
        "warnings": report["warnings"],
        "requests": pending_requests(context=context),
        "movements": recent_movements(context=context),
    }


def _depot_status(below: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> str:
    if any(r["critical"] for r in below):
        return "critical"
    if below:
        return "below_target"
    if any(w["kind"] in ("expired", "expiring", "running_out") for w in warnings):
        return "warning"
    return "ok"


def depot_map(*, options: GapOptions | None = None, context: str = LIVE) -> dict[str, Any]:
    """Every depot as a GeoJSON point with its stock status and the items below target.

    The live map draws these on its stockpile layer; a facility of kind
    ``stockpile_depot`` with the same code is the same depot and is not drawn twice.
    """
    report = gap_report(options=options, context=context)
    below: dict[str, list[dict[str, Any]]] = {}
    for r in report["rows"]:
        if r["shortfall"] > 0:
            below.setdefault(r["depot"], []).append(r)
    warned: dict[str, list[dict[str, Any]]] = {}
    for w in report["warnings"]:
        warned.setdefault(w["depot"], []).append(w)
    with db.reading() as s:
        depots = s.scalars(select(Depot).where(Depot.context == context)
                           .order_by(Depot.code)).all()
        features = []
        for d in depots:
            short = sorted(below.get(d.code, []), key=lambda r: (not r["critical"],
                                                                 -r["shortfall"], r["item"]))
            warnings = warned.get(d.code, [])
            features.append({
                "type": "Feature", "id": d.code,
                "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
                "properties": {
                    "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en,
                    "owner": d.owner, "contact_name": d.contact_name,
                    "contact_phone": d.contact_phone,
                    "status": _depot_status(short, warnings),
                    "below_target": len(short),
                    "expiring": sum(1 for w in warnings if w["kind"] in ("expired", "expiring")),
                    "running_out": sum(1 for w in warnings if w["kind"] == "running_out"),
                    "items": [{"item": r["item"], "name_zh": r["item_name_zh"],
                               "name_en": r["item_name_en"], "unit": r["unit"],
                               "available": r["available"], "in_transit": r["in_transit"],
                               "target": r["target"], "shortfall": r["shortfall"],
                               "critical": r["critical"]} for r in short[:POPUP_ITEMS]],
                },
            })
    return {"type": "FeatureCollection", "generated_at": report["generated_at"],
            "features": features}



def depot_detail(*, code: str, context: str = LIVE,
                 options: GapOptions | None = None) -> dict[str, Any]:
    """One depot: where and whose it is, its stock by item and lot, and its gap figures."""
    report = gap_report(options=options, context=context)
    with db.reading() as s:
        depot = s.scalar(select(Depot).where(Depot.context == context, Depot.code == code))
        if depot is None:
            raise NotFound(_l("No such depot."))
        today = today_in(s, context)
        rows = s.execute(
            select(Item.code, Item.name_zh, Item.name_en, Item.unit, Lot.lot_number, Lot.expiry,
                   Balance.quantity)
            .join(Item, Item.id == Balance.item_id).join(Lot, Lot.id == Balance.lot_id)
            .where(Balance.context == context, Balance.depot_id == depot.id,
                   Balance.quantity != 0)
            .order_by(Item.code, Lot.expiry, Lot.lot_number)
        ).all()
        body = depot_dict(depot)
    figures = {r["item"]: r for r in report["rows"] if r["depot"] == code}
    items: dict[str, dict[str, Any]] = {}
    for item, zh, en, unit, lot, expiry, qty in rows:
        entry = items.setdefault(item, {"item": item, "name_zh": zh, "name_en": en,
                                        "unit": unit, "lots": [], "figures": figures.get(item)})
        entry["lots"].append({"lot": lot, "expiry": expiry.isoformat() if expiry else None,
                              "expired": bool(expiry and expiry < today),
                              "days_left": (expiry - today).days if expiry else None,
                              "quantity": int(qty)})
    for item, f in figures.items():  # a target with nothing on hand is still a line
        items.setdefault(item, {"item": item, "name_zh": f["item_name_zh"],
                                "name_en": f["item_name_en"], "unit": f["unit"], "lots": [],
                                "figures": f})
    body["items"] = [items[k] for k in sorted(items)]
    body["warnings"] = [w for w in report["warnings"] if w["depot"] == code]
    body["warn_days"] = report["warn_days"]
    return body


def form_choices(*, context: str = LIVE) -> dict[str, Any]:
    """What the movement forms offer: depots, items, and the lots on hand per depot and item."""
    with db.reading() as s:
        depots = [{"code": c, "name_zh": zh, "name_en": en} for c, zh, en in s.execute(
            select(Depot.code, Depot.name_zh, Depot.name_en).where(Depot.context == context)
            .order_by(Depot.code))]
        items = [{"code": c, "name_zh": zh, "name_en": en, "unit": u} for c, zh, en, u in
                 s.execute(select(Item.code, Item.name_zh, Item.name_en, Item.unit)
                           .where(Item.context == context).order_by(Item.code))]
        lots = [{"depot": d, "item": i, "lot": n, "expiry": e.isoformat() if e else None,
                 "quantity": int(q)} for d, i, n, e, q in s.execute(
            select(Depot.code, Item.code, Lot.lot_number, Lot.expiry, Balance.quantity)
            .join(Depot, Depot.id == Balance.depot_id).join(Item, Item.id == Balance.item_id)
            .join(Lot, Lot.id == Balance.lot_id)
            .where(Balance.context == context, Balance.quantity > 0)
            .order_by(Depot.code, Item.code, Lot.expiry, Lot.lot_number))]
    return {"depots": depots, "items": items, "lots": lots}
