"""Contexts separate live work from each drill run, and carry each one's clock.

Every event and every domain row belongs to one context. ``live`` always
exists; a drill run gets its own, with a clock that may run accelerated. The
context row also holds the event counter, so sequence numbers are gap-free per
context and commit in order (the counter row is locked until commit).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Float, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .clock import Clock, DrillClock, RealClock
from .db import Base, UTCDateTime, utcnow
from .errors import NotFound

LIVE = "live"


class ContextKind:
    LIVE = "live"
    DRILL = "drill"


class Context(Base):
    __tablename__ = "contexts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200), default="")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    clock_speed: Mapped[float] = mapped_column(Float, default=1.0)
    clock_anchor_real: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    clock_anchor_sim: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    clock_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_drill(self) -> bool:
        return self.kind == ContextKind.DRILL

    def clock(self) -> Clock:
        return clock_from_row(
            self.kind, self.clock_anchor_real, self.clock_anchor_sim,
            self.clock_speed, self.clock_paused,
        )

    def store_clock(self, clock: DrillClock) -> None:
        self.clock_anchor_real = clock.anchor_real
        self.clock_anchor_sim = clock.anchor_sim
        self.clock_speed = clock.speed
        self.clock_paused = clock.paused


def clock_from_row(
    kind: str,
    anchor_real: datetime | None,
    anchor_sim: datetime | None,
    speed: float,
    paused: bool,
) -> Clock:
    if kind != ContextKind.DRILL or anchor_real is None or anchor_sim is None:
        return RealClock()
    return DrillClock(anchor_real=anchor_real, anchor_sim=anchor_sim, speed=speed, paused=paused)


def context_row(session: Session, name: str) -> Context:
    """The context a service works in, or 404: every service asks this one place."""
    ctx = session.get(Context, name)
    if ctx is None:
        raise NotFound(_l("No such context."))
    return ctx


def get_clock(session: Session, name: str) -> Clock:
    """The clock a service must read for a change in context ``name``."""
    ctx = session.get(Context, name)
    if ctx is None:
        raise LookupError(name)
    return ctx.clock()


def context_names(session: Session) -> list[str]:
    return list(session.scalars(select(Context.name).order_by(Context.created_at)))
