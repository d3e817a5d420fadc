"""Shared pieces of the stock services: lookups, row locks, ledger postings, events.

Every change to stock goes through ``post``: it locks the balance row, refuses
to go below zero, writes the ledger entry and the new balance in the caller's
transaction. Nothing else writes ``stock_balances`` or ``stock_ledger``.

Locking: on PostgreSQL balance rows are taken ``FOR UPDATE`` in a fixed order
(depot, item, lot) before the event counter row, so two writers never wait on
each other in opposite orders; on SQLite ``BEGIN IMMEDIATE`` already serialises
writers (db.py) and ``FOR UPDATE`` is simply not emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import events
from ..contexts import context_row
from ..errors import Conflict, ValidationFailed
from ..events import Actor
from .models import Balance, Depot, EntryKind, Item, LedgerEntry, Lot, Reservation
from .parts import TOUCHED_KEY, touch, touched_payload

# Everyone granted VIEW_STOCK hears stock events (the dashboard and the map update live).
AUDIENCE = ["role:logistics", "role:operator", "role:trainer"]


def now_in(s: Session, context: str) -> datetime:
    """The context's clock: real time live, scenario time in a drill."""
    return context_row(s, context).clock().now()


def today_in(s: Session, context: str) -> date:
    return now_in(s, context).date()


def depot_by_code(s: Session, context: str, code: str) -> Depot:
    depot = s.scalar(select(Depot).where(Depot.context == context, Depot.code == code))
    if depot is None:
        raise ValidationFailed(_l("Unknown depot %(code)s.", code=code))
    return depot


def item_by_code(s: Session, context: str, code: str) -> Item:
    item = s.scalar(select(Item).where(Item.context == context, Item.code == code))
    if item is None:
        raise ValidationFailed(_l("Unknown item %(code)s.", code=code))
    return item


def lot_by_number(s: Session, item: Item, number: str) -> Lot:
    lot = s.scalar(select(Lot).where(Lot.item_id == item.id, Lot.lot_number == number))
    if lot is None:
        raise ValidationFailed(
            _l("Lot %(lot)s of %(item)s does not exist.", lot=number, item=item.code)
        )
    return lot


def dialect_insert(s: Session) -> Any:
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_lot(s: Session, context: str, item: Item, number: str, expiry: date | None) -> Lot:
    """The lot, created on first receipt; a second receipt must agree on its expiry.

    Insert-or-ignore, then read: two concurrent first receipts of one lot both
    succeed instead of one failing on the unique constraint.
    """
    s.execute(
        dialect_insert(s)(Lot).values(context=context, item_id=item.id, lot_number=number,
                               expiry=expiry).on_conflict_do_nothing()
    )
    lot = s.scalar(select(Lot).where(Lot.item_id == item.id, Lot.lot_number == number))
    assert lot is not None
    if expiry is not None and lot.expiry != expiry:
        raise ValidationFailed(
            _l("Lot %(lot)s is already recorded with expiry %(expiry)s.", lot=number,
               expiry=lot.expiry.isoformat() if lot.expiry else "-")
        )
    return lot


def is_expired(lot: Lot, today: date) -> bool:
    """A lot is usable through its expiry date and expired from the day after."""
    return lot.expiry is not None and lot.expiry < today


def lock_balances(s: Session, context: str, depot_id: int, item_id: int) -> dict[int, Balance]:
    """Every lot's balance of one item at one depot, locked for this transaction."""
    stmt = (
        select(Balance)
        .where(Balance.context == context, Balance.depot_id == depot_id,
               Balance.item_id == item_id)
        .order_by(Balance.lot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {b.lot_id: b for b in s.scalars(stmt)}


def lock_balance(s: Session, context: str, depot_id: int, item_id: int, lot_id: int) -> Balance:
    """One balance row, created at zero if missing, locked for this transaction."""
    s.execute(
        dialect_insert(s)(Balance).values(context=context, depot_id=depot_id, item_id=item_id,
                                   lot_id=lot_id, quantity=0).on_conflict_do_nothing()
    )
    stmt = (
        select(Balance)
        .where(Balance.context == context, Balance.depot_id == depot_id,
               Balance.item_id == item_id, Balance.lot_id == lot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    balance = s.scalar(stmt)
    assert balance is not None
    return balance


def reserved_quantity(s: Session, context: str, depot_id: int, item_id: int) -> int:
    return int(s.scalar(
        select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
            Reservation.context == context, Reservation.depot_id == depot_id,
            Reservation.item_id == item_id, Reservation.status == "active",
        )
    ) or 0)


@dataclass(frozen=True)
class Posting:
    """What a movement carries besides depot, item, lot and quantity."""

    kind: EntryKind
    actor: Actor
    at: datetime
    counted: int | None = None
    reason: str | None = None
    destination_kind: str | None = None
    destination_ref: str | None = None
    transfer_id: int | None = None
    request_id: int | None = None
    note: str = ""


def post(s: Session, balance: Balance, delta: int, p: Posting) -> LedgerEntry:
    """Apply ``delta`` to a locked balance and write its ledger entry."""
    new = balance.quantity + delta
    if new < 0:
        raise Conflict(_l("Not enough stock: %(have)d on hand, %(want)d asked.",
                          have=balance.quantity, want=-delta))
    balance.quantity = new
    touch(s, balance.depot_id, balance.item_id)
    entry = LedgerEntry(
        context=balance.context, kind=p.kind.value, depot_id=balance.depot_id,
        item_id=balance.item_id, lot_id=balance.lot_id, quantity=delta, balance_after=new,
        counted=p.counted, reason=p.reason, destination_kind=p.destination_kind,
        destination_ref=p.destination_ref, transfer_id=p.transfer_id,
        request_id=p.request_id, note=p.note, actor_kind=p.actor.kind, actor_id=p.actor.id,
        actor_name=p.actor.name, occurred_at=p.at,
    )
    s.add(entry)
    return entry


def entry_dict(e: LedgerEntry, depot: Depot, item: Item, lot: Lot) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "depot": depot.code,
        "item": item.code,
        "lot": lot.lot_number,
        "expiry": lot.expiry.isoformat() if lot.expiry else None,
        "quantity": e.quantity,
        "balance_after": e.balance_after,
        "counted": e.counted,
        "reason": e.reason,
        "destination_kind": e.destination_kind,
        "destination_ref": e.destination_ref,
        "transfer_id": e.transfer_id,
        "request_id": e.request_id,
        "note": e.note,
        "actor": e.actor_name,
        "at": e.occurred_at.isoformat(),
    }


def emit(s: Session, *, context: str, type: str, actor: Actor, payload: dict[str, Any],
         subject: tuple[str, Any] | None = None, extra_audience: list[str] | None = None) -> None:
    # The pairs this transaction changed ride with its event, so reports read just those.
    payload = {**payload, TOUCHED_KEY: touched_payload(s)}
    events.append(s, context=context, type=type, actor=actor, payload=payload,
                  audience=AUDIENCE + (extra_audience or []), subject=subject)


def actor_room(kind: str, ident: int | None) -> list[str]:
    """The requester's own room, so their screen sees their request move."""
    return [f"{kind}:{ident}"] if ident is not None and kind in ("user", "token") else []


def usable_lots(s: Session, context: str, depot_id: int, item_id: int,
                today: date) -> list[tuple[Lot, int]]:
    """Lots with stock that may be issued, first expiry first (no expiry last)."""
    rows = s.execute(
        select(Lot, Balance.quantity)
        .join(Balance, and_(Balance.lot_id == Lot.id))
        .where(Balance.context == context, Balance.depot_id == depot_id,
               Balance.item_id == item_id, Balance.quantity > 0)
    ).all()
    live = [(lot, int(q)) for lot, q in rows if not is_expired(lot, today)]
    live.sort(key=lambda r: (r[0].expiry is None, r[0].expiry or date.max, r[0].id))
    return live
