"""Major-event cover during the event: the venues layer, incidents tagged with their
venue, and the daily situation report (HTML, PDF, JSON) on a hand-built day.

The event file is written here (tmp plans folder) so the figures do not move when
the shipped Winter Games file is edited; the day is run in a drill context whose
paused clock the test sets before every step, so every time is known exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest
from flask_babel import force_locale
from shapely.geometry import Point, shape

from coordination.clock import DrillClock
from coordination.contexts import Context, ContextKind
from coordination.errors import NotFound, ValidationFailed
from coordination.extensions import db
from coordination.incidents import service
from coordination.incidents.schemas import DispatchIn, IncidentIn, StatusChangeIn
from coordination.major_events import sitrep, venues
from coordination.plans.registry import CONFIG_KEY
from coordination.units import service as units
from coordination.units.schemas import NewUnit

from . import map_factories as mf
from .drill_factories import bound_token

ACTOR = mf.ACTOR
CST = timezone(timedelta(hours=8))
CTX = "drill-events5"
EVENT = "test-games"

EVENT_YAML = """
id: test-games
version: "1"
title: {zh: 测试运动会, en: Test games}
kind: sports_event
plan: major-event-medical-cover
venue_buffer_m: 150
venues:
  - id: stadium
    name: {zh: 体育中心, en: Stadium}
    polygon: [[113.0850, 41.0090], [113.0850, 41.0115], [113.0890, 41.0115], [113.0890, 41.0090]]
    medical_post:
      name: {zh: "体育中心医疗站<b>", en: "Stadium post"}
      lon: 113.0870
      lat: 41.0088
      doctors: 2
      nurses: 3
  - id: ice-hall
    name: {zh: 冰上中心, en: Ice hall}
    polygon: [[113.1290, 41.0340], [113.1320, 41.0340], [113.1320, 41.0360], [113.1290, 41.0360]]
  - id: ski
    name: {zh: 滑雪场, en: Ski resort}
    polygon: [[112.6640, 40.5500], [112.6720, 40.5500], [112.6720, 40.5560], [112.6640, 40.5560]]
sessions:
  - id: d1-stadium
    venue: stadium
    title: {zh: 开幕, en: Opening}
    start: 2024-02-17T09:00:00+08:00
    end: 2024-02-17T12:00:00+08:00
  - id: d2-ski
    venue: ski
    title: {zh: 滑雪, en: Ski}
    start: 2024-02-18T09:00:00+08:00
    end: 2024-02-18T15:00:00+08:00
standby:
  - id: a1
    name: {zh: 一号车位, en: Standby 1}
    lon: 113.0900
    lat: 41.0100
    start: 2024-02-17T07:00:00+08:00
    end: 2024-02-18T20:00:00+08:00
"""

INSIDE_STADIUM = (113.0870, 41.0100)
NEAR_STADIUM = (113.0870, 41.0125)  # ~110 m north of the outline: within the 150 m buffer
OUTSIDE_STADIUM = (113.0870, 41.0140)  # ~280 m north: not the venue's
INSIDE_ICE = (113.1305, 41.0350)
INSIDE_SKI = (112.6680, 40.5530)
FAR = (mf.JINING[0] + 0.05, mf.JINING[1] + 0.02)


@pytest.fixture
def event_dir(app, tmp_path: Path) -> Path:
    plans = tmp_path / "plans"
    (plans / "events").mkdir(parents=True)
    (plans / "events" / f"{EVENT}.yaml").write_text(EVENT_YAML, "utf-8")
    app.config[CONFIG_KEY] = str(plans)
    return plans


@pytest.fixture
def drill(event_dir):
    with db.unit_of_work() as s:
        s.add(Context(name=CTX, kind=ContextKind.DRILL, title="events5"))
    at(date(2024, 2, 17), "07:00")
    units.create_units(items=[NewUnit(call_sign=f"乌120-E{n}", lon=113.09, lat=41.01)
                              for n in range(1, 6)],
                       actor=ACTOR, region=mf.REGION, context=CTX)
    return CTX


def at(day: date, hhmm: str) -> datetime:
    """Set the drill's (paused) clock to this local time."""
    h, m = (int(x) for x in hhmm.split(":"))
    t = datetime(day.year, day.month, day.day, h, m, tzinfo=CST)
    with db.unit_of_work() as s:
        ctx = s.get(Context, CTX)
        ctx.store_clock(DrillClock(anchor_real=datetime.now(UTC), anchor_sim=t, paused=True))
    return t


def log(pos, context=CTX, **kw):
    data = {"type": "event_medical", "lon": pos[0], "lat": pos[1], "patients": 1} | kw
    return service.create_incident(context=context, data=IncidentIn.model_validate(data),
                                   actor=ACTOR, region=mf.REGION)


def unit_id(n: int) -> int:
    from sqlalchemy import select

    from coordination.units.models import Unit

    with db.reading() as s:
        return s.scalar(select(Unit.id).where(Unit.call_sign == f"乌120-E{n}"))


def dispatch(incident_id: int, n: int) -> None:
    service.dispatch_unit(context=CTX, incident_id=incident_id, actor=ACTOR,
                          data=DispatchIn(unit_id=unit_id(n)))


def step(incident_id: int, *statuses: str) -> None:
    for st in statuses:
        service.change_status(context=CTX, incident_id=incident_id, actor=ACTOR,
                              data=StatusChangeIn(status=st))


# --- the venues layer ------------------------------------------------------


def _check_rfc7946(fc: dict) -> None:
    assert fc["type"] == "FeatureCollection"
    for f in fc["features"]:
        assert f["type"] == "Feature" and isinstance(f["id"], str)
        g = f["geometry"]
        if g["type"] == "Polygon":
            ring = g["coordinates"][0]
            assert ring[0] == ring[-1], "a linear ring is closed"
            # RFC 7946 3.1.6: exterior ring counter-clockwise (positive shoelace area)
            area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))
            assert area > 0
            assert shape(g).is_valid
        else:
            assert g["type"] == "Point"
            lon, lat = g["coordinates"]
            assert -180 <= lon <= 180 and -90 <= lat <= 90


def test_event_geojson_has_venues_posts_and_standby(event_dir):
    fc = venues.event_geojson(EVENT)
    _check_rfc7946(fc)
    kinds = sorted(f["properties"]["kind"] for f in fc["features"])
    assert kinds == ["medical_post", "standby", "venue", "venue", "venue"]
    stadium = next(f for f in fc["features"] if f["id"] == f"{EVENT}/venue/stadium")
    # The file's ring was clockwise; the layer gives it counter-clockwise, same outline.
    assert shape(stadium["geometry"]).contains(Point(*INSIDE_STADIUM))
    assert [s["id"] for s in stadium["properties"]["sessions"]] == ["d1-stadium"]
    with pytest.raises(NotFound):
        venues.event_geojson("no-such-event")


def test_live_layer_shows_only_events_in_progress(drill, auth, make_user):
    make_user("operator", username="op")
    auth.login("op")
    c = auth.client
    # Live context: today (2026) is not the event's time.
    live = c.get("/api/plans/venues.geojson")
    assert live.status_code == 200 and live.mimetype == "application/geo+json"
    assert live.get_json() == {"type": "FeatureCollection", "features": []}
    every = c.get("/api/plans/venues.geojson?all=1").get_json()
    assert len(every["features"]) == 5
    # The drill's clock is on the event's first day (07:00 local, before any session).
    in_drill = bound_token(CTX, "operator")  # a token bound to the drill names it
    on = c.get("/api/plans/venues.geojson", headers=in_drill).get_json()
    _check_rfc7946(on)
    assert len(on["features"]) == 5
    at(date(2024, 2, 19), "00:30")  # the day after the last standby period ends
    assert c.get("/api/plans/venues.geojson", headers=in_drill).get_json()["features"] == []
    one = c.get(f"/api/plans/events/{EVENT}.geojson")
    assert one.status_code == 200 and len(one.get_json()["features"]) == 5
    assert c.get("/api/plans/events/nope.geojson").status_code == 404


# --- incidents at venues ---------------------------------------------------


def test_incidents_at_a_venue_carry_the_event(drill):
    at(date(2024, 2, 17), "10:00")
    inside = log(INSIDE_STADIUM)
    assert (inside["event_ref"], inside["venue_ref"]) == (EVENT, "stadium")
    near = log(NEAR_STADIUM)
    assert (near["event_ref"], near["venue_ref"]) == (EVENT, "stadium")
    outside = log(OUTSIDE_STADIUM)
    assert (outside["event_ref"], outside["venue_ref"]) == (None, None)
    assert log(INSIDE_ICE)["venue_ref"] == "ice-hall"
    assert log(FAR)["event_ref"] is None
    # Not during the event: the same spot is just a place.
    at(date(2024, 2, 21), "10:00")
    assert log(INSIDE_STADIUM)["event_ref"] is None
    # The live context runs on today's clock (2026): not tagged either.
    assert log(INSIDE_STADIUM, context="live")["event_ref"] is None
    stored = service.get_incident(context=CTX, incident_id=inside["id"])
    assert stored["event_ref"] == EVENT and stored["venue_ref"] == "stadium"


def test_event_and_venue_can_be_given_and_are_checked(drill):
    at(date(2024, 2, 21), "10:00")
    given = log(FAR, event_ref=EVENT, venue_ref="ski")
    assert (given["event_ref"], given["venue_ref"]) == (EVENT, "ski")
    with force_locale("en"):
        with pytest.raises(ValidationFailed, match="no venue"):
            log(FAR, event_ref=EVENT, venue_ref="pool")
        with pytest.raises(ValidationFailed, match="No such event"):
            log(FAR, event_ref="other-games")
        with pytest.raises(ValidationFailed, match="needs its event"):
            log(FAR, venue_ref="ski")


def test_the_incident_api_and_pages_show_the_venue(event_dir, auth, make_user):
    make_user("operator", username="op")
    auth.login("op")
    c = auth.client
    body = {"type": "event_medical", "lon": FAR[0], "lat": FAR[1],
            "event_ref": EVENT, "venue_ref": "ice-hall"}
    created = auth.post_json("/api/incidents", body)
    assert created.status_code == 201, created.text
    iid = created.get_json()["id"]
    assert c.get(f"/api/incidents/{iid}").get_json()["venue_ref"] == "ice-hall"
    wrong = auth.post_json("/api/incidents", body | {"venue_ref": "pool"})
    assert wrong.status_code == 400
    c.set_cookie("lang", "en")
    for url in (f"/incidents/{iid}", "/incidents"):
        page = c.get(url)
        assert page.status_code == 200
        assert "冰上中心" in page.text or "Ice hall" in page.text, url


# --- the daily situation report -------------------------------------------


def _hand_built_day() -> dict[str, int]:
    d17, d18 = date(2024, 2, 17), date(2024, 2, 18)
    at(d17, "09:00")
    i1 = log(INSIDE_STADIUM, priority=2)["id"]
    at(d17, "09:04")
    dispatch(i1, 1)
    at(d17, "09:20")
    step(i1, "on_scene")
    at(d17, "09:40")
    step(i1, "transporting")
    at(d17, "10:10")
    step(i1, "at_hospital")
    at(d17, "10:30")
    step(i1, "closed")
    at(d17, "11:00")
    i2 = log(INSIDE_ICE, priority=3, patients=2)["id"]
    at(d17, "11:10")
    dispatch(i2, 2)
    at(d17, "11:30")
    step(i2, "on_scene")
    at(d17, "11:50")
    step(i2, "cancelled")  # treated on site
    at(d17, "12:00")
    log(FAR, priority=1)  # not at a venue: not the event's call
    at(d17, "14:00")
    i3 = log(NEAR_STADIUM, priority=1, patients=3)["id"]
    at(d17, "14:02")
    dispatch(i3, 3)
    at(d17, "14:20")
    step(i3, "on_scene")
    at(d17, "14:30")
    step(i3, "transporting")  # still on the road at midnight
    at(d17, "23:30")
    i4 = log(INSIDE_SKI, priority=4)["id"]
    at(d18, "00:30")
    dispatch(i4, 4)  # after midnight: the 18th's dispatch, the 17th's open call
    at(d18, "00:50")
    step(i3, "at_hospital", "closed")  # closed on the 18th: still open at the 17th's end
    at(d18, "08:00")
    i6 = log(INSIDE_STADIUM, priority=3)["id"]
    return {"i1": i1, "i2": i2, "i3": i3, "i4": i4, "i6": i6}


def test_sitrep_figures_of_a_hand_built_day(drill):
    ids = _hand_built_day()
    r = sitrep.sitrep(event_id=EVENT, day=date(2024, 2, 17), context=CTX)
    assert r["in_event"] and r["date"] == "2024-02-17"
    assert r["totals"] == {"calls": 4, "patients": 7, "transports": 2, "dispatches": 3,
                           "open": 2}
    assert r["response"] == {"count": 3, "median_min": 4.0, "mean_min": 5.3, "max_min": 10.0}
    by_venue = {v["venue"]: v for v in r["by_venue"]}
    assert set(by_venue) == {"stadium", "ice-hall", "ski"}
    assert (by_venue["stadium"]["calls"], by_venue["stadium"]["transports"],
            by_venue["stadium"]["open"]) == (2, 2, 1)
    assert (by_venue["ice-hall"]["calls"], by_venue["ice-hall"]["transports"],
            by_venue["ice-hall"]["open"]) == (1, 0, 0)
    assert (by_venue["ski"]["calls"], by_venue["ski"]["dispatches"],
            by_venue["ski"]["open"]) == (1, 0, 1)
    by_prio = {p["priority"]: (p["calls"], p["transports"], p["open"]) for p in r["by_priority"]}
    assert by_prio == {1: (1, 1, 1), 2: (1, 1, 0), 3: (1, 0, 0), 4: (1, 0, 1)}
    listed = {i["id"]: i for i in r["incidents"]}
    assert list(listed) == [ids["i1"], ids["i2"], ids["i3"], ids["i4"]]
    assert listed[ids["i3"]]["status_at_end"] == "transporting"
    assert listed[ids["i4"]]["status_at_end"] == "reported"
    assert listed[ids["i4"]]["response_min"] is None
    assert listed[ids["i2"]]["status_at_end"] == "cancelled"
    assert [i["id"] for i in r["open_at_end"]] == [ids["i3"], ids["i4"]]
    assert [s["id"] for s in r["sessions"]] == ["d1-stadium"]
    d18 = sitrep.sitrep(event_id=EVENT, day=date(2024, 2, 18), context=CTX)
    assert d18["totals"]["calls"] == 1
    assert [i["id"] for i in d18["incidents"]] == [ids["i6"]]
    # Today on the drill's clock (the 18th) when no day is given.
    assert sitrep.sitrep(event_id=EVENT, context=CTX)["date"] == "2024-02-18"
    # The live context saw none of it.
    assert sitrep.sitrep(event_id=EVENT, day=date(2024, 2, 17))["totals"]["calls"] == 0


def test_sitrep_html_pdf_and_json(drill, auth, make_user):
    _hand_built_day()
    make_user("operator", username="op")
    auth.login("op")
    c = auth.client
    api = c.get(f"/api/plans/events/{EVENT}/sitrep?date=2024-02-17",
                headers=bound_token(CTX, "operator"))
    assert api.status_code == 200 and api.get_json()["totals"]["calls"] == 4
    bad = c.get(f"/api/plans/events/{EVENT}/sitrep?date=17.2.2024")
    assert bad.status_code == 400 and bad.get_json()["error"]
    assert c.get("/api/plans/events/nope/sitrep").status_code == 404
    # The pages read the live context (no drill joined): the layout, not the drill's figures.
    page = c.get(f"/plans/events/{EVENT}/sitrep?date=2024-02-17")
    assert page.status_code == 200
    assert 'id="fig-calls">0<' in page.text
    assert "测试运动会" in page.text or "Test games" in page.text
    assert 'data-venue="stadium"' in page.text
    assert c.get(f"/plans/events/{EVENT}/sitrep?date=bad").status_code == 400
    pdf = c.get(f"/plans/events/{EVENT}/sitrep.pdf?date=2024-02-17")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_sitrep_page_shows_the_drill_figures(drill, app):
    """The page itself, rendered for the drill context, carries the day's figures."""
    _hand_built_day()
    from coordination.web import reports

    with app.test_request_context("/"):
        html = reports.sitrep_html(event_id=EVENT, day=date(2024, 2, 17), context=CTX)
        pdf_html = reports.sitrep_html(event_id=EVENT, day=date(2024, 2, 17),
                                             context=CTX, for_pdf=True)
    assert 'id="fig-calls">4<' in html and 'id="fig-transports">2<' in html
    assert 'id="fig-open">2<' in html and 'id="fig-response">4.0<' in html
    assert "exercise-banner" in html
    assert "/incidents/" in html and "/incidents/" not in pdf_html  # no links in the PDF


def test_sitrep_needs_incident_rights(event_dir, auth, make_user):
    make_user("liaison", username="li")
    auth.login("li")
    assert auth.client.get(f"/api/plans/events/{EVENT}/sitrep").status_code == 403
    assert auth.client.get(f"/api/plans/events/{EVENT}.geojson").status_code == 200
    assert auth.client.get(f"/plans/events/{EVENT}/sitrep").status_code == 403
    assert auth.client.get(f"/plans/events/{EVENT}/sitrep.pdf").status_code == 403
