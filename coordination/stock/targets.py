"""Reserve targets (储备定额) and reservations for incidents.

A target is a quantity, or days of cover that the gap report turns into a
quantity at the current burn rate (the min/max of health supply chains), per
depot and item and optionally per plan response level. A reservation sets
stock aside for an incident: it stays on the shelf and in ``on_hand`` but no
longer counts as available, and only an issue against it may take it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound
from ..events import Actor
from ..extensions import db
from .common import (
    depot_by_code,
    emit,
    is_expired,
    item_by_code,
    lock_balances,
    now_in,
    reserved_quantity,
    usable_lots,
)
from .models import Depot, Item, Reservation, ReservationStatus, Target
from .parts import touch
from .schemas import ReservationIn, TargetIn


def target_dict(t: Target, depot: Depot, item: Item) -> dict[str, Any]:
    return {
        "id": t.id, "depot": depot.code, "item": item.code, "level": t.level or None,
        "mode": t.mode, "quantity": t.quantity, "days": t.days,
        "updated_at": t.updated_at.isoformat(),
    }


def set_target(*, data: TargetIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Set (or replace) the reserve target of one item at one depot, for one level or all."""
    with db.unit_of_work() as s:
        at = now_in(s, context)
        depot = depot_by_code(s, context, data.depot)
        item = item_by_code(s, context, data.item)
        target = s.scalar(select(Target).where(
            Target.context == context, Target.depot_id == depot.id, Target.item_id == item.id,
            Target.level == data.level.value))
        if target is None:
            target = Target(context=context, depot_id=depot.id, item_id=item.id,
                            level=data.level.value)
            s.add(target)
        target.mode = data.mode.value
        target.quantity, target.days = data.quantity, data.days
        target.updated_at = at
        touch(s, depot.id, item.id)
        s.flush()
        body = target_dict(target, depot, item)
        emit(s, context=context, type="stock.target_set", actor=actor, payload=body,
             subject=("stock_depot", depot.code))
        return body


def list_targets(*, context: str = LIVE) -> list[dict[str, Any]]:
    with db.reading() as s:
        rows = s.execute(
            select(Target, Depot, Item).join(Depot, Depot.id == Target.depot_id)
            .join(Item, Item.id == Target.item_id).where(Target.context == context)
            .order_by(Depot.code, Item.code, Target.level)
        ).all()
        return [target_dict(t, d, i) for t, d, i in rows]


def reservation_dict(r: Reservation, depot: Depot, item: Item) -> dict[str, Any]:
    return {
        "id": r.id, "depot": depot.code, "item": item.code, "quantity": r.quantity,
        "incident_ref": r.incident_ref, "status": r.status, "note": r.note,
        "created_at": r.created_at.isoformat(),
    }


def _available(s: Session, context: str, depot: Depot, item: Item, today: Any) -> int:
    lock_balances(s, context, depot.id, item.id)
    usable = sum(q for lot, q in usable_lots(s, context, depot.id, item.id, today)
                 if not is_expired(lot, today))
    return usable - reserved_quantity(s, context, depot.id, item.id)


def reserve_stock(*, data: ReservationIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Set stock aside for an incident; only unexpired, unreserved stock can be reserved."""
    with db.unit_of_work() as s:
        at = now_in(s, context)
        depot = depot_by_code(s, context, data.depot)
        item = item_by_code(s, context, data.item)
        available = _available(s, context, depot, item, at.date())
        if data.quantity > available:
            raise Conflict(_l("Only %(have)d of %(item)s available at %(depot)s to reserve.",
                              have=max(available, 0), item=item.code, depot=depot.code))
        r = Reservation(context=context, depot_id=depot.id, item_id=item.id,
                        quantity=data.quantity, incident_ref=data.incident_ref,
                        status=ReservationStatus.ACTIVE.value, note=data.note, created_at=at)
        s.add(r)
        s.flush()
        body = reservation_dict(r, depot, item)
        emit(s, context=context, type="stock.reserved", actor=actor, payload=body,
             subject=("stock_depot", depot.code))
        return body


def release_reservation(*, reservation_id: int, actor: Actor,
                        context: str = LIVE) -> dict[str, Any]:
    """Give reserved stock back to the available pool."""
    with db.unit_of_work() as s:
        r = s.scalar(select(Reservation).where(Reservation.id == reservation_id,
                                               Reservation.context == context).with_for_update())
        if r is None:
            raise NotFound(_l("No such reservation."))
        if r.status != ReservationStatus.ACTIVE.value:
            raise Conflict(_l("This reservation is no longer active."))
        r.status = ReservationStatus.RELEASED.value
        depot, item = s.get(Depot, r.depot_id), s.get(Item, r.item_id)
        assert depot and item
        body = reservation_dict(r, depot, item)
        emit(s, context=context, type="stock.reservation_released", actor=actor, payload=body,
             subject=("stock_depot", depot.code))
        return body


def list_reservations(*, context: str = LIVE, active_only: bool = True) -> list[dict[str, Any]]:
    with db.reading() as s:
        stmt = (select(Reservation, Depot, Item).join(Depot, Depot.id == Reservation.depot_id)
                .join(Item, Item.id == Reservation.item_id)
                .where(Reservation.context == context))
        if active_only:
            stmt = stmt.where(Reservation.status == ReservationStatus.ACTIVE.value)
        return [reservation_dict(r, d, i) for r, d, i in s.execute(stmt.order_by(Reservation.id))]
