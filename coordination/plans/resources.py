"""What a plan level needs against what is there now: stock, units, isolation rooms.

Read-only and shared by activation (shortfalls recorded on the activation) and
the readiness table, so both always agree. Expired lots do not count: a mask
past its date protects nobody.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import Context
from ..facilities.models import BedKind, Facility, FacilityStatus
from ..stock.models import Balance, Item, Lot
from ..units.models import Unit, UnitStatus
from .schema import Resources, UnitType

ROOM_KINDS = (BedKind.ISOLATION_ROOM.value, BedKind.NEGATIVE_PRESSURE_ROOM.value)


def available_items(s: Session, context: str) -> dict[str, int]:
    """Usable (non-expired) quantity per item code, over every depot of the context."""
    ctx = s.get(Context, context)
    today = ctx.clock().now().date() if ctx is not None else None
    rows = s.execute(
        select(Item.code, Lot.expiry, Balance.quantity)
        .join(Item, Item.id == Balance.item_id).join(Lot, Lot.id == Balance.lot_id)
        .where(Balance.context == context, Balance.quantity > 0))
    totals: dict[str, int] = defaultdict(int)
    for code, expiry, quantity in rows:
        if expiry is not None and today is not None and expiry < today:
            continue
        totals[code] += int(quantity)
    return dict(totals)


def available_units(s: Session, context: str) -> dict[str, int]:
    """Available ambulances by type; a negative-pressure one also counts as an ambulance."""
    rows = s.execute(select(Unit.negative_pressure).where(
        Unit.context == context, Unit.status == UnitStatus.AVAILABLE.value,
        Unit.kind == "ambulance"))
    np = plain = 0
    for (negative,) in rows:
        if negative:
            np += 1
        else:
            plain += 1
    return {UnitType.NEGATIVE_PRESSURE_AMBULANCE.value: np, UnitType.AMBULANCE.value: plain}


def free_isolation_rooms(s: Session, context: str) -> int:
    rows = s.scalars(select(Facility).where(Facility.context == context,
                                            Facility.status != FacilityStatus.FULL.value))
    free = 0
    for f in rows:
        for kind in ROOM_KINDS:
            beds = (f.figures or {}).get(kind) or {}
            free += max(0, int(beds.get("capacity", 0)) - int(beds.get("occupied", 0)))
    return free


@dataclass(frozen=True)
class Available:
    """Everything a requirement is checked against, read once (the readiness table's
    27 plan-level rows share one read instead of re-reading stock, units and
    facilities per row)."""

    items: dict[str, int]
    units: dict[str, int]
    rooms: int


def available(s: Session, context: str) -> Available:
    return Available(items=available_items(s, context), units=available_units(s, context),
                     rooms=free_isolation_rooms(s, context))


def check(s: Session, context: str, need: Resources) -> dict[str, Any]:
    """Each requirement with what is available and the shortfall (0 when covered)."""
    return compare(need, available(s, context))


def compare(need: Resources, have: Available) -> dict[str, Any]:
    """``check`` against figures already read (the readiness table reads them once)."""
    stock, units = have.items, have.units
    items = [{"item": n.item, "required": n.quantity, "available": stock.get(n.item, 0),
              "short": max(0, n.quantity - stock.get(n.item, 0))} for n in need.items]
    # Negative-pressure ambulances serve first where required; the spare ones count as
    # ordinary ambulances.
    np_need = sum(u.count for u in need.units
                  if u.type == UnitType.NEGATIVE_PRESSURE_AMBULANCE)
    np_spare = max(0, units[UnitType.NEGATIVE_PRESSURE_AMBULANCE.value] - np_need)
    unit_rows = []
    for u in need.units:
        available_now = units[u.type.value]
        if u.type == UnitType.AMBULANCE:
            available_now += np_spare
        unit_rows.append({"type": u.type.value, "required": u.count, "available": available_now,
                          "short": max(0, u.count - available_now)})
    rooms_free = have.rooms if need.isolation_rooms else 0
    rooms = {"required": need.isolation_rooms, "available": rooms_free,
             "short": max(0, need.isolation_rooms - rooms_free)}
    short = (any(r["short"] for r in items) or any(r["short"] for r in unit_rows)
             or rooms["short"] > 0)
    return {"items": items, "units": unit_rows, "isolation_rooms": rooms, "short": short}
