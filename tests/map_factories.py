"""Factories for facilities, units and places (the live map's tests)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import select

from coordination.events import Actor
from coordination.extensions import db
from coordination.facilities import service as facilities
from coordination.facilities.models import Facility
from coordination.facilities.schemas import CapacityReportIn, NewFacility
from coordination.geo.region import BBox
from coordination.geo.service import AreaIn, upsert_areas
from coordination.units import service as units
from coordination.units.models import Unit
from coordination.units.schemas import NewUnit

ACTOR = Actor.system("test")
REGION = BBox.parse("97.0,37.2,126.3,53.6")
JINING = (113.123, 41.000)
_n = itertools.count(1)


def area() -> str:
    upsert_areas(areas=[AreaIn(code="150902", name_zh="集宁区", name_en="Jining District",
                               level="district", lon=JINING[0], lat=JINING[1],
                               population=360_000)], actor=ACTOR)
    return "150902"


def facility(*, name: str | None = None, kind: str = "fever_clinic", lon: float = JINING[0],
             lat: float = JINING[1], initial: dict[str, Any] | None = None,
             reported_at: datetime | None = None, **kw: Any) -> Facility:
    code = kw.pop("code", f"F-{next(_n)}")
    item = NewFacility(code=code, name=name or f"发热门诊 {code}", kind=kind, lon=lon, lat=lat,
                       initial=CapacityReportIn.model_validate(initial) if initial else None,
                       **kw)
    facilities.create_facilities(items=[item], actor=ACTOR, region=REGION,
                                 reported_at={code: reported_at} if reported_at else None)
    with db.reading() as s:
        return s.scalars(select(Facility).where(Facility.code == code)).one()


def unit(*, call_sign: str | None = None, lon: float = JINING[0], lat: float = JINING[1],
         at: datetime | None = None, **kw: Any) -> Unit:
    sign = call_sign or f"乌120-T{next(_n)}"
    units.create_units(items=[NewUnit(call_sign=sign, lon=lon, lat=lat, at=at, **kw)],
                       actor=ACTOR, region=REGION)
    with db.reading() as s:
        return s.scalars(select(Unit).where(Unit.call_sign == sign)).one()


def get(model: Any, ident: int) -> Any:
    with db.reading() as s:
        return s.get(model, ident)
