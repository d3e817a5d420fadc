"""Activation under a drill clock: exactly the level's tasks with their deadlines, handed to
the roster; raising adds tasks; refusals; stand-down; readiness turning red; pages and API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from coordination.errors import Conflict, ValidationFailed
from coordination.events import Actor
from coordination.plans import readiness as plan_readiness
from coordination.plans import registry
from coordination.plans import service as plans
from coordination.plans.schema import Level
from coordination.plans.schemas import ActivationIn, LevelChangeIn, StandDownIn
from coordination.roster import service as roster
from coordination.stock import service as stock
from coordination.stock.demo import ITEMS
from coordination.stock.schemas import DepotIn, IssueIn, ItemIn, ReceiptIn

from .drill_factories import bound_token
from .roster_factories import crew, drill_context, set_drill_time

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
OPERATOR = Actor(kind="user", id=None, name="operator-test")
PLAN = "food-poisoning"


@pytest.fixture
def drill(app):
    name = drill_context("drill-plans", T0)
    for code in ("cdc", "ems", "food_hygiene", "food_testing"):
        crew(name, code, users=False)
    return name


def _choices(context, plan, level):
    """Send every task whose role has nobody on duty to the first officer by name."""
    pre = plans.recipients_preview(plan_id=plan, level=Level(level), context=context)
    if not pre["gaps"]:
        return {}
    return {t["task_id"]: f"officer:{pre['officers'][0]['id']}" for t in pre["tasks"]
            if not t["ok"]}


def _activate(context, level="IV", ref="FP-2026-001", plan=PLAN):
    return plans.activate_plan(plan_id=plan, data=ActivationIn(
        level=level, subject_ref=ref, recipients=_choices(context, plan, level)),
        actor=OPERATOR, context=context)


def test_activation_creates_exactly_the_levels_tasks_with_deadlines(drill):
    plan = registry.get_plan(PLAN, context=drill).plan
    body = _activate(drill)
    assert body["plan_version"] == plan.version and len(body["file_hash"]) == 64
    view = plans.activation_view(activation_id=body["id"], context=drill)
    rows = [t for ph in view["phases"] for t in ph["tasks"]]
    expected = {t.id: t for _p, t in plan.tasks_for(Level.IV)}
    assert sorted(r["task_id"] for r in rows) == sorted(expected)
    assert "trace-supply" not in expected  # a level III-and-above task
    for r in rows:
        task = expected[r["task_id"]]
        assert datetime.fromisoformat(r["due_at"]) == T0 + task.due
        assert datetime.fromisoformat(r["ack_due_at"]) == T0 + task.ack
    # Handed to the roster where the agency is kept, resolved to the officer on duty.
    by_agency = {r["agency"]: r for r in rows}
    # The hospital is not on the roster: its task went to the officer chosen by name.
    assert by_agency["hospital"]["state"] == "open" and by_agency["hospital"]["assignee"]
    assert all(r["state"] != "unassigned" for r in rows)
    ems = by_agency["ems"]
    assert ems["state"] == "open" and ems["assignee"]
    task = roster.get_task(context=drill, task_id=ems["roster_task_id"])
    assert task["source"] == "plan" and task["incident_ref"] == "FP-2026-001"
    assert datetime.fromisoformat(task["due_at"]) == T0 + expected["transport"].due
    assert datetime.fromisoformat(task["ack_deadline"]) == T0 + expected["transport"].ack


def test_overdue_follows_the_drill_clock(drill):
    body = _activate(drill)
    set_drill_time(drill, T0 + timedelta(minutes=45))
    rows = {t["task_id"]: t for ph in plans.activation_view(
        activation_id=body["id"], context=drill)["phases"] for t in ph["tasks"]}
    assert rows["transport"]["overdue"]  # due 30 min after activation
    assert not rows["report-2h"]["overdue"] and rows["report-2h"]["ack_overdue"]


def test_raising_the_level_adds_its_tasks_and_lowering_drops_none(drill):
    body = _activate(drill)
    before = plans.activation_view(activation_id=body["id"], context=drill)["total"]
    set_drill_time(drill, T0 + timedelta(hours=1))
    raised = plans.change_level(activation_id=body["id"], actor=OPERATOR, context=drill,
                                data=LevelChangeIn(level=Level.III, reason="死亡病例",
                                                   recipients=_choices(drill, PLAN, "III")))
    assert raised["added"] == ["trace-supply"] and raised["direction"] == "raised"
    view = plans.activation_view(activation_id=body["id"], context=drill)
    assert view["total"] == before + 1 and view["level"] == "III"
    added = [t for ph in view["phases"] for t in ph["tasks"] if t["task_id"] == "trace-supply"][0]
    assert datetime.fromisoformat(added["due_at"]) == T0 + timedelta(hours=24)
    lowered = plans.change_level(activation_id=body["id"], actor=OPERATOR, context=drill,
                                 data=LevelChangeIn(level=Level.IV))
    assert lowered["added"] == []
    view = plans.activation_view(activation_id=body["id"], context=drill)
    assert view["total"] == before + 1
    kept = [t for ph in view["phases"] for t in ph["tasks"] if t["task_id"] == "trace-supply"]
    assert kept and not kept[0]["in_level"]


def test_refusals(drill):
    _activate(drill)
    with force_locale("en"), pytest.raises(Conflict, match="already active"):
        _activate(drill)
    with force_locale("en"), pytest.raises(ValidationFailed, match="does not define level I"):
        _activate(drill, level="I", plan="cadre-healthcare-emergency")
    # Another incident is fine.
    _activate(drill, ref="FP-2026-002")


def test_stand_down_summarises_and_frees_the_incident(drill):
    body = _activate(drill)
    rows = [t for ph in plans.activation_view(activation_id=body["id"], context=drill)["phases"]
            for t in ph["tasks"]]
    ems = next(r for r in rows if r["agency"] == "ems")
    roster.cancel_task(context=drill, task_id=ems["roster_task_id"], actor=OPERATOR)
    set_drill_time(drill, T0 + timedelta(hours=3))
    done = plans.stand_down(activation_id=body["id"], context=drill, actor=OPERATOR,
                            data=StandDownIn(reason="原因查明"))
    summary = done["summary"]
    assert summary["tasks"] == len(rows) and summary["duration_minutes"] == 180
    assert summary["by_state"]["cancelled"] == 1
    # The other roster tasks are cancelled: nobody is paged for a closed response.
    others = [r["roster_task_id"] for r in rows if r["roster_task_id"] and r is not ems]
    assert summary["cancelled_on_stand_down"] == len(others) > 0
    assert {roster.get_task(context=drill, task_id=i)["status"] for i in others} == {"cancelled"}
    with pytest.raises(Conflict):
        plans.change_level(activation_id=body["id"], actor=OPERATOR, context=drill,
                           data=LevelChangeIn(level=Level.III))
    _activate(drill)  # the same incident may be activated again


def _stock_up(context, quantity):
    for code, zh, en, cat, unit, pack, life, critical in ITEMS:
        stock.save_item(data=ItemIn(code=code, name_zh=zh, name_en=en, category=cat, unit=unit,
                                    pack_size=pack, shelf_life_days=life, critical=critical),
                        actor=OPERATOR, context=context)
    stock.save_depot(data=DepotIn(code="D1", name_zh="库", name_en="Depot", lon=113.1,
                                  lat=41.0), actor=OPERATOR, context=context)
    stock.receive_stock(data=ReceiptIn(depot="D1", item="O2-40L", lot="L1", quantity=quantity),
                        actor=OPERATOR, context=context)


def _row(context, plan, level):
    rows = plan_readiness.readiness(context=context, hours=24)["rows"]
    return next(r for r in rows if r["plan_id"] == plan and r["level"] == level)


def test_readiness_turns_red_when_an_item_falls_below_requirement(drill):
    _stock_up(drill, 5)  # food poisoning level IV needs 4 oxygen cylinders
    row = _row(drill, PLAN, "IV")
    assert row["items_ok"]
    stock.issue_stock(data=IssueIn(depot="D1", item="O2-40L", quantity=2,
                                   destination_kind="team", destination_ref="演练"),
                      actor=OPERATOR, context=drill)
    row = _row(drill, PLAN, "IV")
    assert not row["items_ok"] and not row["ready"]
    assert [i for i in row["items"] if i["short"]] == [
        {"item": "O2-40L", "required": 4, "available": 3, "short": 1}]
    # Roles: the crews cover ems, cdc, food hygiene, food testing; the hospital is not kept.
    roles = {r["agency"]: r for r in row["roles"]}
    assert roles["ems"]["ok"] and not roles["hospital"]["known"]
    assert not row["units_ok"]  # no ambulances at all in this drill


def test_activation_records_shortfalls(drill):
    _stock_up(drill, 1)
    body = _activate(drill)
    view = plans.activation_view(activation_id=body["id"], context=drill)
    assert view["shortfalls"]["short"]
    assert {"item": "O2-40L", "required": 4, "available": 1, "short": 3} in \
        view["shortfalls"]["items"]


def test_api_and_pages(app, make_user, auth, tmp_path):
    app.config[registry.CONFIG_KEY] = str(tmp_path)
    for p in (registry.ROOT / "plans").glob("*.yaml"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "broken.yaml").write_text("id: broken\nversion: [\n", encoding="utf-8")
    make_user("operator", username="op", locale="en")  # English messages below
    auth.login("op")
    crew("live", "cdc", users=False)
    with force_locale("en"):
        # Tasks whose agency keeps nobody on duty: told before, nothing activated.
        told = auth.post_json(f"/api/plans/{PLAN}/activate",
                              {"level": "IV", "subject_ref": "FP-9"})
        assert told.status_code == 409 and told.get_json()["code"] == "recipients_needed"
        assert plans.list_activations(context="live") == []
        pre = auth.client.get(f"/api/plans/{PLAN}/recipients?level=IV").get_json()
        officer = pre["officers"][0]["id"]
        choose = {t["task_id"]: f"officer:{officer}" for t in pre["tasks"] if not t["ok"]}
        resp = auth.post_json(f"/api/plans/{PLAN}/activate",
                              {"level": "IV", "subject_ref": "FP-9", "recipients": choose})
        assert resp.status_code == 201, resp.get_json()
        activation_id = resp.get_json()["id"]
        again = auth.post_json(f"/api/plans/{PLAN}/activate",
                               {"level": "IV", "subject_ref": "FP-9"})
        assert again.status_code == 409 and "already active" in again.get_json()["error"]
        undefined = auth.post_json("/api/plans/cadre-healthcare-emergency/activate",
                                   {"level": "I", "subject_ref": "X"})
        assert undefined.status_code == 400 and "level I" in undefined.get_json()["error"]
        bogus = auth.post_json(f"/api/plans/{PLAN}/activate", {"level": "V", "subject_ref": "X"})
        assert bogus.status_code == 400
    raised = auth.post_json(f"/api/plans/activations/{activation_id}/level",
                            {"level": "III", "recipients": _choices("live", PLAN, "III")})
    assert raised.get_json()["added"] == ["trace-supply"]
    page = auth.client.get(f"/plans/activations/{activation_id}")
    assert page.status_code == 200 and "trace-supply" in page.text
    listing = auth.client.get("/plans")
    assert "invalid-plans" not in listing.text and PLAN in listing.text
    assert "broken" not in auth.client.get("/api/plans").get_json().get("invalid", "")
    ready = auth.client.get("/plans/readiness")
    assert ready.status_code == 200 and 'data-ready="no"' in ready.text

    make_user("admin", username="root")
    admin = type(auth)(app.test_client())
    admin.login("root")
    listing = admin.client.get("/plans")
    assert 'id="invalid-plans"' in listing.text and "plans/broken.yaml:3" in listing.text
    invalid = admin.client.get("/api/plans").get_json()["invalid"]
    assert invalid[0]["file"] == "plans/broken.yaml" and invalid[0]["errors"][0]["line"] == 3


def test_event_cover_pages(make_user, auth):
    make_user("liaison", username="li")
    auth.login("li")
    listing = auth.client.get("/plans/events")
    assert listing.status_code == 200 and "14th-winter-games-ulanqab" in listing.text
    page = auth.client.get("/plans/events/14th-winter-games-ulanqab")
    assert page.status_code == 200
    assert 'data-session="d3-alpine" data-ok="no"' in page.text
    assert 'data-session="d2-alpine" data-ok="yes"' in page.text
    body = auth.client.get("/api/plans/events/14th-winter-games-ulanqab").get_json()
    assert [g["session"] for g in body["coverage"]["gaps"]] == ["d3-alpine"]
    assert auth.client.get("/api/plans/events/nope").status_code == 404


def test_drill_activations_stay_out_of_live(drill, make_user, auth):
    body = _activate(drill)
    assert plans.list_activations(context="live") == []
    assert [a["id"] for a in plans.list_activations(context=drill)] == [body["id"]]
    make_user("trainer", username="tr")
    auth.login("tr")
    assert auth.client.get(f"/api/plans/activations/{body['id']}").status_code == 404
    # ?context= selects nothing (issue 16); a trainer's token names the drill it runs.
    assert auth.client.get(f"/api/plans/activations/{body['id']}?context={drill}"
                           ).status_code == 404
    seen = auth.client.get(f"/api/plans/activations/{body['id']}",
                           headers=bound_token(drill, "trainer"))
    assert seen.status_code == 200 and seen.get_json()["subject_ref"] == "FP-2026-001"
    # The same incident reference may be active in live and in a drill at once.
    crew("live", "cdc", users=False)
    _activate("live")
