"""The incident board as pages: filters and sorts run in the database, one page is read.

A province in a wave holds thousands of open suspected cases; rendering every one
on every view cost 5 s and 14 MB at 10,000 (issue 19). The board asks for one page
with its filters, and the live refresh asks for that same page again.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, select

from ..contexts import LIVE
from ..extensions import db
from .common import assigned_units, context_row, incident_props
from .models import OPEN_STATUSES, Incident, IncidentStatus, IncidentType, Priority

MAX_PER_PAGE = 500


class BoardSort(StrEnum):
    PRIORITY = "priority"   # most urgent first, then oldest: the triage order
    OLDEST = "oldest"
    NEWEST = "newest"
    CHANGED = "changed"     # most recently changed first


class BoardQuery(BaseModel):
    """What the board and ``GET /api/incidents`` filter on; blank means any."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    status: IncidentStatus | None = None
    type: IncidentType | None = None
    disease: str | None = Field(default=None, max_length=32)
    priority: Priority | None = None
    all: bool = False  # closed and cancelled too
    sort: BoardSort = BoardSort.PRIORITY
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=100, ge=1, le=MAX_PER_PAGE)

    @field_validator("status", "type", "disease", "priority", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value

    def filters(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them), without the page."""
        out = {"status": self.status, "type": self.type, "disease": self.disease,
               "priority": self.priority.value if self.priority else None,
               "all": "1" if self.all else None,
               "sort": self.sort if self.sort is not BoardSort.PRIORITY else None,
               "per_page": self.per_page if self.per_page != 100 else None}
        return {k: str(v) for k, v in out.items() if v is not None}


_ORDER = {
    BoardSort.PRIORITY: (Incident.priority, Incident.logged_at, Incident.id),
    BoardSort.OLDEST: (Incident.logged_at, Incident.id),
    BoardSort.NEWEST: (Incident.logged_at.desc(), Incident.id.desc()),
    BoardSort.CHANGED: (Incident.status_at.desc(), Incident.id.desc()),
}


def _where(q: Select[Any], context: str, f: BoardQuery) -> Select[Any]:
    q = q.where(Incident.context == context)
    if f.status is not None:
        q = q.where(Incident.status == f.status.value)
    elif not f.all:
        q = q.where(Incident.status.in_(OPEN_STATUSES))
    if f.type is not None:
        q = q.where(Incident.type == f.type.value)
    if f.disease:
        q = q.where(Incident.disease == f.disease)
    if f.priority is not None:
        q = q.where(Incident.priority == f.priority.value)
    return q


def page_incidents(*, context: str = LIVE, query: BoardQuery | None = None) -> dict[str, Any]:
    """One page of the board: its rows, the count behind the filters and the page count."""
    f = query or BoardQuery()
    with db.reading() as s:
        now = context_row(s, context).clock().now()
        total = s.scalar(_where(select(func.count(Incident.id)), context, f)) or 0
        pages = max(1, math.ceil(total / f.per_page))
        rows = list(s.scalars(_where(select(Incident), context, f)
                              .order_by(*_ORDER[f.sort])
                              .offset((f.page - 1) * f.per_page).limit(f.per_page)))
        assigned = assigned_units(s, [i.id for i in rows])
        return {"incidents": [incident_props(i, assigned[i.id], now) for i in rows],
                "total": total, "page": f.page, "pages": pages, "per_page": f.per_page}
