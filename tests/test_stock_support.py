"""Factories shared by the stock tests (a module of helpers; its one test checks them).

Kept in a ``test_stock_*`` module so the stock work stays within its own files;
the helpers call the real services against the real test database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from coordination.contexts import LIVE, Context
from coordination.events import Actor
from coordination.extensions import db
from coordination.stock import service as stock
from coordination.stock.models import Balance, LedgerEntry
from coordination.stock.schemas import (
    DepotIn,
    IssueIn,
    ItemIn,
    ReceiptIn,
    TargetIn,
)

ACTOR = Actor.system("test")

# Real places around Ulanqab (WGS-84), so nearest-first is checkable by eye.
JINING = (113.123, 41.000)
FENGZHEN = (113.110, 40.437)   # ~62 km south of Jining
ZHUOZI = (112.577, 40.894)     # ~47 km west of Jining
HUADE = (114.010, 41.904)      # ~125 km north-east of Jining


def today() -> date:
    return datetime.now(UTC).date()


def soon(days: int) -> date:
    return today() + timedelta(days=days)


def make_depot(code: str, where: tuple[float, float] = JINING, context: str = LIVE,
               **kw: Any) -> dict[str, Any]:
    return stock.save_depot(data=DepotIn(code=code, name_zh=f"{code}库", name_en=f"{code} depot",
                                         lon=where[0], lat=where[1], **kw),
                            actor=ACTOR, context=context)


def make_item(code: str, context: str = LIVE, **kw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"name_zh": f"{code}物资", "name_en": code, "category": "ppe",
                              "unit": "box", "shelf_life_days": 730}
    fields.update(kw)
    return stock.save_item(data=ItemIn(code=code, **fields), actor=ACTOR, context=context)


def receive(depot: str, item: str, lot: str, quantity: int, expiry: date | None = None,
            context: str = LIVE) -> dict[str, Any]:
    return stock.receive_stock(data=ReceiptIn(depot=depot, item=item, lot=lot, quantity=quantity,
                                              expiry=expiry or soon(365)),
                               actor=ACTOR, context=context)


def issue(depot: str, item: str, quantity: int, lot: str | None = None, context: str = LIVE,
          **kw: Any) -> dict[str, Any]:
    return stock.issue_stock(data=IssueIn(depot=depot, item=item, quantity=quantity, lot=lot,
                                          destination_kind=kw.pop("destination_kind", "incident"),
                                          destination_ref=kw.pop("destination_ref", "INC-1"),
                                          **kw), actor=ACTOR, context=context)


def target(depot: str, item: str, quantity: int | None = None, days: int | None = None,
           level: str = "", context: str = LIVE) -> dict[str, Any]:
    mode = "days" if days is not None else "quantity"
    return stock.set_target(data=TargetIn(depot=depot, item=item, quantity=quantity, days=days,
                                          mode=mode, level=level), actor=ACTOR, context=context)


def on_hand(depot: str, item: str, lot: str | None = None, context: str = LIVE) -> int:
    return sum(b["quantity"] for b in stock.balances(depot=depot, item=item, context=context)
               if lot is None or b["lot"] == lot)


def make_drill(name: str, at: datetime) -> str:
    """A drill context whose (paused) clock reads ``at``: time the test can move."""
    with db.unit_of_work() as s:
        s.add(Context(name=name, kind="drill", title=name, last_seq=0, clock_speed=1.0,
                      clock_anchor_real=datetime.now(UTC), clock_anchor_sim=at,
                      clock_paused=True))
    return name


def set_time(name: str, at: datetime) -> None:
    with db.unit_of_work() as s:
        ctx = s.get(Context, name)
        assert ctx is not None
        ctx.clock_anchor_sim = at


def book_state() -> tuple[list[tuple[Any, ...]], int]:
    """Every balance row and the ledger's length: equal before and after means nothing moved."""
    with db.reading() as s:
        rows = s.execute(select(Balance.depot_id, Balance.item_id, Balance.lot_id,
                                Balance.quantity).order_by(Balance.depot_id, Balance.item_id,
                                                           Balance.lot_id)).all()
        count = s.scalar(select(func.count()).select_from(LedgerEntry)) or 0
    return [tuple(r) for r in rows], int(count)


def ledger_matches_balances() -> bool:
    """The invariant: every balance equals the sum of its ledger entries."""
    with db.reading() as s:
        sums = {tuple(r[:3]): int(r[3]) for r in s.execute(
            select(LedgerEntry.depot_id, LedgerEntry.item_id, LedgerEntry.lot_id,
                   func.sum(LedgerEntry.quantity))
            .group_by(LedgerEntry.depot_id, LedgerEntry.item_id, LedgerEntry.lot_id))}
        balances = {tuple(r[:3]): int(r[3]) for r in s.execute(
            select(Balance.depot_id, Balance.item_id, Balance.lot_id, Balance.quantity))}
    return sums == {k: v for k, v in balances.items() if v or k in sums}


def test_factories_build_a_depot_with_stock(app):
    make_depot("D1")
    make_item("N95")
    receive("D1", "N95", "L1", 10)
    assert on_hand("D1", "N95") == 10
    assert ledger_matches_balances()
