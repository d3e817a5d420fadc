"""The ledger at the service level: FEFO, expiry, no negative stock, counts, adjustments,
transfers in transit, reservations — each against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordination.errors import Conflict, NotFound, ValidationFailed
from coordination.events import Event
from coordination.extensions import db
from coordination.stock import service as stock
from coordination.stock import transfers as transfers_module
from coordination.stock.models import LedgerEntry, Transfer
from coordination.stock.schemas import (
    AdjustmentIn,
    CountIn,
    ReservationIn,
    TransferIn,
)

from .test_stock_support import (
    ACTOR,
    FENGZHEN,
    JINING,
    book_state,
    issue,
    ledger_matches_balances,
    make_depot,
    make_drill,
    make_item,
    on_hand,
    receive,
    set_time,
    soon,
)


@pytest.fixture
def depot_with_lots(app):
    """Depot D1 with three lots of N95 expiring at 200, 50 and 100 days."""
    make_depot("D1", JINING)
    make_depot("D2", FENGZHEN)
    make_item("N95")
    receive("D1", "N95", "LATE", 30, soon(200))
    receive("D1", "N95", "EARLY", 10, soon(50))
    receive("D1", "N95", "MID", 20, soon(100))
    return "D1"


def test_fefo_takes_the_first_expiring_lots(depot_with_lots):
    result = issue("D1", "N95", 25)
    assert [(ln["lot"], -ln["quantity"]) for ln in result["lines"]] == [("EARLY", 10), ("MID", 15)]
    assert on_hand("D1", "N95", "EARLY") == 0
    assert on_hand("D1", "N95", "MID") == 5
    assert on_hand("D1", "N95", "LATE") == 30
    assert ledger_matches_balances()


def test_an_explicit_lot_overrides_fefo(depot_with_lots):
    result = issue("D1", "N95", 5, lot="LATE")
    assert [(ln["lot"], ln["quantity"]) for ln in result["lines"]] == [("LATE", -5)]
    assert on_hand("D1", "N95", "EARLY") == 10


def test_stock_never_goes_below_zero(depot_with_lots):
    before = book_state()
    with pytest.raises(Conflict) as err:
        issue("D1", "N95", 61)
    assert "60" in str(err.value.message)
    with pytest.raises(Conflict):
        issue("D1", "N95", 11, lot="EARLY")
    assert book_state() == before
    issue("D1", "N95", 60)
    assert on_hand("D1", "N95") == 0
    with pytest.raises(Conflict):
        issue("D1", "N95", 1)


def test_expired_lots_are_neither_issued_nor_picked(app):
    start = datetime(2030, 1, 1, 8, tzinfo=UTC)
    ctx = make_drill("drill-expiry", start)
    make_depot("D1", context=ctx)
    make_item("KIT", context=ctx)
    receive("D1", "KIT", "OLD", 10, start.date() + timedelta(days=5), context=ctx)
    receive("D1", "KIT", "NEW", 10, start.date() + timedelta(days=90), context=ctx)
    set_time(ctx, start + timedelta(days=10))  # OLD is now expired
    with force_locale("en"):
        with pytest.raises(Conflict) as err:
            issue("D1", "KIT", 1, lot="OLD", context=ctx)
        assert "expired" in str(err.value.message)
    picked = issue("D1", "KIT", 4, context=ctx)
    assert [ln["lot"] for ln in picked["lines"]] == ["NEW"]
    with pytest.raises(Conflict):  # 6 usable left; the 10 expired do not count
        issue("D1", "KIT", 7, context=ctx)
    # A drill never touches live: live has no such depot.
    with pytest.raises(ValidationFailed):
        issue("D1", "KIT", 1)


def test_a_physical_count_reveals_a_loss(depot_with_lots):
    result = stock.count_stock(data=CountIn(depot="D1", item="N95", lot="MID", counted=17),
                               actor=ACTOR)
    assert result["book"] == 20 and result["quantity"] == -3 and result["counted"] == 17
    assert on_hand("D1", "N95", "MID") == 17
    card = stock.stock_card(depot="D1", item="N95")
    assert card["entries"][-1]["kind"] == "count" and card["entries"][-1]["quantity"] == -3
    assert card["balance"] == 57
    assert ledger_matches_balances()


def test_a_count_of_a_lot_that_does_not_exist_is_refused(depot_with_lots):
    before = book_state()
    with pytest.raises(ValidationFailed) as err:
        stock.count_stock(data=CountIn(depot="D1", item="N95", lot="NOPE", counted=3),
                          actor=ACTOR)
    assert "NOPE" in str(err.value.message)
    assert book_state() == before


def test_adjustments_carry_a_reason_and_never_go_negative(depot_with_lots):
    stock.adjust_stock(data=AdjustmentIn(depot="D1", item="N95", lot="EARLY", quantity=-4,
                                         reason="damaged"), actor=ACTOR)
    assert on_hand("D1", "N95", "EARLY") == 6
    with pytest.raises(Conflict):
        stock.adjust_stock(data=AdjustmentIn(depot="D1", item="N95", lot="EARLY", quantity=-7,
                                             reason="expired"), actor=ACTOR)
    with pytest.raises(ValidationFailed):
        stock.adjust_stock(data=AdjustmentIn(depot="D1", item="N95", lot="EARLY", quantity=0,
                                             reason="other"), actor=ACTOR)
    card = stock.stock_card(depot="D1", item="N95")
    assert [e["reason"] for e in card["entries"] if e["kind"] == "adjustment"] == ["damaged"]


def test_a_transfer_is_in_transit_then_received(depot_with_lots):
    sent = stock.send_transfer(data=TransferIn(from_depot="D1", to_depot="D2", item="N95",
                                               quantity=12), actor=ACTOR)
    assert sent["status"] == "in_transit"
    assert [(ln["lot"], ln["quantity"]) for ln in sent["lines"]] == [("EARLY", 10), ("MID", 2)]
    assert on_hand("D1", "N95") == 48 and on_hand("D2", "N95") == 0
    gap = {(r["depot"], r["item"]): r for r in stock.gap_report()["rows"]}
    assert gap[("D2", "N95")]["in_transit"] == 12
    got = stock.receive_transfer(transfer_id=sent["id"], actor=ACTOR)
    assert got["status"] == "received"
    assert on_hand("D2", "N95", "EARLY") == 10 and on_hand("D2", "N95", "MID") == 2
    gap = {(r["depot"], r["item"]): r for r in stock.gap_report()["rows"]}
    assert gap[("D2", "N95")]["in_transit"] == 0
    with pytest.raises(Conflict):
        stock.receive_transfer(transfer_id=sent["id"], actor=ACTOR)
    with pytest.raises(NotFound):
        stock.receive_transfer(transfer_id=999999, actor=ACTOR)
    assert ledger_matches_balances()


def test_a_transfer_to_the_same_depot_is_refused(depot_with_lots):
    before = book_state()
    with pytest.raises(ValidationFailed):
        stock.send_transfer(data=TransferIn(from_depot="D1", to_depot="D1", item="N95",
                                            quantity=1), actor=ACTOR)
    assert book_state() == before


def _crash(*_args, **_kwargs):
    raise RuntimeError("power cut after the stock left the shelf")


def test_a_crash_mid_transfer_leaves_nothing_half_done(depot_with_lots, monkeypatch):
    before = book_state()
    with db.reading() as s:
        events_before = s.scalar(select(func.count()).select_from(Event))
    # The failure strikes after the transfer_out postings, before commit.
    monkeypatch.setattr(transfers_module, "emit", _crash)
    with pytest.raises(RuntimeError):
        stock.send_transfer(data=TransferIn(from_depot="D1", to_depot="D2", item="N95",
                                            quantity=12), actor=ACTOR)
    assert book_state() == before
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Transfer)) == 0
        assert s.scalar(select(func.count()).select_from(Event)) == events_before
    monkeypatch.undo()
    sent = stock.send_transfer(data=TransferIn(from_depot="D1", to_depot="D2", item="N95",
                                               quantity=12), actor=ACTOR)
    # And a crash while receiving leaves it in transit: out of D1, not yet in D2, not lost.
    monkeypatch.setattr(transfers_module, "emit", _crash)
    with pytest.raises(RuntimeError):
        stock.receive_transfer(transfer_id=sent["id"], actor=ACTOR)
    monkeypatch.undo()
    assert on_hand("D1", "N95") == 48 and on_hand("D2", "N95") == 0
    assert stock.list_transfers()[0]["status"] == "in_transit"
    stock.receive_transfer(transfer_id=sent["id"], actor=ACTOR)
    assert on_hand("D1", "N95") + on_hand("D2", "N95") == 60
    assert ledger_matches_balances()


def test_a_reservation_is_no_longer_available(depot_with_lots):
    r = stock.reserve_stock(data=ReservationIn(depot="D1", item="N95", quantity=50,
                                               incident_ref="INC-7"), actor=ACTOR)
    row = {(x["depot"], x["item"]): x for x in stock.gap_report()["rows"]}[("D1", "N95")]
    assert (row["on_hand"], row["reserved"], row["available"]) == (60, 50, 10)
    with pytest.raises(Conflict):
        issue("D1", "N95", 11)
    with pytest.raises(Conflict):
        stock.reserve_stock(data=ReservationIn(depot="D1", item="N95", quantity=11,
                                               incident_ref="INC-8"), actor=ACTOR)
    # An issue against the reservation may take the reserved stock, and uses it up.
    issue("D1", "N95", 30, reservation_id=r["id"], destination_ref="INC-7")
    assert stock.list_reservations()[0]["quantity"] == 20
    issue("D1", "N95", 10)
    with pytest.raises(Conflict):
        issue("D1", "N95", 1)
    stock.release_reservation(reservation_id=r["id"], actor=ACTOR)
    assert stock.list_reservations() == []
    issue("D1", "N95", 20)
    assert on_hand("D1", "N95") == 0


def test_every_movement_is_an_event_and_the_ledger_is_append_only(depot_with_lots):
    issue("D1", "N95", 1)
    stock.count_stock(data=CountIn(depot="D1", item="N95", lot="MID", counted=20), actor=ACTOR)
    with db.reading() as s:
        types = list(s.scalars(select(Event.type).where(Event.type.like("stock.%"))
                               .order_by(Event.seq)))
        entries = s.scalar(select(func.count()).select_from(LedgerEntry))
    assert types.count("stock.received") == 3
    assert types[-2:] == ["stock.issued", "stock.counted"]
    assert entries == 5  # a count with no difference is still recorded
