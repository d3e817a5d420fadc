"""Stock rows: depots, the item catalogue, lots, the append-only ledger and balances.

The ledger is the truth and is never updated or deleted; a correction is a new
entry. ``stock_balances`` holds one row per (context, depot, item, lot) and is
changed in the same transaction as every ledger entry, so a balance is one
indexed read instead of a sum over millions of entries. Quantities are whole
units of issue (a box of 50 masks is one unit when the unit of issue is the
box), stored as BigInteger so no sum ever overflows. Positions are WGS-84
lon/lat columns (DESIGN.md, Geography).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Category(StrEnum):
    PPE = "ppe"
    DISINFECTANT = "disinfectant"
    TEST_KITS = "test_kits"
    DRUGS = "drugs"
    OXYGEN = "oxygen"
    EQUIPMENT = "equipment"


CATEGORY_LABELS = {
    Category.PPE: _l("Personal protective equipment"),
    Category.DISINFECTANT: _l("Disinfectants"),
    Category.TEST_KITS: _l("Test kits"),
    Category.DRUGS: _l("Drugs"),
    Category.OXYGEN: _l("Oxygen"),
    Category.EQUIPMENT: _l("Equipment"),
}


class EntryKind(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    ADJUSTMENT = "adjustment"
    COUNT = "count"


ENTRY_LABELS = {
    EntryKind.RECEIPT: _l("Receipt"),
    EntryKind.ISSUE: _lp("stock movement", "Issue"),
    EntryKind.TRANSFER_OUT: _l("Transfer out"),
    EntryKind.TRANSFER_IN: _l("Transfer in"),
    EntryKind.ADJUSTMENT: _l("Adjustment"),
    EntryKind.COUNT: _l("Physical count"),
}


class DestinationKind(StrEnum):
    INCIDENT = "incident"
    FACILITY = "facility"
    ISOLATION_POINT = "isolation_point"
    TEAM = "team"


DESTINATION_LABELS = {
    DestinationKind.INCIDENT: _l("Incident"),
    DestinationKind.FACILITY: _l("Facility"),
    DestinationKind.ISOLATION_POINT: _l("Isolation / observation point"),
    DestinationKind.TEAM: _l("Team"),
}


class AdjustmentReason(StrEnum):
    DAMAGED = "damaged"
    EXPIRED = "expired"
    FOUND = "found"
    OTHER = "other"


REASON_LABELS = {
    AdjustmentReason.DAMAGED: _l("Damaged"),
    AdjustmentReason.EXPIRED: _l("Expired"),
    AdjustmentReason.FOUND: _l("Found"),
    AdjustmentReason.OTHER: _l("Other"),
}


class ResponseLevel(StrEnum):
    """Plan response levels; ``ANY`` is the target that applies when none is given."""

    ANY = ""
    I = "I"  # noqa: E741 - the plans' own numbering
    II = "II"
    III = "III"
    IV = "IV"


class TargetMode(StrEnum):
    QUANTITY = "quantity"
    DAYS = "days"


TARGET_MODE_LABELS = {
    TargetMode.QUANTITY: _l("Quantity"),
    TargetMode.DAYS: _l("Days of cover"),
}


class TransferStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHIPPED = "shipped"
    RECEIVED = "received"


REQUEST_LABELS = {
    RequestStatus.REQUESTED: _l("Requested"),
    RequestStatus.APPROVED: _l("Approved"),
    RequestStatus.REJECTED: _l("Rejected"),
    RequestStatus.SHIPPED: _l("Shipped"),
    RequestStatus.RECEIVED: _l("Received"),
}


class Depot(Base):
    __tablename__ = "stock_depots"
    __table_args__ = (UniqueConstraint("context", "code", name="uq_stock_depots_context_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    area_code: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.code"), nullable=True)


class Item(Base):
    __tablename__ = "stock_items"
    __table_args__ = (UniqueConstraint("context", "code", name="uq_stock_items_context_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(40))
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)


class Lot(Base):
    __tablename__ = "stock_lots"
    __table_args__ = (UniqueConstraint("item_id", "lot_number", name="uq_stock_lots_item_lot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    lot_number: Mapped[str] = mapped_column(String(60))
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)


class Balance(Base):
    """Book quantity per lot at a depot; only ledger postings change it."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        Index("ix_stock_balances_depot_item", "context", "depot_id", "item_id"),
        Index("ix_stock_balances_item", "context", "item_id"),
    )

    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"), primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("stock_depots.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lots.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerEntry(Base):
    """One movement of one lot at one depot; ``quantity`` is the signed change."""

    __tablename__ = "stock_ledger"
    __table_args__ = (
        Index("ix_stock_ledger_card", "context", "depot_id", "item_id", "id"),
        # Covers the burn-rate scan: issues in a time window, summed per depot and item.
        Index("ix_stock_ledger_burn", "context", "kind", "occurred_at", "depot_id",
              "item_id", "quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    kind: Mapped[str] = mapped_column(String(16))
    depot_id: Mapped[int] = mapped_column(ForeignKey("stock_depots.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lots.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    counted: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    destination_kind: Mapped[str | None] = mapped_column(String(24), nullable=True)
    destination_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    transfer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Transfer(Base):
    """Stock between two depots: out of the source at send, into the destination at receipt."""

    __tablename__ = "stock_transfers"
    __table_args__ = (Index("ix_stock_transfers_status", "context", "status", "to_depot_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    from_depot_id: Mapped[int] = mapped_column(ForeignKey("stock_depots.id"))
    to_depot_id: Mapped[int] = mapped_column(ForeignKey("stock_depots.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TransferLine(Base):
    __tablename__ = "stock_transfer_lines"

    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfers.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lots.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)


class Target(Base):
    """A reserve target (储备定额): a quantity, or days of cover at the current burn rate."""

    __tablename__ = "stock_targets"
    __table_args__ = (
        UniqueConstraint("context", "depot_id", "item_id", "level",
                         name="uq_stock_targets_context_depot_item_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    depot_id: Mapped[int] = mapped_column(ForeignKey("stock_depots.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    level: Mapped[str] = mapped_column(String(4), default="")
    mode: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reservation(Base):
    """Stock set aside at a depot for an incident: on hand, but no longer available."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        Index("ix_stock_reservations_active", "context", "status", "depot_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    depot_id: Mapped[int] = mapped_column(ForeignKey("stock_depots.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    incident_ref: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockRequest(Base):
    """A request for items from an incident, a facility or a liaison officer."""

    __tablename__ = "stock_requests"
    __table_args__ = (Index("ix_stock_requests_context_status", "context", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    status: Mapped[str] = mapped_column(String(16))
    destination_kind: Mapped[str] = mapped_column(String(24))
    destination_ref: Mapped[str] = mapped_column(String(120))
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_depots.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    requester_kind: Mapped[str] = mapped_column(String(16))
    requester_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    requester_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RequestLine(Base):
    __tablename__ = "stock_request_lines"

    request_id: Mapped[int] = mapped_column(ForeignKey("stock_requests.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), primary_key=True)
    requested: Mapped[int] = mapped_column(BigInteger)
    approved: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shipped: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    received: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
