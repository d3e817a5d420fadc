"""Input validation for stock: one pydantic model per service call.

Quantities are whole units of issue and strict integers: ``"5"``, ``5.5`` and
``true`` are refused rather than guessed at, so a typo never moves stock.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .models import (
    AdjustmentReason,
    Category,
    DestinationKind,
    ResponseLevel,
    TargetMode,
)

MAX_QUANTITY = 1_000_000_000

Code = Annotated[str, Field(min_length=1, max_length=40)]
LotNumber = Annotated[str, Field(min_length=1, max_length=60)]
Quantity = Annotated[int, Field(strict=True, gt=0, le=MAX_QUANTITY)]
Counted = Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]
Note = Annotated[str, Field(max_length=2000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DepotIn(_In):
    code: Code
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    owner: str = Field(default="", max_length=200)
    contact_name: str = Field(default="", max_length=120)
    contact_phone: str = Field(default="", max_length=40)
    area: str | None = Field(default=None, max_length=12)


class ItemIn(_In):
    code: Code
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    category: Category
    unit: str = Field(min_length=1, max_length=40)
    pack_size: int = Field(default=1, strict=True, ge=1, le=100_000)
    shelf_life_days: int | None = Field(default=None, strict=True, ge=1, le=36_500)
    critical: bool = False


class ReceiptIn(_In):
    depot: Code
    item: Code
    lot: LotNumber
    expiry: date | None = None
    quantity: Quantity
    note: Note = ""


class IssueIn(_In):
    depot: Code
    item: Code
    quantity: Quantity
    lot: LotNumber | None = None
    destination_kind: DestinationKind
    destination_ref: str = Field(min_length=1, max_length=120)
    reservation_id: int | None = Field(default=None, strict=True, ge=1)
    note: Note = ""


class TransferIn(_In):
    from_depot: Code
    to_depot: Code
    item: Code
    quantity: Quantity
    lot: LotNumber | None = None
    note: Note = ""


class AdjustmentIn(_In):
    depot: Code
    item: Code
    lot: LotNumber
    quantity: Annotated[int, Field(strict=True, ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
    reason: AdjustmentReason
    note: Note = ""


class CountIn(_In):
    depot: Code
    item: Code
    lot: LotNumber
    counted: Counted
    note: Note = ""


class TargetIn(_In):
    depot: Code
    item: Code
    level: ResponseLevel = ResponseLevel.ANY
    mode: TargetMode = TargetMode.QUANTITY
    quantity: Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)] | None = None
    days: Annotated[int, Field(strict=True, gt=0, le=3650)] | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> TargetIn:
        if self.mode is TargetMode.QUANTITY and (self.quantity is None or self.days is not None):
            raise ValueError("a quantity target needs quantity (and no days)")
        if self.mode is TargetMode.DAYS and (self.days is None or self.quantity is not None):
            raise ValueError("a days-of-cover target needs days (and no quantity)")
        return self


class ReservationIn(_In):
    depot: Code
    item: Code
    quantity: Quantity
    incident_ref: str = Field(min_length=1, max_length=120)
    note: Note = ""


class RequestLineIn(_In):
    item: Code
    quantity: Quantity


class RequestIn(_In):
    destination_kind: DestinationKind
    destination_ref: str = Field(min_length=1, max_length=120)
    depot: Code | None = None
    lines: list[RequestLineIn] = Field(min_length=1, max_length=100)
    note: Note = ""

    @field_validator("lines")
    @classmethod
    def _distinct_items(cls, lines: list[RequestLineIn]) -> list[RequestLineIn]:
        if len({line.item for line in lines}) != len(lines):
            raise ValueError("each item may appear once")
        return lines


class ApprovalLineIn(_In):
    item: Code
    quantity: Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]


class ApprovalIn(_In):
    """Approve all (no lines) or part (the approved quantity per item) from ``depot``."""

    depot: Code
    lines: list[ApprovalLineIn] | None = None
    note: Note = ""


class RejectIn(_In):
    note: Note = ""


class ShipIn(_In):
    note: Note = ""


class ConfirmLineIn(_In):
    item: Code
    quantity: Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]


class ConfirmIn(_In):
    """Confirm receipt: all as shipped (no lines), or what actually arrived per item."""

    lines: list[ConfirmLineIn] | None = None
    note: Note = ""


class ReceiveTransferIn(_In):
    note: Note = ""
