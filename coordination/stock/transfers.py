"""Transfers between depots: out of the source when sent, into the destination when received.

Between the two the stock is *in transit*: it counts at neither depot's shelf
but appears in the destination's gap report, so it is never lost and never
counted twice. Each step is one transaction, so a crash (a rolled-back
transaction) leaves the stock either still at the source or in transit —
never neither.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from .common import (
    Posting,
    depot_by_code,
    emit,
    entry_dict,
    item_by_code,
    lock_balance,
    now_in,
    post,
)
from .ledger import pick
from .models import Depot, EntryKind, Item, Lot, Transfer, TransferLine, TransferStatus
from .schemas import ReceiveTransferIn, TransferIn


def transfer_dict(s: Session, t: Transfer) -> dict[str, Any]:
    lines = s.execute(
        select(Lot, TransferLine.quantity).join(TransferLine, TransferLine.lot_id == Lot.id)
        .where(TransferLine.transfer_id == t.id).order_by(Lot.id)
    ).all()
    src, dst = s.get(Depot, t.from_depot_id), s.get(Depot, t.to_depot_id)
    item = s.get(Item, t.item_id)
    assert src and dst and item
    return {
        "id": t.id, "from_depot": src.code, "to_depot": dst.code, "item": item.code,
        "quantity": t.quantity, "status": t.status, "note": t.note,
        "sent_at": t.sent_at.isoformat(),
        "received_at": t.received_at.isoformat() if t.received_at else None,
        "lines": [{"lot": lot.lot_number, "expiry": lot.expiry.isoformat() if lot.expiry
                   else None, "quantity": int(q)} for lot, q in lines],
    }


def send_transfer(*, data: TransferIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Take stock out of one depot towards another, FEFO unless a lot is named."""
    if data.from_depot == data.to_depot:
        raise ValidationFailed(_l("A transfer needs two different depots."))
    with db.unit_of_work() as s:
        at = now_in(s, context)
        src = depot_by_code(s, context, data.from_depot)
        dst = depot_by_code(s, context, data.to_depot)
        item = item_by_code(s, context, data.item)
        picks, balances = pick(s, context, src, item, data.quantity, data.lot, at.date())
        transfer = Transfer(context=context, from_depot_id=src.id, to_depot_id=dst.id,
                            item_id=item.id, quantity=data.quantity,
                            status=TransferStatus.IN_TRANSIT.value, note=data.note, sent_at=at)
        s.add(transfer)
        s.flush()
        posting = Posting(EntryKind.TRANSFER_OUT, actor, at, transfer_id=transfer.id,
                          destination_ref=dst.code, note=data.note)
        for lot, take in picks:
            s.add(TransferLine(transfer_id=transfer.id, lot_id=lot.id, quantity=take))
            post(s, balances[lot.id], -take, posting)
        s.flush()
        body = transfer_dict(s, transfer)
        emit(s, context=context, type="stock.transfer_sent", actor=actor, payload=body,
             subject=("stock_transfer", transfer.id))
        return body


def receive_transfer(*, transfer_id: int, data: ReceiveTransferIn | None = None, actor: Actor,
                     context: str = LIVE) -> dict[str, Any]:
    """Book an in-transit transfer into its destination depot, lot by lot."""
    note = data.note if data else ""
    with db.unit_of_work() as s:
        at = now_in(s, context)
        transfer = s.scalar(select(Transfer).where(
            Transfer.id == transfer_id, Transfer.context == context).with_for_update())
        if transfer is None:
            raise NotFound(_l("No such transfer."))
        if transfer.status != TransferStatus.IN_TRANSIT.value:
            raise Conflict(_l("Transfer %(id)d was already received.", id=transfer_id))
        dst = s.get(Depot, transfer.to_depot_id)
        src = s.get(Depot, transfer.from_depot_id)
        item = s.get(Item, transfer.item_id)
        assert dst and src and item
        lines = s.execute(select(TransferLine, Lot).join(Lot, Lot.id == TransferLine.lot_id)
                          .where(TransferLine.transfer_id == transfer.id)
                          .order_by(TransferLine.lot_id)).all()
        posting = Posting(EntryKind.TRANSFER_IN, actor, at, transfer_id=transfer.id,
                          destination_ref=src.code, note=note)
        entries = []
        for line, lot in lines:
            balance = lock_balance(s, context, dst.id, item.id, lot.id)
            entries.append((post(s, balance, line.quantity, posting), lot))
        transfer.status = TransferStatus.RECEIVED.value
        transfer.received_at = at
        s.flush()
        body = transfer_dict(s, transfer)
        body["entries"] = [entry_dict(e, dst, item, lot) for e, lot in entries]
        emit(s, context=context, type="stock.transfer_received", actor=actor, payload=body,
             subject=("stock_transfer", transfer.id))
        return body


def list_transfers(*, status: TransferStatus | None = None, context: str = LIVE,
                   limit: int = 200) -> list[dict[str, Any]]:
    with db.reading() as s:
        stmt = select(Transfer).where(Transfer.context == context)
        if status is not None:
            stmt = stmt.where(Transfer.status == status.value)
        rows = s.scalars(stmt.order_by(Transfer.id.desc()).limit(limit)).all()
        return [transfer_dict(s, t) for t in rows]
