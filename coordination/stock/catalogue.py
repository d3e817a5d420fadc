"""Depots and the item catalogue: create or update by code, list for screens and the API."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..contexts import LIVE
from ..errors import ValidationFailed
from ..events import Actor
from ..extensions import db
from ..geo.models import AdminArea
from .common import context_row, emit
from .models import Depot, Item
from .schemas import DepotIn, ItemIn


def depot_dict(d: Depot) -> dict[str, Any]:
    return {
        "id": d.id, "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en,
        "lon": d.lon, "lat": d.lat, "owner": d.owner, "contact_name": d.contact_name,
        "contact_phone": d.contact_phone, "area": d.area_code,
    }


def item_dict(i: Item) -> dict[str, Any]:
    return {
        "id": i.id, "code": i.code, "name_zh": i.name_zh, "name_en": i.name_en,
        "category": i.category, "unit": i.unit, "pack_size": i.pack_size,
        "shelf_life_days": i.shelf_life_days, "critical": i.critical,
    }


def save_depot(*, data: DepotIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Create the depot with this code, or update it (codes are how imports name depots)."""
    with db.unit_of_work() as s:
        context_row(s, context)
        if data.area is not None and s.get(AdminArea, data.area) is None:
            raise ValidationFailed(_l("Unknown area %(code)s.", code=data.area))
        depot = s.scalar(select(Depot).where(Depot.context == context, Depot.code == data.code))
        if depot is None:
            depot = Depot(context=context, code=data.code)
            s.add(depot)
        depot.name_zh, depot.name_en = data.name_zh, data.name_en
        depot.lon, depot.lat = data.lon, data.lat
        depot.owner, depot.contact_name = data.owner, data.contact_name
        depot.contact_phone, depot.area_code = data.contact_phone, data.area
        s.flush()
        body = depot_dict(depot)
        emit(s, context=context, type="stock.depot_saved", actor=actor, payload=body,
             subject=("stock_depot", depot.id))
        return body


def save_item(*, data: ItemIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Create the catalogue item with this code, or update it."""
    with db.unit_of_work() as s:
        context_row(s, context)
        item = s.scalar(select(Item).where(Item.context == context, Item.code == data.code))
        if item is None:
            item = Item(context=context, code=data.code)
            s.add(item)
        item.name_zh, item.name_en = data.name_zh, data.name_en
        item.category, item.unit = data.category.value, data.unit
        item.pack_size, item.shelf_life_days = data.pack_size, data.shelf_life_days
        item.critical = data.critical
        s.flush()
        body = item_dict(item)
        emit(s, context=context, type="stock.item_saved", actor=actor, payload=body,
             subject=("stock_item", item.id))
        return body


def list_depots(*, context: str = LIVE) -> list[dict[str, Any]]:
    with db.reading() as s:
        rows = s.scalars(select(Depot).where(Depot.context == context).order_by(Depot.code))
        return [depot_dict(d) for d in rows]


def list_items(*, context: str = LIVE) -> list[dict[str, Any]]:
    with db.reading() as s:
        rows = s.scalars(select(Item).where(Item.context == context).order_by(Item.code))
        return [item_dict(i) for i in rows]
