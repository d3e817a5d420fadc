"""What each kind of inject does, through the same services live work uses.

An inject never writes rows itself: a unit breaking down is
``units.set_status`` in the run's context, a facility filling up is a capacity
report, lost stock is a stock adjustment. So players see exactly what they
would see live, and the event log of the run records it the same way.
Domain packages that land later (incidents, the roster) register their own
inject kinds here; a scenario naming a kind nobody registered fails validation.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ..errors import NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from .scenario import InjectType

Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class InjectKind:
    """A registered inject: its payload schema (checked at validation) and its handler.

    A handler is called as ``handler(context=, payload=, actor=, earlier=)``, where
    ``earlier`` maps the numbers of injects already fired to what they produced (so
    a case can be confirmed for the incident inject 1 reported). ``None`` means the
    inject only delivers its message: the drill records it in one transaction.
    """

    type: InjectType
    payload: builtins.type[BaseModel]  # `type` is the field above
    handler: Handler | None


REGISTRY: dict[str, InjectKind] = {}


def register(type_: InjectType, payload: type[BaseModel], handler: Handler | None) -> None:
    REGISTRY[type_.value] = InjectKind(type_, payload, handler)


class InjectPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MessagePayload(InjectPayload):
    """A phone call or message to a player: delivered to their feed, nothing else changes."""


class DeliveryLatePayload(InjectPayload):
    depot: str = Field(min_length=1)
    item: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    delay_hours: float = Field(gt=0)


class UnitBreakdownPayload(InjectPayload):
    call_sign: str = Field(min_length=1)
    note: str = ""


class FacilityFullPayload(InjectPayload):
    code: str = Field(min_length=1)
    note: str = ""


class StockLostPayload(InjectPayload):
    depot: str = Field(min_length=1)
    item: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    reason: str = Field(default="damaged", pattern="^(damaged|expired|other)$")
    note: str = ""


def _unit_breakdown(*, context: str, payload: UnitBreakdownPayload, actor: Actor,
                    **_: Any) -> dict[str, Any]:
    from ..units import service as units
    from ..units.models import Unit, UnitStatus
    from ..units.schemas import StatusIn

    with db.reading() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.context == context,
                                                 Unit.call_sign == payload.call_sign))
    if unit_id is None:
        raise NotFound(_l("No unit with call sign %(c)s in this drill.", c=payload.call_sign))
    units.set_status(unit_id=unit_id, actor=actor, context=context,
                     data=StatusIn(status=UnitStatus.OUT_OF_SERVICE,
                                   note=payload.note or "drill inject: breakdown"))
    return {"unit_id": unit_id}


def _facility_full(*, context: str, payload: FacilityFullPayload, actor: Actor,
                   **_: Any) -> dict[str, Any]:
    from ..facilities import service as facilities
    from ..facilities.models import Facility
    from ..facilities.schemas import CapacityReportIn

    with db.reading() as s:
        f = s.scalar(select(Facility).where(Facility.context == context,
                                            Facility.code == payload.code))
    if f is None:
        raise NotFound(_l("No facility with code %(c)s in this drill.", c=payload.code))
    figures = {k: {"capacity": v.get("capacity", 0), "occupied": v.get("capacity", 0)}
               for k, v in (f.figures or {}).items()}
    facilities.report_capacity(
        facility_id=f.id, actor=actor, context=context,
        data=CapacityReportIn.model_validate(
            {"status": "full", "figures": figures, "note": payload.note or "drill inject"}))
    return {"facility_id": f.id}


def _stock_lost(*, context: str, payload: StockLostPayload, actor: Actor,
                **_: Any) -> dict[str, Any]:
    """Lose stock from the lots with most on hand first, as a written-down adjustment."""
    from ..stock import service as stock
    from ..stock.models import AdjustmentReason
    from ..stock.schemas import AdjustmentIn

    lots = sorted(stock.balances(depot=payload.depot, item=payload.item, context=context),
                  key=lambda b: -b["quantity"])
    left = payload.quantity
    if sum(b["quantity"] for b in lots) < left:
        raise ValidationFailed(_l("The depot holds less than the inject would lose."))
    entries = []
    for b in lots:
        if left <= 0:
            break
        take = min(left, b["quantity"])
        entries.append(stock.adjust_stock(context=context, actor=actor, data=AdjustmentIn(
            depot=payload.depot, item=payload.item, lot=b["lot"], quantity=-take,
            reason=AdjustmentReason(payload.reason),
            note=payload.note or "drill inject: stock lost")))
        left -= take
    return {"entries": [e.get("id") for e in entries]}


register(InjectType.MESSAGE, MessagePayload, None)
register(InjectType.DELIVERY_LATE, DeliveryLatePayload, None)
register(InjectType.UNIT_BREAKDOWN, UnitBreakdownPayload, _unit_breakdown)
register(InjectType.FACILITY_FULL, FacilityFullPayload, _facility_full)
register(InjectType.STOCK_LOST, StockLostPayload, _stock_lost)
