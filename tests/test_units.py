"""Units and positions at the service level: order, batches, bad input, status history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordination.errors import NotFound, ValidationFailed
from coordination.events import Event
from coordination.extensions import db
from coordination.units import service
from coordination.units.models import PositionReport, Unit
from coordination.units.schemas import PositionIn, StatusIn

from . import map_factories as mf


def _count(model, *where):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _now():
    return datetime.now(UTC)


def test_late_reports_join_the_track_but_never_move_the_unit_back(app):
    t0 = _now() - timedelta(minutes=30)
    u = mf.unit(at=t0)
    newer = PositionIn(unit=u.id, lon=113.20, lat=41.05, at=t0 + timedelta(minutes=20))
    res = service.record_positions(reports=[newer], actor=mf.ACTOR, region=mf.REGION)
    assert res["moved"] == [u.id] and res["late"] == 0
    late = PositionIn(unit=u.call_sign, lon=113.15, lat=41.02, at=t0 + timedelta(minutes=10))
    events_before = _count(Event)
    res = service.record_positions(reports=[late], actor=mf.ACTOR, region=mf.REGION)
    assert res == {"stored": 1, "moved": [], "late": 1}
    assert _count(Event) == events_before  # nothing moved, nothing to tell the maps
    now = mf.get(Unit, u.id)
    assert (now.lon, now.lat) == (113.20, 41.05)
    assert now.position_at == t0 + timedelta(minutes=20)
    track = service.unit_detail(unit_id=u.id)["track"]["points"]
    assert [(p["lon"], p["lat"]) for p in track] == [(113.15, 41.02), (113.20, 41.05)]


def test_a_batch_moves_each_unit_to_its_newest_fix_with_one_event(app):
    a, b = mf.unit(at=_now() - timedelta(hours=1)), mf.unit(at=_now() - timedelta(hours=1))
    t = _now()
    batch = [
        PositionIn(unit=a.id, lon=113.30, lat=41.10, at=t - timedelta(seconds=2)),
        PositionIn(unit=a.id, lon=113.31, lat=41.11, at=t - timedelta(seconds=1)),
        PositionIn(unit=b.call_sign, lon=112.60, lat=40.90, at=t - timedelta(seconds=1)),
        PositionIn(unit=a.id, lon=113.29, lat=41.09, at=t - timedelta(seconds=3)),
    ]
    res = service.record_positions(reports=batch, actor=mf.ACTOR, region=mf.REGION)
    assert res["stored"] == 4 and sorted(res["moved"]) == sorted([a.id, b.id])
    assert (mf.get(Unit, a.id).lon, mf.get(Unit, a.id).lat) == (113.31, 41.11)
    assert (mf.get(Unit, b.id).lon, mf.get(Unit, b.id).lat) == (112.60, 40.90)
    with db.reading() as s:
        moved = s.scalars(select(Event).where(Event.type == "unit.moved")).all()
    assert len(moved) == 1 and moved[0].payload["count"] == 2


@pytest.mark.parametrize("bad, message", [
    ({"lon": 190.0, "lat": 41.0}, "out of range"),
    ({"lon": 41.0, "lat": 113.1}, "swapped"),
    ({"lon": 2.35, "lat": 48.85}, "outside"),
    ({"lon": 113.1, "lat": 41.0, "at": "future"}, "future"),
    ({"lon": 113.1, "lat": 41.0, "unit": "nobody"}, "No such unit"),
])
def test_one_bad_fix_refuses_the_whole_batch(app, bad, message):
    u = mf.unit()
    before = (_count(PositionReport), _count(Event), mf.get(Unit, u.id).position_at)
    bad = dict(bad)
    if bad.get("at") == "future":
        bad["at"] = _now() + timedelta(hours=1)
    good = PositionIn(unit=u.id, lon=113.2, lat=41.0, at=_now())
    wrong = PositionIn(**({"unit": u.id} | bad))
    # In English, whose wording the parameters name (the default language is zh-CN).
    with force_locale("en"), pytest.raises((ValidationFailed, NotFound)) as exc:
        service.record_positions(reports=[good, wrong], actor=mf.ACTOR, region=mf.REGION)
    assert message in str(exc.value.message)
    assert (_count(PositionReport), _count(Event), mf.get(Unit, u.id).position_at) == before


def test_status_changes_are_kept_and_announced(app):
    u = mf.unit(negative_pressure=True, crew=["王伟", "李娜"])
    service.set_status(unit_id=u.id, data=StatusIn(status="dispatched"), actor=mf.ACTOR)
    service.set_status(unit_id=u.id, data=StatusIn(status="en_route", note="G55"),
                       actor=mf.ACTOR)
    same = service.set_status(unit_id=u.id, data=StatusIn(status="en_route"), actor=mf.ACTOR)
    assert same["status"] == "en_route"
    detail = service.unit_detail(unit_id=u.id)
    assert [c["status"] for c in detail["status_history"]] == ["en_route", "dispatched",
                                                               "available"]
    assert detail["crew"] == ["王伟", "李娜"] and detail["negative_pressure"] is True
    with db.reading() as s:
        types = s.scalars(select(Event.type).where(Event.type == "unit.status_changed")).all()
    assert len(types) == 2
    with pytest.raises(NotFound):
        service.set_status(unit_id=999, data=StatusIn(status="dispatched"), actor=mf.ACTOR)


def test_the_track_covers_the_last_hour_only(app):
    u = mf.unit(at=_now() - timedelta(hours=3))
    service.record_positions(reports=[
        PositionIn(unit=u.id, lon=113.10, lat=41.0, at=_now() - timedelta(minutes=90)),
        PositionIn(unit=u.id, lon=113.11, lat=41.0, at=_now() - timedelta(minutes=30)),
        PositionIn(unit=u.id, lon=113.12, lat=41.0, at=_now() - timedelta(minutes=5)),
    ], actor=mf.ACTOR, region=mf.REGION)
    points = service.unit_detail(unit_id=u.id)["track"]["points"]
    assert [p["lon"] for p in points] == [113.11, 113.12]
    assert len(service.unit_detail(unit_id=u.id, minutes=120)["track"]["points"]) == 3


def test_simulator_moves_available_units_through_the_service(app):
    from coordination.geo.places import PlaceIn, upsert_places
    from coordination.units.simulate import Simulator

    mf.area()
    upsert_places(places=[PlaceIn(code="V1", name="村", kind="village", population=300,
                                  lon=113.25, lat=41.05)], actor=mf.ACTOR, region=mf.REGION)
    moving = mf.unit(at=_now() - timedelta(hours=1))
    parked = mf.unit(status="out_of_service")
    sim = Simulator(region=mf.REGION)
    assert sim.tick(60) == 1
    assert sim.tick(60) == 1
    after = mf.get(Unit, moving.id)
    assert (after.lon, after.lat) != (mf.JINING[0], mf.JINING[1])
    assert (mf.get(Unit, parked.id).lon, mf.get(Unit, parked.id).lat) == mf.JINING
    assert len(service.unit_detail(unit_id=moving.id)["track"]["points"]) == 2
