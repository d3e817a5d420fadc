"""Who is on duty: week boundaries, overrides, DST zones, and the roster's bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from coordination.errors import Conflict, ValidationFailed
from coordination.roster import manage, schedule, service
from tests.roster_factories import ADMIN, crew, officer

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def names(rows: list[dict]) -> list[str]:
    return [r["name"] for r in rows]


def test_weekly_rotation_hands_over_across_the_week_boundary(app):
    # Weekly rotation handing over Monday 09:00 Shanghai; 2026-11-02 is a Monday.
    c = crew(code="cdc", primaries=3, backups=0, kind="weekly", handover="09:00",
             start=date(2026, 11, 2))
    p = [x["name"] for x in c.primaries]
    at = lambda *a: names(service.on_duty(context="live", agency_code="cdc",  # noqa: E731
                                          at=sh(*a)))
    assert at(2026, 11, 2, 9, 0) == [p[0]]
    assert at(2026, 11, 9, 8, 59) == [p[0]]  # Sunday night into Monday, before hand-over
    assert at(2026, 11, 9, 9, 0) == [p[1]]
    assert at(2026, 11, 16, 9, 0) == [p[2]]
    assert at(2026, 11, 23, 9, 0) == [p[0]]
    assert at(2026, 11, 2, 8, 59) == []  # before the rotation starts
    row = service.on_duty(context="live", agency_code="cdc", at=sh(2026, 11, 10, 12, 0))[0]
    assert row["shift_start"] == sh(2026, 11, 9, 9, 0).astimezone(UTC).isoformat()
    assert row["shift_end"] == sh(2026, 11, 16, 9, 0).astimezone(UTC).isoformat()


def test_overrides_swap_leave_and_sick_day(app):
    c = crew(code="cdc", primaries=2, backups=1)
    p1, p2 = c.primaries
    # Daily at 08:00 from 2026-11-02: p1 on the 2nd, p2 on the 3rd, p1 on the 4th...
    manage.add_override(context="live", actor=ADMIN, data={
        "kind": "swap", "officer_id": p1["id"], "cover_officer_id": p2["id"],
        "starts_at": sh(2026, 11, 4, 12, 0).isoformat(),
        "ends_at": sh(2026, 11, 4, 18, 0).isoformat()})
    manage.add_override(context="live", actor=ADMIN, data={
        "kind": "sick", "officer_id": p2["id"],
        "starts_at": sh(2026, 11, 5, 8, 0).isoformat(),
        "ends_at": sh(2026, 11, 6, 8, 0).isoformat()})
    duty = lambda at: names(service.on_duty(context="live", agency_code="cdc",  # noqa: E731
                                            at=at))
    assert duty(sh(2026, 11, 4, 11, 59)) == [p1["name"]]
    assert duty(sh(2026, 11, 4, 12, 0)) == [p2["name"]]
    assert duty(sh(2026, 11, 4, 18, 0)) == [p1["name"]]
    assert duty(sh(2026, 11, 5, 10, 0)) == []  # sick without cover: a gap
    gaps = service_gaps("cdc", sh(2026, 11, 5, 0, 0), sh(2026, 11, 7, 0, 0))
    assert gaps == [(sh(2026, 11, 5, 8, 0).astimezone(UTC), sh(2026, 11, 6, 8, 0).astimezone(UTC))]
    # Backup layer unaffected.
    assert names(service.on_duty(context="live", agency_code="cdc", layer="backup",
                                 at=sh(2026, 11, 5, 10, 0))) == [c.backups[0]["name"]]


def service_gaps(code: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    from coordination.roster import queries

    return [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"]))
            for g in queries.gaps(context="live", start=start, end=end)
            if g["agency_code"] == code]


def test_daily_rotation_in_a_dst_zone_keeps_its_wall_clock_handover():
    # Europe/Berlin leaves summer time on 2026-10-25 03:00 -> 02:00.
    spec = schedule.RotationSpec(
        id=1, agency_id=1, layer="primary", role="liaison", kind="daily", handover="08:00",
        shift_hours=24, timezone="Europe/Berlin", start_date=date(2026, 10, 23), end_date=None,
        officer_ids=(1, 2))
    berlin = ZoneInfo("Europe/Berlin")
    starts = [schedule.shift_start(spec, n).astimezone(berlin) for n in range(4)]
    assert [s.hour for s in starts] == [8, 8, 8, 8]
    lengths = [schedule.shift_start(spec, n + 1) - schedule.shift_start(spec, n)
               for n in range(3)]
    assert lengths == [timedelta(hours=24), timedelta(hours=25), timedelta(hours=24)]
    on = lambda at: [g.officer_id for g in schedule.at_time([spec], [], at)]  # noqa: E731
    # Officer 2 holds the 25-hour shift from Saturday 08:00 CEST to Sunday 08:00 CET.
    assert on(datetime(2026, 10, 24, 8, 0, tzinfo=berlin)) == [2]
    assert on(datetime(2026, 10, 25, 2, 30, tzinfo=berlin, fold=1)) == [2]
    assert on(datetime(2026, 10, 25, 7, 59, tzinfo=berlin)) == [2]
    assert on(datetime(2026, 10, 25, 8, 0, tzinfo=berlin)) == [1]
    assert on(datetime(2026, 10, 26, 7, 59, tzinfo=berlin)) == [1]


def test_custom_rotation_of_twelve_hours(app):
    crew(code="ems", primaries=0, backups=0)
    a, _ = officer("live", "ems", "Day")
    b, _ = officer("live", "ems", "Night")
    manage.save_rotation(context="live", actor=ADMIN, data={
        "agency_code": "ems", "name": "12h", "kind": "custom", "shift_hours": 12,
        "handover": "08:00", "start_date": "2026-11-02", "officer_ids": [a["id"], b["id"]]})
    duty = lambda at: names(service.on_duty(context="live", agency_code="ems",  # noqa: E731
                                            at=at))
    assert duty(sh(2026, 11, 2, 19, 59)) == ["Day"]
    assert duty(sh(2026, 11, 2, 20, 0)) == ["Night"]
    assert duty(sh(2026, 11, 3, 8, 0)) == ["Day"]


def _count(model) -> int:
    from sqlalchemy import func, select

    from coordination.extensions import db

    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_bad_roster_input_is_refused_and_changes_nothing(app):
    from coordination.roster.models import EscalationStep, Override, Rotation

    c = crew(code="cdc", primaries=2, backups=1)
    crew(code="railway", primaries=0, backups=0)
    rotations, overrides = _count(Rotation), _count(Override)
    with force_locale("en"):
        with pytest.raises(Conflict, match="overlaps"):
            manage.save_rotation(context="live", actor=ADMIN, data={
                "agency_code": "cdc", "name": "again", "layer": "primary",
                "start_date": "2026-11-20", "officer_ids": [c.primaries[0]["id"]]})
        with pytest.raises(ValidationFailed, match="ends before it starts"):
            manage.add_override(context="live", actor=ADMIN, data={
                "kind": "leave", "officer_id": c.primaries[0]["id"],
                "starts_at": sh(2026, 11, 5, 8).isoformat(),
                "ends_at": sh(2026, 11, 5, 7).isoformat()})
        with pytest.raises(ValidationFailed, match="ends before it starts"):
            manage.save_rotation(context="live", actor=ADMIN, data={
                "agency_code": "cdc", "name": "x", "layer": "primary", "role": "other",
                "start_date": "2026-11-20", "end_date": "2026-11-19",
                "officer_ids": [c.primaries[0]["id"]]})
        # The same officer on a second primary seat of the agency at the same hours.
        with pytest.raises(Conflict, match="primary in"):
            manage.save_rotation(context="live", actor=ADMIN, data={
                "agency_code": "cdc", "name": "night desk", "layer": "primary",
                "role": "desk", "start_date": "2026-11-02",
                "officer_ids": [c.primaries[0]["id"], c.backups[0]["id"]]})
        with pytest.raises(ValidationFailed, match="loops"):
            manage.set_chain(context="live", agency_code="cdc", actor=ADMIN, data={"steps": [
                {"target": "primary", "wait_minutes": 5},
                {"target": "backup", "wait_minutes": 5},
                {"target": "primary", "wait_minutes": 5}]})
        with pytest.raises(ValidationFailed, match="last step"):
            manage.set_chain(context="live", agency_code="cdc", actor=ADMIN, data={"steps": [
                {"target": "command_room", "wait_minutes": 5},
                {"target": "backup", "wait_minutes": 5}]})
    assert (_count(Rotation), _count(Override), _count(EscalationStep)) == (
        rotations, overrides, 0)


def test_on_duty_api_and_page(app, client, auth, make_user):
    crew(code="cdc", primaries=2, backups=1)
    make_user("operator", username="op1")
    auth.login("op1")
    r = client.get("/api/roster/on-duty?agency=cdc&at=2026-11-03T10:00:00%2B08:00")
    assert r.status_code == 200, r.text
    body = r.get_json()
    assert [o["name"] for o in body["primary"]] == ["P2-cdc"]
    assert [o["name"] for o in body["backup"]] == ["B1-cdc"]
    assert body["next"]["primary"]["name"] == "P1-cdc"
    bad = client.get("/api/roster/on-duty?agency=cdc&at=yesterday")
    assert bad.status_code == 400
    page = client.get("/roster?at=2026-11-03T10:00")
    assert page.status_code == 200
    assert "P2-cdc" in page.text


def test_demo_seeds_every_agency_with_rosters_and_a_gap(app):
    from coordination.demo import load_demo
    from coordination.roster import queries
    from coordination.roster.demo import AGENCIES, GAP_AGENCY

    load_demo()
    load_demo()  # idempotent
    board = queries.board(context="live")
    assert [a["code"] for a in board["agencies"]] == [a[0] for a in AGENCIES]
    assert all(a["primary"] and a["backup"] for a in board["agencies"])
    cdc = board["agencies"][0]
    assert [o["name"] for o in cdc["primary"]] == ["李强"] and cdc["primary"][0]["user_id"]
    gaps = queries.upcoming_gaps(context="live", days=3)
    assert [g["agency_code"] for g in gaps] == [GAP_AGENCY] and gaps[0]["hours"] == 3.0


def test_officer_subscribes_to_own_shifts_as_icalendar(app, client):
    from icalendar import Calendar

    from coordination.roster import manage as m

    today = datetime.now(SH).date()
    c = crew(code="cdc", primaries=2, backups=1, start=today - timedelta(days=2))
    token = next(o["ical_token"] for o in m.overview(context="live")["officers"]
                 if o["id"] == c.primaries[0]["id"])
    r = client.get(f"/roster/calendar/{token}.ics")  # no session: the token is the key
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.data)
    shifts = [e for e in cal.walk("VEVENT")]
    assert len(shifts) >= 30  # every other day for two months
    starts = sorted(e.decoded("dtstart").astimezone(SH) for e in shifts)
    assert all(s.hour == 8 and s.minute == 0 for s in starts)
    assert all((b - a) == timedelta(days=2) for a, b in zip(starts, starts[1:], strict=False))
    assert client.get("/roster/calendar/not-a-token.ics").status_code == 404
