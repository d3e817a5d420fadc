"""Positions with people: the plague plan's every checklist step resolves to the named
person on shift in its position, with phone, on the checklist, the liaison's task and the
printed plan; a position nobody holds is a readiness shortfall."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coordination.errors import NotFound, ValidationFailed
from coordination.events import Actor
from coordination.plans import readiness as plan_readiness
from coordination.plans import registry, responsible
from coordination.plans import service as plans
from coordination.plans.schema import Level
from coordination.plans.schemas import ActivationIn
from coordination.roster import positions
from coordination.roster import service as roster

from .roster_factories import ADMIN, crew, drill_context, officer

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Ulanqab
OPERATOR = Actor(kind="user", id=None, name="operator-test")
PLAN = "plague-human-case"


@pytest.fixture
def drill(app):
    """Every agency of the plague plan with a liaison rotation, and two people per
    position the plan's steps name, on 12-hour shifts from 08:00."""
    name = drill_context("drill-positions", T0)
    plan = registry.get_plan(PLAN, context=name).plan
    for code in sorted({r.agency for r in plan.roles}):
        crew(name, code, users=False, primaries=1, backups=0)
    for n, (code, position) in enumerate(responsible.wanted(plan)):
        ids = [officer(name, code, f"{position}-{k}", phone=f"13900{n:03d}{k:03d}",
                       may_be_primary=False)[0]["id"] for k in range(2)]
        positions.save_position_shift(context=name, actor=ADMIN, data={
            "agency_code": code, "position": position, "kind": "custom", "shift_hours": 12,
            "handover": "08:00", "start_date": date(2026, 11, 1).isoformat(),
            "officer_ids": ids})
    return name


def _steps(view):
    return [(t, st) for ph in view["phases"] for t in ph["tasks"] for st in t["steps"]]


def test_activation_names_a_person_and_phone_for_every_step(drill):
    body = plans.activate_plan(plan_id=PLAN, data=ActivationIn(level="I", subject_ref="P-1"),
                               actor=OPERATOR, context=drill)
    view = plans.activation_view(activation_id=body["id"], context=drill)
    steps = _steps(view)
    plan = registry.get_plan(PLAN, context=drill).plan
    assert len(steps) == sum(len(t.checklist) for _p, t in plan.tasks_for(Level.I))
    for task, step in steps:
        assert len(step["people"]) == 1, (task["task_id"], step["responsible"])
        person = step["people"][0]
        # 10:00 is in the first 12-hour shift of a day: the same one of the two each day.
        assert person["name"].startswith(step["responsible"] + "-") and person["phone"]
    # The liaison officer's task carries the same names and phones.
    ems = next(t for ph in view["phases"] for t in ph["tasks"] if t["agency"] == "ems")
    details = roster.get_task(context=drill, task_id=ems["roster_task_id"])["details"]
    for st in ems["steps"]:
        p = st["people"][0]
        assert f"{p['name']} {p['phone']}" in details
    assert "[车组组长: crew_leader-" in details and "[crew_leader]" not in details
    assert "Crew leader" not in details  # one language per reader: zh-CN here
    assert "/" not in roster.get_task(context=drill, task_id=ems["roster_task_id"])["title"]
    assert "(level3)" not in details
    # The printed plan shows the people on duty too.
    detail = plans.plan_detail(plan_id=PLAN, context=drill)
    crew_step = next(st for ph in detail["phases"] for t in ph["tasks"] for st in t["steps"]
                     if st["responsible"] == "crew_leader")
    assert crew_step["people"][0]["name"] == "crew_leader-0"


def test_removing_the_holder_makes_a_readiness_shortfall(drill):
    def plague_rows():
        return [r for r in plan_readiness.readiness(context=drill)["rows"]
                if r["plan_id"] == PLAN]

    assert all(r["positions_ok"] for r in plague_rows())
    shift = next(p for p in positions.positions_overview(context=drill)
                 if p["agency_code"] == "ems" and p["position"] == "crew_leader")
    on_duty, off_duty = shift["officer_ids"]
    # Off shift at 10:00: taking the night's crew leader away leaves the post filled now.
    positions.remove_holder(context=drill, agency_code="ems", position="crew_leader",
                            officer_id=off_duty, actor=ADMIN)
    assert all(r["positions_ok"] for r in plague_rows())
    positions.remove_holder(context=drill, agency_code="ems", position="crew_leader",
                            officer_id=on_duty, actor=ADMIN)
    rows = plague_rows()
    assert rows and all(not r["positions_ok"] and not r["ready"] for r in rows
                        if any(v["position"] == "crew_leader" for v in r["vacant_positions"]))
    level_i = next(r for r in rows if r["level"] == "I")
    assert {"agency": "ems", "position": "crew_leader"} in level_i["vacant_positions"]
    # The activation now says nobody is on duty for those steps.
    body = plans.activate_plan(plan_id=PLAN, data=ActivationIn(level="I", subject_ref="P-2"),
                               actor=OPERATOR, context=drill)
    view = plans.activation_view(activation_id=body["id"], context=drill)
    assert [st for _t, st in _steps(view) if st["responsible"] == "crew_leader"
            and not st["people"]]


def test_holders_follow_the_shift_and_refuse_bad_input(drill):
    shift = next(p for p in positions.positions_overview(context=drill)
                 if p["agency_code"] == "ems" and p["position"] == "crew_leader")
    from sqlalchemy import select

    from coordination.extensions import db
    from coordination.roster.models import Agency

    with db.reading() as s:
        ems = s.scalar(select(Agency).where(Agency.context == drill, Agency.code == "ems"))
        day = positions.holders_in(s, ems, "crew_leader", T0)
        night = positions.holders_in(s, ems, "crew_leader", T0 + timedelta(hours=12))
    assert [p["id"] for p in day] != [p["id"] for p in night]
    assert {day[0]["id"], night[0]["id"]} == set(shift["officer_ids"])
    with pytest.raises(ValidationFailed):
        positions.save_position_shift(context=drill, actor=ADMIN, data={
            "agency_code": "ems", "position": "wizard", "start_date": "2026-11-01",
            "officer_ids": shift["officer_ids"]})
    with pytest.raises(NotFound):
        positions.remove_holder(context=drill, agency_code="ems", position="crew_leader",
                                officer_id=999999, actor=ADMIN)


def test_admin_sets_holders_on_the_roster_page_and_the_api(app, make_user, auth):
    c = crew("live", "ems", users=False, primaries=2, backups=0)
    make_user("admin", username="adm")
    auth.login("adm")
    page = auth.client.get("/roster/admin")
    assert page.status_code == 200 and "车组组长" in page.text
    ids = [str(o["id"]) for o in c.primaries]
    resp = auth.client.post("/roster/admin/positions", data={
        "csrf_token": auth.csrf, "agency_code": "ems", "position": "crew_leader",
        "kind": "daily", "handover": "08:00", "start_date": "2026-11-01", "officer_ids": ids})
    assert resp.status_code == 302
    listed = auth.client.get("/api/roster/positions").get_json()["positions"]
    assert [(p["agency_code"], p["position"], p["officer_ids"]) for p in listed] == [
        ("ems", "crew_leader", [int(i) for i in ids])]
    assert "P1-ems" in auth.client.get("/roster/admin").text
    bad = auth.post_json("/api/roster/positions", {
        "agency_code": "ems", "position": "crew_leader", "start_date": "2026-11-01",
        "officer_ids": [999999]})
    assert bad.status_code == 400
    gone = auth.post_json("/api/roster/positions/remove", {
        "agency_code": "ems", "position": "crew_leader", "officer_id": int(ids[0])})
    assert gone.status_code == 200 and gone.get_json()["shift"]["officer_ids"] == [int(ids[1])]
    assert auth.post_json("/api/roster/positions/remove", {"position": "x"}).status_code == 400


def test_a_vacant_position_is_an_alert_in_the_command_rooms_list(drill):
    """The watcher's time rule raises the shortfall readiness shows, once a day per post."""
    from sqlalchemy import update

    from coordination.alerts import service as alerts
    from coordination.alerts import watch
    from coordination.alerts.models import AlertCursor
    from coordination.extensions import db

    def vacancies():  # other plans name posts the fixture leaves empty: look at this one
        return [a for a in alerts.list_alerts(context=drill) if a["kind"] == "position_vacant"
                and a["key"].startswith("vacant:ems:crew_leader:")]

    def sweep():
        with db.unit_of_work() as s:  # the next time-rule sweep is due at once
            s.execute(update(AlertCursor).values(swept_at=None))
        watch.scan(drill)

    watch.scan(drill)  # starts the cursor at the log's head
    sweep()
    assert vacancies() == []
    shift = next(p for p in positions.positions_overview(context=drill)
                 if p["agency_code"] == "ems" and p["position"] == "crew_leader")
    for officer_id in shift["officer_ids"]:
        positions.remove_holder(context=drill, agency_code="ems", position="crew_leader",
                                officer_id=officer_id, actor=ADMIN)
    sweep()
    found = vacancies()
    assert len(found) == 1
    alert = found[0]
    assert alert["subject"] == {"type": "agency", "id": "ems"}
    assert "车组组长" in alert["title"]["zh"] and "crew_leader" not in alert["title"]["zh"]
    assert "Crew leader" in alert["title"]["en"] and "crew_leader" not in alert["title"]["en"]
    plan = registry.get_plan(PLAN, context=drill).plan
    assert plan.title.zh in alert["title"]["zh"] and plan.title.en in alert["title"]["en"]
    # Raised once: acknowledged, the next sweep the same day does not raise it again.
    alerts.acknowledge(alert_id=alert["id"], actor=OPERATOR, context=drill)
    sweep()
    assert vacancies() == []
