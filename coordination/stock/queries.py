"""Reads for screens and exports: balances by lot, and the stock card (bin card)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..contexts import LIVE
from ..extensions import db
from .common import depot_by_code, is_expired, item_by_code, today_in
from .models import Balance, Depot, Item, LedgerEntry, Lot


def balances(*, depot: str | None = None, item: str | None = None, context: str = LIVE,
             include_zero: bool = False) -> list[dict[str, Any]]:
    """Book quantity per depot, item and lot: one indexed read, no ledger scan."""
    with db.reading() as s:
        today = today_in(s, context)
        stmt = (select(Depot.code, Item.code, Lot, Balance.quantity)
                .join(Depot, Depot.id == Balance.depot_id).join(Item, Item.id == Balance.item_id)
                .join(Lot, Lot.id == Balance.lot_id).where(Balance.context == context))
        if depot is not None:
            stmt = stmt.where(Balance.depot_id == depot_by_code(s, context, depot).id)
        if item is not None:
            stmt = stmt.where(Balance.item_id == item_by_code(s, context, item).id)
        if not include_zero:
            stmt = stmt.where(Balance.quantity != 0)
        rows = s.execute(stmt.order_by(Depot.code, Item.code, Lot.expiry, Lot.lot_number)).all()
        return [{"depot": d, "item": i, "lot": lot.lot_number,
                 "expiry": lot.expiry.isoformat() if lot.expiry else None,
                 "expired": is_expired(lot, today), "quantity": int(q)}
                for d, i, lot, q in rows]


def stock_card(*, depot: str, item: str, context: str = LIVE,
               limit: int | None = None) -> dict[str, Any]:
    """Every movement of one item at one depot, oldest first, with the running balance."""
    with db.reading() as s:
        d = depot_by_code(s, context, depot)
        i = item_by_code(s, context, item)
        rows = s.execute(
            select(LedgerEntry, Lot.lot_number, Lot.expiry)
            .join(Lot, Lot.id == LedgerEntry.lot_id)
            .where(LedgerEntry.context == context, LedgerEntry.depot_id == d.id,
                   LedgerEntry.item_id == i.id)
            .order_by(LedgerEntry.id)
        ).all()
        running = 0
        entries = []
        for e, number, expiry in rows:
            running += e.quantity
            entries.append({
                "id": e.id, "at": e.occurred_at.isoformat(), "kind": e.kind, "lot": number,
                "expiry": expiry.isoformat() if expiry else None, "quantity": e.quantity,
                "counted": e.counted, "lot_balance": e.balance_after, "balance": running,
                "reason": e.reason, "destination_kind": e.destination_kind,
                "reference": e.destination_ref or "", "transfer_id": e.transfer_id,
                "request_id": e.request_id, "note": e.note, "actor": e.actor_name,
            })
        if limit is not None:
            entries = entries[-limit:]
        return {"depot": d.code, "depot_name_zh": d.name_zh, "depot_name_en": d.name_en,
                "item": i.code, "item_name_zh": i.name_zh, "item_name_en": i.name_en,
                "unit": i.unit, "balance": running, "entries": entries}
