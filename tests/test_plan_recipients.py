"""No task to nobody: activation with a role nobody holds is told first, the operator's
choice per task is applied (head, command room, named officer), no task is created
without a recipient, readiness shows the same gap ahead of time, and the pages ask."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from coordination.alerts import service as alerts
from coordination.events import Actor
from coordination.extensions import db
from coordination.plans import readiness as plan_readiness
from coordination.plans import service as plans
from coordination.plans.models import PlanActivation
from coordination.plans.recipients import RecipientsNeeded
from coordination.plans.schema import Level
from coordination.plans.schemas import ActivationIn
from coordination.roster.models import Task as RosterTask

from .roster_factories import crew, drill_context

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
OPERATOR = Actor(kind="user", id=None, name="operator-test")
PLAN = "food-poisoning"


@pytest.fixture
def drill(app):
    name = drill_context("drill-recipients", T0)
    for code in ("cdc", "ems", "food_hygiene", "food_testing"):
        crew(name, code, users=False)
    # The command room's own agency is kept, but nobody is on duty as its primary.
    commission = crew(name, "health_commission", primaries=0, backups=0, users=False)
    return name, commission


def count(model, *where):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_told_before_then_each_choice_applied(drill):
    ctx, commission = drill
    pre = plans.recipients_preview(plan_id=PLAN, level=Level.IV, context=ctx)
    gaps = {t["task_id"]: t for t in pre["tasks"] if not t["ok"]}
    assert set(gaps) == {"treat", "report-2h"}
    assert gaps["report-2h"]["kept"] and gaps["report-2h"]["options"] == [
        "head", "command_room", "officer"]
    assert not gaps["treat"]["kept"] and "head" not in gaps["treat"]["options"]
    with pytest.raises(RecipientsNeeded) as told:
        plans.activate_plan(plan_id=PLAN, actor=OPERATOR, context=ctx,
                            data=ActivationIn(level="IV", subject_ref="FP-1"))
    assert {t["task_id"] for t in told.value.details["tasks"]} == {"treat", "report-2h"}
    assert count(PlanActivation, PlanActivation.context == ctx) == 0
    assert count(RosterTask, RosterTask.context == ctx) == 0
    # A choice that is impossible for the task (no head at an agency not kept) asks again.
    with pytest.raises(RecipientsNeeded):
        plans.activate_plan(plan_id=PLAN, actor=OPERATOR, context=ctx, data=ActivationIn(
            level="IV", subject_ref="FP-1",
            recipients={"treat": "head", "report-2h": "head"}))
    assert count(RosterTask, RosterTask.context == ctx) == 0
    named = pre["officers"][0]
    body = plans.activate_plan(plan_id=PLAN, actor=OPERATOR, context=ctx, data=ActivationIn(
        level="IV", subject_ref="FP-1",
        recipients={"report-2h": "head", "treat": "command_room",
                    "transport": f"officer:{named['id']}"}))  # ems has someone: ignored
    assert body["redirected"] == {"report-2h": "head", "treat": "command_room"}
    view = plans.activation_view(activation_id=body["id"], context=ctx)
    rows = {t["task_id"]: t for ph in view["phases"] for t in ph["tasks"]}
    assert all(r["roster_task_id"] for r in rows.values())
    assert rows["report-2h"]["assignee"] == commission.head["name"]
    assert rows["treat"]["state"] == "open" and rows["treat"]["target"] == "command_room"
    assert rows["transport"]["assignee"] and rows["transport"]["assignee"] != named["name"]
    keys = {a["key"] for a in alerts.list_alerts(context=ctx)}
    assert f"plan-task:{rows['treat']['roster_task_id']}" in keys


def test_a_named_officer_of_another_agency(drill):
    ctx, _commission = drill
    pre = plans.recipients_preview(plan_id=PLAN, level=Level.IV, context=ctx)
    cdc = next(o for o in pre["officers"] if o["agency"] == "cdc")
    body = plans.activate_plan(plan_id=PLAN, actor=OPERATOR, context=ctx, data=ActivationIn(
        level="IV", subject_ref="FP-2",
        recipients={"report-2h": f"officer:{cdc['id']}", "treat": f"officer:{cdc['id']}"}))
    rows = {t["task_id"]: t for ph in plans.activation_view(
        activation_id=body["id"], context=ctx)["phases"] for t in ph["tasks"]}
    assert rows["treat"]["assignee"] == rows["report-2h"]["assignee"] == cdc["name"]
    from coordination.roster import service as roster

    task = roster.get_task(context=ctx, task_id=rows["treat"]["roster_task_id"])
    assert task["agency_code"] == "cdc" and task["chain"][0]["target"] == "officer"


def test_readiness_shows_the_gap_ahead_of_time(drill):
    ctx, _commission = drill
    plan_readiness.clear_cache()
    rows = plan_readiness.readiness(context=ctx)["rows"]
    row = next(r for r in rows if r["plan_id"] == PLAN and r["level"] == "IV")
    assert {t["task_id"] for t in row["unreached_tasks"]} == {"treat", "report-2h"}
    assert not row["recipients_ok"] and not row["ready"]


def test_the_page_asks_before_activating(app, make_user, auth):
    for code in ("cdc", "ems", "food_hygiene", "food_testing"):
        crew("live", code, users=False)
    make_user("operator", username="op")
    auth.login("op")
    form = {"csrf_token": auth.csrf, "level": "IV", "subject_kind": "incident",
            "subject_ref": "FP-<b>7</b>", "note": ""}
    asked = auth.client.post(f"/plans/{PLAN}/activate", data=form)
    assert asked.status_code == 409 and 'id="recipients-form"' in asked.text
    assert 'name="recipient.treat"' in asked.text and "FP-<b>7</b>" not in asked.text
    assert count(PlanActivation) == 0
    pre = plans.recipients_preview(plan_id=PLAN, level=Level.IV)
    officer = f"officer:{pre['officers'][0]['id']}"
    done = auth.client.post(f"/plans/{PLAN}/activate", data=form | {
        "recipient.treat": officer, "recipient.report-2h": officer})
    assert done.status_code == 302 and "/plans/activations/" in done.headers["Location"]
    ready = auth.client.get("/plans/readiness")
    assert 'data-col="unreached"' in ready.text
