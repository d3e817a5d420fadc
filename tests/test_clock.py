"""The drill clock: accelerated, pausable, never jumping when re-anchored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coordination.clock import DrillClock, RealClock

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SIM0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_real_clock_reads_its_source():
    assert RealClock(source=lambda: T0).now() == T0


def test_drill_clock_runs_at_speed_pauses_and_resumes_without_jumps():
    t = FakeTime()
    clock = DrillClock(anchor_real=T0, anchor_sim=SIM0, speed=10, source=t)
    t.advance(6)
    assert clock.now() == SIM0 + timedelta(minutes=1)
    paused = clock.pause()
    t.advance(100)
    assert paused.now() == SIM0 + timedelta(minutes=1)
    resumed = paused.resume()
    assert resumed.now() == SIM0 + timedelta(minutes=1)
    t.advance(3)
    assert resumed.now() == SIM0 + timedelta(seconds=90)
    faster = resumed.with_speed(60)
    assert faster.now() == SIM0 + timedelta(seconds=90)
    t.advance(1)
    assert faster.now() == SIM0 + timedelta(seconds=150)
    assert faster.real_time_of(SIM0 + timedelta(seconds=210)) == t.now + timedelta(seconds=1)


@pytest.mark.parametrize("speed", [0, -1, 10_000])
def test_drill_clock_rejects_bad_speed(speed):
    with pytest.raises(ValueError):
        DrillClock(anchor_real=T0, anchor_sim=SIM0).with_speed(speed)


def test_paused_clock_cannot_schedule():
    with pytest.raises(ValueError):
        DrillClock(anchor_real=T0, anchor_sim=SIM0, paused=True).real_time_of(SIM0)
