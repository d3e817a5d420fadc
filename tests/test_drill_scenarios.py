"""Every shipped scenario runs to the end at 60x with scripted players.

The scheduler fires the injects for real on the drill clock; between injects
the run jumps ahead (an exercise's time jump) so hours of script pass in
seconds. Players act through the same services as live: they dispatch the
recommended negative-pressure ambulance, activate the plan, acknowledge the
CDC's task, isolate contacts, move stock. Each scenario leaves some expected
action undone on purpose, so the report's figures are checked both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination.auth.models import User
from coordination.demo import load_demo
from coordination.drills import evaluate as evaluation
from coordination.drills import service as drills
from coordination.events import Actor
from coordination.extensions import db
from coordination.facilities import service as facilities
from coordination.facilities.models import Facility
from coordination.facilities.schemas import CapacityReportIn
from coordination.incidents import service as incidents
from coordination.incidents.schemas import ContactIn, DestinationIn, DispatchIn, IsolateIn
from coordination.plans import service as plans
from coordination.plans.schemas import ActivationIn
from coordination.roster import service as roster
from coordination.stock import service as stock
from coordination.stock.schemas import TransferIn
from coordination.units.models import Unit

from .drill_factories import enrol
from .support import ROOT_DIR
from .test_drills import running_scheduler, wait_for  # noqa: F401  (fixture)

PLANS = ROOT_DIR / "plans"
TRAINER = Actor(kind="user", id=None, name="trainer")
OPERATOR = Actor(kind="user", id=None, name="operator")
LOGISTICS = Actor(kind="user", id=None, name="logistics")

Script = Callable[[dict[str, Any], dict[str, Any]], None]


@pytest.fixture
def demo_city(app: Flask) -> None:
    load_demo()


def _unit(ctx: str, *, negative_pressure: bool | None = None, exclude: set[str] = frozenset()
          ) -> Unit:
    with db.reading() as s:
        q = select(Unit).where(Unit.context == ctx, Unit.status == "available")
        if negative_pressure is not None:
            q = q.where(Unit.negative_pressure.is_(negative_pressure))
        return next(u for u in s.scalars(q.order_by(Unit.call_sign))
                    if u.call_sign not in exclude)


def _dispatch(ctx: str, incident_id: int, **kw: Any) -> str:
    u = _unit(ctx, **kw)
    incidents.dispatch_unit(context=ctx, incident_id=incident_id,
                            data=DispatchIn(unit_id=u.id), actor=OPERATOR)
    return u.call_sign


def _activate(ctx: str, plan_id: str, incident_id: int) -> None:
    plans.activate_plan(plan_id=plan_id, context=ctx, actor=OPERATOR,
                        data=ActivationIn(level="III", subject_ref=f"incident:{incident_id}"))


def _liaison(ctx: str) -> Actor:
    with db.reading() as s:
        user = s.scalar(select(User).where(User.username == "liaison"))
    return Actor(kind="user", id=user.id, name="liaison")


def _ack_cdc(ctx: str) -> None:
    """The CDC's liaison (the demo account) acknowledges every task now addressed to them."""
    me = _liaison(ctx)
    acked = 0
    for task in roster.list_tasks(context=ctx, open_only=True, agency_code="cdc"):
        full = roster.get_task(context=ctx, task_id=task["id"])
        if any(a["user_id"] == me.id and a["current"] for a in full["assignees"]):
            try:
                roster.acknowledge_task(context=ctx, task_id=task["id"],
                                        key=f"drill-ack-{task['id']}", actor=me)
            except Exception:
                raise AssertionError((me, full)) from None
            acked += 1
    assert acked, "the plan gave the CDC's liaison no task"


def plague(inj: dict[str, Any], st: dict[str, Any]) -> None:
    ctx, n = st["context"], inj["number"]
    if n == "1":
        st["incident"] = inj["result"]["incident_id"]
        st["np"] = _dispatch(ctx, st["incident"], negative_pressure=True)
        _activate(ctx, "plague-human-case", st["incident"])
    elif n == "2":
        _ack_cdc(ctx)
    elif n == "3":  # the first negative-pressure unit broke down: send another
        _dispatch(ctx, st["incident"], negative_pressure=True, exclude={st["np"]})
    elif n == "5":
        for name in ("家属甲", "家属乙", "旱獭收购商"):
            contact = incidents.add_contact(
                context=ctx, incident_id=st["incident"], actor=OPERATOR,
                data=ContactIn(name=name, last_exposure=st["now"]() - timedelta(days=2)))
            incidents.isolate_contact(context=ctx, contact_id=contact["id"],
                                      data=IsolateIn(), actor=OPERATOR)
    elif n == "6":
        stock.send_transfer(context=ctx, actor=LOGISTICS, data=TransferIn(
            from_depot="HD", to_depot="FZ", item="N95", quantity=200))
    # Nobody acknowledges the disinfection task (inject 4): it must show as missed.


def covid(inj: dict[str, Any], st: dict[str, Any]) -> None:
    ctx, n = st["context"], inj["number"]
    if n == "1":
        st["incident"] = inj["result"]["incident_id"]
        _activate(ctx, "imported-case-cluster", st["incident"])
        _dispatch(ctx, st["incident"], negative_pressure=True)
    elif n == "2":  # the reserve isolation point reports open rooms
        with db.reading() as s:
            reserve = s.scalar(select(Facility).where(
                Facility.context == ctx, Facility.code == "IP-02"))
        facilities.report_capacity(facility_id=reserve.id, context=ctx, actor=OPERATOR,
                                   data=CapacityReportIn(status="open", note="备用点启用"))
    elif n == "3":
        incidents.add_contact(context=ctx, incident_id=st["incident"], actor=OPERATOR,
                              data=ContactIn(name="同车厢旅客1",
                                             last_exposure=st["now"]() - timedelta(days=1)))
    # Logistics does not move antigen kits after the late delivery (inject 4): missed.


def mci(inj: dict[str, Any], st: dict[str, Any]) -> None:
    ctx, n = st["context"], inj["number"]
    if n == "1":
        st["incident"] = inj["result"]["incident_id"]
        st["first"] = _dispatch(ctx, st["incident"])
        _activate(ctx, "mass-casualty-incident", st["incident"])
        _set_destination(ctx, st["incident"], "DH-02")
    elif n == "2":
        _set_destination(ctx, st["incident"], "DH-03")
    elif n == "3":
        _dispatch(ctx, st["incident"], exclude={st["first"], "乌120-06"})
    # The distribution report to the duty log (inject 4) is not written: missed.


def _set_destination(ctx: str, incident_id: int, code: str) -> None:
    with db.reading() as s:
        f = s.scalar(select(Facility).where(Facility.context == ctx, Facility.code == code))
    incidents.set_destination(context=ctx, incident_id=incident_id, actor=OPERATOR,
                              data=DestinationIn(facility_id=f.id))


CASES = {
    "plague-pastoral-banner.yaml": (plague, {"np-dispatch", "activate-plan", "cdc-ack",
                                             "np-redispatch", "zone-drawn",
                                             "contacts-isolated", "refill-n95"},
                                    {"disinfection-ack"}),
    "covid-hotel-cluster.yaml": (covid, {"activate-plan", "np-dispatch", "reserve-opened",
                                         "contact-recorded"}, {"kits-transfer"}),
    "mci-winter-games-venue.yaml": (mci, {"first-dispatch", "activate-plan", "destination",
                                          "redirect", "replace-unit"}, {"report-logged"}),
}


REACTION = timedelta(seconds=6)  # players take a few scenario seconds to react


def _react(run_id: int, act: Callable[[], None]) -> None:
    """The players act REACTION of scenario time after an inject, on the drill clock.

    The run is paused while they act, so the time their actions are stamped with
    is the drill clock's, not however long a loaded machine takes to run them.
    """
    drills.pause_run(run_id=run_id, actor=TRAINER)
    try:
        drills.jump_ahead(run_id=run_id, actor=TRAINER, to=_now(run_id) + REACTION)
        act()
    finally:
        drills.resume_run(run_id=run_id, actor=TRAINER)


def _run_to_the_end(run_id: int, script: Script, state: dict[str, Any]) -> None:
    done: set[int] = set()
    while True:
        run = drills.get_run(run_id=run_id)
        pending = [i for i in run["injects"] if i["status"] == "pending"]
        fresh = [i for i in run["injects"] if i["status"] in ("fired", "failed")
                 and i["id"] not in done]
        for inj in fresh:
            assert inj["status"] == "fired", inj
            done.add(inj["id"])
            with db.reading() as s:
                from coordination.drills.models import DrillInject

                inj["result"] = s.get(DrillInject, inj["id"]).result
            _react(run_id, lambda inj=inj: script(inj, state))
        if any(i["status"] == "firing" for i in run["injects"]):
            # An inject is being delivered: let it land before jumping.
            wait_for(lambda: not any(i["status"] == "firing"
                                     for i in drills.get_run(run_id=run_id)["injects"]),
                     timeout=30)
            continue
        if not pending:
            return
        if not fresh:
            drills.jump_ahead(run_id=run_id, actor=TRAINER)
            wait_for(lambda ids=frozenset(i["id"] for i in pending): any(
                i["id"] in ids and i["status"] in ("fired", "failed", "cancelled")
                for i in drills.get_run(run_id=run_id)["injects"]), timeout=30)


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_shipped_scenario_runs_to_the_end_at_60x(
        scenario: str, demo_city: None, running_scheduler: None) -> None:  # noqa: F811
    script, achieved, missed = CASES[scenario]
    run = drills.create_run(path=PLANS / "drills" / scenario, root=PLANS, speed=60,
                            actor=TRAINER)
    ctx = run["context"]
    state: dict[str, Any] = {
        "context": ctx,
        "now": lambda: _now(run["id"]),
    }
    drills.start_run(run_id=run["id"], actor=TRAINER)
    # The scripted players join, as people do from /drills: only they are credited.
    for player, role in ((OPERATOR, "operator"), (LOGISTICS, "logistics"),
                         (_liaison(ctx), "liaison")):
        enrol(run, player, role)
    _run_to_the_end(run["id"], script, state)
    drills.end_run(run_id=run["id"], actor=TRAINER)

    report = evaluation.evaluate(run_id=run["id"])
    by_id = {a["id"]: a for a in report["actions"]}
    assert set(by_id) == achieved | missed
    for action in achieved:
        assert by_id[action]["achieved"], (
            action, {k: by_id[action].get(k) for k in ("fired", "at", "taken_s", "target_s")},
            [(e["at"][11:19], e["type"]) for e in report["timeline"]])
        assert 0 <= by_id[action]["taken_s"] <= by_id[action]["target_s"]
    for action in missed:
        assert by_id[action]["taken_s"] is None, (action, by_id[action])
    summary = report["summary"]
    assert summary["achieved"] == len(achieved) and summary["missed"] == len(missed)
    assert summary["failed"] == 0
    assert summary["fired"] == len([i for i in report["injects"] if i["status"] == "fired"])
    # Contingencies fire only for what was missed.
    for inj in report["injects"]:
        if inj["origin"] == "contingency":
            assert inj["status"] == "cancelled", inj
    if scenario.startswith("plague"):
        assert report["ack"]["cdc"]["n"] >= 1
    html = drills_report_html(run["id"])
    assert f'id="fig-achieved">{len(achieved)}<' in html


def _now(run_id: int) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(drills.get_run(run_id=run_id)["sim_now"])


def drills_report_html(run_id: int) -> str:
    from flask import current_app

    from coordination.web.reports import drill_report_html

    with current_app.test_request_context():
        return drill_report_html(run_id=run_id)
