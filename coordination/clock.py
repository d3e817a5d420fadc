"""The clock services read: real time for live work, an accelerated one for drills.

Services never call ``datetime.now`` themselves, so a drill can run its whole
scenario at 10x or 60x through the very code that serves live incidents, and a
test can step time deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

RealTimeSource = Callable[[], datetime]


def wall_now() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class RealClock:
    source: RealTimeSource = wall_now

    def now(self) -> datetime:
        return self.source()


@dataclass(frozen=True)
class DrillClock:
    """Scenario time = anchor_sim + (real - anchor_real) * speed, frozen while paused.

    Every change of speed or pause re-anchors, so scenario time never jumps.
    The state is plain data so it can be stored on the context row and every
    server process computes the same time.
    """

    anchor_real: datetime
    anchor_sim: datetime
    speed: float = 1.0
    paused: bool = False
    source: RealTimeSource = wall_now

    def now(self) -> datetime:
        if self.paused:
            return self.anchor_sim
        elapsed = (self.source() - self.anchor_real).total_seconds()
        return self.anchor_sim + timedelta(seconds=elapsed * self.speed)

    def _reanchor(self) -> DrillClock:
        return replace(self, anchor_real=self.source(), anchor_sim=self.now())

    def with_speed(self, speed: float) -> DrillClock:
        if not 0 < speed <= 3600:
            raise ValueError("drill speed must be above 0 and at most 3600")
        return replace(self._reanchor(), speed=speed)

    def jumped_to(self, sim: datetime) -> DrillClock:
        """Scenario time set forward to ``sim`` (an exercise's time jump), never back."""
        if sim < self.now():
            raise ValueError("a drill clock only jumps forward")
        return replace(self, anchor_real=self.source(), anchor_sim=sim)

    def pause(self) -> DrillClock:
        return replace(self._reanchor(), paused=True)

    def resume(self) -> DrillClock:
        return replace(self, anchor_real=self.source(), paused=False)

    def sim_time_at(self, real: datetime) -> datetime:
        """Scenario time at real time ``real`` (a scheduler reading ahead asks for a moment
        a few milliseconds off)."""
        if self.paused:
            return self.anchor_sim
        return self.anchor_sim + timedelta(
            seconds=(real - self.anchor_real).total_seconds() * self.speed)

    def real_time_of(self, sim: datetime) -> datetime:
        """When, in real time, scenario time ``sim`` will be reached (for schedulers)."""
        if self.paused:
            raise ValueError("a paused clock reaches no time")
        return self.anchor_real + timedelta(
            seconds=(sim - self.anchor_sim).total_seconds() / self.speed
        )
