"""Movements: receipts, issues, adjustments, physical counts. Each is one transaction.

The ``apply_*`` functions do the work inside a caller's session so an import
of a thousand rows or a request's shipment is still one transaction; the
public ``verb_noun`` functions wrap one movement in its own unit of work and
its event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, ValidationFailed
from ..events import Actor
from ..extensions import db
from .common import (
    Posting,
    depot_by_code,
    emit,
    ensure_lot,
    entry_dict,
    is_expired,
    item_by_code,
    lock_balance,
    lock_balances,
    lot_by_number,
    now_in,
    post,
    reserved_quantity,
    usable_lots,
)
from .models import Balance, Depot, EntryKind, Item, Lot, Reservation
from .schemas import AdjustmentIn, CountIn, IssueIn, ReceiptIn


def apply_receipt(s: Session, context: str, data: ReceiptIn, actor: Actor,
                  at: datetime) -> dict[str, Any]:
    depot = depot_by_code(s, context, data.depot)
    item = item_by_code(s, context, data.item)
    existing = s.scalar(select(Lot).where(Lot.item_id == item.id,
                                          Lot.lot_number == data.lot))
    if existing is None and data.expiry is None and item.shelf_life_days is not None:
        raise ValidationFailed(_l("Lot %(lot)s needs an expiry date (%(item)s has a shelf life).",
                                  lot=data.lot, item=item.code))
    if data.expiry is not None and data.expiry < at.date():
        raise ValidationFailed(_l("Lot %(lot)s expired on %(expiry)s; expired stock is not "
                                  "received.", lot=data.lot, expiry=data.expiry.isoformat()))
    lot = ensure_lot(s, context, item, data.lot, data.expiry)
    balance = lock_balance(s, context, depot.id, item.id, lot.id)
    entry = post(s, balance, data.quantity,
                 Posting(EntryKind.RECEIPT, actor, at, note=data.note))
    s.flush()
    return entry_dict(entry, depot, item, lot)


def receive_stock(*, data: ReceiptIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Book a delivery into a depot (creating the lot on its first receipt)."""
    with db.unit_of_work() as s:
        body = apply_receipt(s, context, data, actor, now_in(s, context))
        emit(s, context=context, type="stock.received", actor=actor, payload=body,
             subject=("stock_depot", data.depot))
        return body


def pick(s: Session, context: str, depot: Depot, item: Item, quantity: int, lot_number: str | None,
         today: date, reservation: Reservation | None = None,
         ) -> tuple[list[tuple[Lot, int]], dict[int, Balance]]:
    """Choose lots for an outgoing movement: the named lot, or first-expiry-first-out.

    Locks the item's balances first, so the check and the postings that follow
    see the same numbers as every concurrent writer. Expired lots are never
    picked; stock reserved for an incident is only released to an issue against
    that reservation.
    """
    balances = lock_balances(s, context, depot.id, item.id)
    usable = usable_lots(s, context, depot.id, item.id, today)
    total = sum(q for _lot, q in usable)
    reserved = reserved_quantity(s, context, depot.id, item.id)
    allowance = total - reserved + (min(reservation.quantity, quantity) if reservation else 0)
    if lot_number is not None:
        lot = lot_by_number(s, item, lot_number)
        if is_expired(lot, today):
            raise Conflict(_l("Lot %(lot)s expired on %(expiry)s and cannot be issued.",
                              lot=lot.lot_number, expiry=lot.expiry.isoformat()
                              if lot.expiry else "-"))
        have = next((q for candidate, q in usable if candidate.id == lot.id), 0)
        if have < quantity:
            raise Conflict(_l("Not enough stock in lot %(lot)s at %(depot)s: %(have)d on hand, "
                              "%(want)d asked.", lot=lot.lot_number, depot=depot.code,
                              have=have, want=quantity))
        usable = [(lot, have)]
    if quantity > allowance:
        raise Conflict(_l("Not enough stock of %(item)s at %(depot)s: %(have)d available "
                          "(%(reserved)d reserved), %(want)d asked.", item=item.code,
                          depot=depot.code, have=max(allowance, 0), reserved=reserved,
                          want=quantity))
    picks: list[tuple[Lot, int]] = []
    left = quantity
    for lot, have in usable:
        take = min(have, left)
        if take > 0:
            picks.append((lot, take))
            left -= take
        if left == 0:
            break
    return picks, balances


def apply_issue(s: Session, context: str, data: IssueIn, actor: Actor, at: datetime,
                request_id: int | None = None) -> dict[str, Any]:
    depot = depot_by_code(s, context, data.depot)
    item = item_by_code(s, context, data.item)
    reservation = None
    if data.reservation_id is not None:
        reservation = s.scalar(select(Reservation).where(
            Reservation.id == data.reservation_id, Reservation.context == context,
        ).with_for_update())
        if (reservation is None or reservation.status != "active"
                or reservation.depot_id != depot.id or reservation.item_id != item.id):
            raise ValidationFailed(_l("No active reservation %(id)d for this item at this "
                                      "depot.", id=data.reservation_id))
    picks, balances = pick(s, context, depot, item, data.quantity, data.lot, at.date(),
                           reservation)
    posting = Posting(EntryKind.ISSUE, actor, at, destination_kind=data.destination_kind.value,
                      destination_ref=data.destination_ref, request_id=request_id,
                      note=data.note)
    entries = [(post(s, balances[lot.id], -take, posting), lot) for lot, take in picks]
    if reservation is not None:
        reservation.quantity -= min(reservation.quantity, data.quantity)
        if reservation.quantity == 0:
            reservation.status = "released"
    s.flush()
    return {
        "depot": depot.code, "item": item.code, "quantity": data.quantity,
        "destination_kind": data.destination_kind.value,
        "destination_ref": data.destination_ref,
        "lines": [entry_dict(e, depot, item, lot) for e, lot in entries],
    }


def issue_stock(*, data: IssueIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Issue to an incident, facility, isolation point or team, FEFO unless a lot is named."""
    with db.unit_of_work() as s:
        body = apply_issue(s, context, data, actor, now_in(s, context))
        emit(s, context=context, type="stock.issued", actor=actor, payload=body,
             subject=("stock_depot", data.depot))
        return body


def adjust_stock(*, data: AdjustmentIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Write stock up or down with a reason (damaged, expired, found, other)."""
    if data.quantity == 0:
        raise ValidationFailed(_l("An adjustment must change the quantity."))
    with db.unit_of_work() as s:
        at = now_in(s, context)
        depot = depot_by_code(s, context, data.depot)
        item = item_by_code(s, context, data.item)
        lot = lot_by_number(s, item, data.lot)
        lock_balances(s, context, depot.id, item.id)
        balance = lock_balance(s, context, depot.id, item.id, lot.id)
        entry = post(s, balance, data.quantity, Posting(
            EntryKind.ADJUSTMENT, actor, at, reason=data.reason.value, note=data.note))
        s.flush()
        body = entry_dict(entry, depot, item, lot)
        emit(s, context=context, type="stock.adjusted", actor=actor, payload=body,
             subject=("stock_depot", depot.code))
        return body


def apply_count(s: Session, context: str, data: CountIn, actor: Actor,
                at: datetime) -> dict[str, Any]:
    depot = depot_by_code(s, context, data.depot)
    item = item_by_code(s, context, data.item)
    lot = lot_by_number(s, item, data.lot)
    lock_balances(s, context, depot.id, item.id)
    balance = lock_balance(s, context, depot.id, item.id, lot.id)
    book = balance.quantity
    entry = post(s, balance, data.counted - book, Posting(
        EntryKind.COUNT, actor, at, counted=data.counted, note=data.note))
    s.flush()
    return entry_dict(entry, depot, item, lot) | {"book": book}


def count_stock(*, data: CountIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Reconcile the book to a physical count; the difference is the entry's quantity."""
    with db.unit_of_work() as s:
        body = apply_count(s, context, data, actor, now_in(s, context))
        emit(s, context=context, type="stock.counted", actor=actor, payload=body,
             subject=("stock_depot", data.depot))
        return body
