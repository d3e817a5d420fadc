"""Drills: scenario validation, runs at 60x with scripted players, isolation from live.

The scheduler runs for real (its own thread, the drill clock at 60x on the
wall clock), so these tests measure what a trainer would see: injects firing
on scenario time, expected actions timed from the run's event log.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from coordination.cli import main as cli
from coordination.contexts import LIVE
from coordination.db import Base
from coordination.demo import AREAS
from coordination.drills import evaluate as evaluation
from coordination.drills import scheduler
from coordination.drills import service as drills
from coordination.drills.loader import load_file, load_text
from coordination.dutylog import service as dutylog
from coordination.dutylog.schemas import NewEntry
from coordination.errors import Conflict, NotFound, ValidationFailed
from coordination.events import Actor
from coordination.extensions import db
from coordination.facilities.demo import load_map_demo
from coordination.geo.service import upsert_areas
from coordination.stock.demo import load_stock_demo

from .drill_factories import enrol
from .support import ROOT_DIR

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "drills" / "basic.yaml"
TRAINER = Actor(kind="user", id=None, name="trainer")
PLAYER = Actor(kind="user", id=None, name="operator")


def live_snapshot() -> dict[str, str]:
    """A digest of every live row of every table with a context column, per table."""
    out = {}
    with db.reading() as s:
        for table in Base.metadata.sorted_tables:
            if "context" not in table.c or table.name == "contexts":
                continue
            rows = s.execute(select(table).where(table.c.context == LIVE)
                             .order_by(*table.primary_key.columns)).mappings().all()
            blob = json.dumps([dict(r) for r in rows], default=str, sort_keys=True)
            out[table.name] = hashlib.sha256(blob.encode()).hexdigest()
        out["contexts.live"] = str(s.execute(
            select(Base.metadata.tables["contexts"]).where(
                Base.metadata.tables["contexts"].c.name == LIVE)).mappings().one())
    return out


@pytest.fixture
def demo(app: Flask) -> None:
    """The demo city without its accounts (password hashing is slow and not needed here)."""
    actor = Actor.system("demo")
    upsert_areas(areas=AREAS, actor=actor)
    load_map_demo(actor)
    load_stock_demo(actor)


@pytest.fixture
def running_scheduler(app: Flask) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(app, stop), daemon=True)
    thread.start()
    yield
    stop.set()
    drills.wake()
    thread.join(timeout=5)


def wait_for(predicate, timeout: float = 20.0, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def inject(run_id: int, number: str) -> dict:  # type: ignore[type-arg]
    return next(i for i in drills.get_run(run_id=run_id)["injects"] if i["number"] == number)


# --- validation ------------------------------------------------------------------------


def test_the_fixture_and_every_shipped_scenario_validate(app: Flask) -> None:
    files = [BASIC, *sorted((ROOT_DIR / "plans" / "drills").glob("*.yaml"))]
    for path in files:
        loaded = load_file(path)
        assert loaded.ok, [str(e) for e in loaded.errors]


BROKEN = """\
id: broken
version: "1"
title: {zh: 坏, en: Broken}
summary: {zh: 坏, en: Broken}
objectives:
  - id: o1
    text: {zh: 目标, en: Objective}
    capability: Planning
participants:
  - agency: ems
    role: {zh: 急救, en: EMS}
injects:
  - number: "1"
    offset: soon
    type: message
    from: {name: x}
    to: ems
    message: {zh: 消息, en: Message}
    controller: c
  - number: "1"
    offset: 2m
    type: unit_breakdown
    from: {name: x}
    to: nobody
    message: {zh: 消息, en: Message}
    payload: {unit: 乌120-01}
    controller: c
    expected:
      - id: a1
        text: {zh: 动作, en: Action}
        event: incident.teleported
        within: 5m
        player: ems
"""


def test_a_broken_inject_fails_validation_with_file_and_line(app: Flask) -> None:
    loaded = load_text(BROKEN, name="plans/drills/broken.yaml")
    assert not loaded.ok
    errors = {(e.line, e.field): e.message for e in loaded.errors}
    assert any(line == 14 and field == "injects.0.offset" for line, field in errors), errors
    loaded = load_text(BROKEN.replace("offset: soon", "offset: 1m"), name="b.yaml")
    by_field = {e.field: (e.line, e.message) for e in loaded.errors}
    assert by_field["injects.1.number"][0] == 20
    assert "duplicate inject number" in by_field["injects.1.number"][1]
    assert by_field["injects.1.to"][0] == 24
    assert "unknown event type" in by_field["injects.1.expected.0.event"][1]
    assert by_field["injects.1.expected.0.event"][0] == 31
    assert any(f.startswith("injects.1.payload") for f in by_field), by_field
    syntax = load_text("id: [unclosed\n", name="s.yaml")
    assert syntax.errors[0].line >= 1 and "YAML syntax error" in syntax.errors[0].message


def test_cli_validate_prints_file_line_and_fails(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, "utf-8")
    (tmp_path / "good.yaml").write_text(BASIC.read_text("utf-8"), "utf-8")
    result = CliRunner().invoke(cli, ["drills", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'broken.yaml'}:14: injects.0.offset:" in result.output
    assert "good.yaml: ok (basic-test v1, 3 injects)" in result.output
    ok = CliRunner().invoke(cli, ["drills", "validate", str(BASIC)])
    assert ok.exit_code == 0, ok.output


# --- runs ------------------------------------------------------------------------------


def _step_to_next_inject(run_id: int) -> str:
    """Drive the drill clock (not the wall clock) to the earliest pending inject's time,
    then fire what is due, as the scheduler would: the test waits for nothing."""
    from datetime import datetime

    state = drills.get_run(run_id=run_id)
    pending = sorted((i for i in state["injects"] if i["status"] == "pending"),
                     key=lambda i: i["due"])
    assert pending, "no inject is left"
    due = datetime.fromisoformat(pending[0]["due"])
    if datetime.fromisoformat(state["sim_now"]) < due:
        drills.jump_ahead(run_id=run_id, actor=TRAINER, to=due)
    drills.fire_due()
    fired = inject(run_id, pending[0]["number"])
    assert fired["status"] == "fired", fired
    return str(fired["number"])


def test_a_run_at_60x_fires_injects_on_time_and_times_the_players(demo: None) -> None:
    from datetime import datetime

    before = live_snapshot()
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    assert run["seeded"]["facilities"] > 0 and run["seeded"]["units"] > 0
    assert run["seeded"]["stock_balances"] > 0
    context = run["context"]
    drills.start_run(run_id=run["id"], actor=TRAINER)
    enrol(run, PLAYER, "operator")  # only players who joined are credited
    order = [_step_to_next_inject(run["id"])]
    assert order == ["1"]
    # Scripted player: the operator logs the breakdown as soon as inject 1 arrives (with
    # the clock held, so the time it took is the drill's, not the machine's load).
    drills.pause_run(run_id=run["id"], actor=TRAINER)
    held = datetime.fromisoformat(drills.get_run(run_id=run["id"])["sim_now"])
    dutylog.post_entry(data=NewEntry(category="info", text="乌120-01 故障，已调配替补车辆"),
                       actor=PLAYER, context=context)
    drills.resume_run(run_id=run["id"], actor=TRAINER)
    # Nobody reopens the isolation point: the contingency inject 2a must come, after 2.
    while any(i["status"] == "pending" for i in drills.get_run(run_id=run["id"])["injects"]):
        order.append(_step_to_next_inject(run["id"]))
    checked_at = datetime.fromisoformat(drills.get_run(run_id=run["id"])["sim_now"])
    drills.end_run(run_id=run["id"], actor=TRAINER)

    ev = evaluation.evaluate(run_id=run["id"])
    actions = {a["id"]: a for a in ev["actions"]}
    fired_1 = datetime.fromisoformat(inject(run["id"], "1")["fired"])
    assert actions["log-breakdown"]["achieved"] is True
    assert 0 <= actions["log-breakdown"]["taken_s"] <= (held - fired_1).total_seconds() + 0.05
    assert actions["reopen-isolation"]["achieved"] is False
    assert actions["reopen-isolation"]["taken_s"] is None
    fired = [i for i in ev["injects"] if i["fired"]]
    assert order == ["1", "2", "3", "2a"]  # 2a: two minutes after 2, past 3's minute 4
    assert [i["number"] for i in fired] == order
    # Never early; late only by what the clock ran on between reaching the inject's time
    # and firing it (the scheduler's precision is the benchmark's business:
    # tests/benchmarks/drill_bench.py).
    for i in fired:
        due = datetime.fromisoformat(inject(run["id"], i["number"])["due"])
        assert 0 <= i["lateness_s"] <= (checked_at - due).total_seconds() + 0.05, i
    # The drill's own world changed, live did not.
    assert live_snapshot() == before
    with db.reading() as s:
        from coordination.units.models import Unit

        broken = s.scalar(select(Unit).where(Unit.context == context,
                                             Unit.call_sign == "乌120-01"))
        live_unit = s.scalar(select(Unit).where(Unit.context == LIVE,
                                                Unit.call_sign == "乌120-01"))
        assert broken.status == "out_of_service" and live_unit.status == "available"
        start = s.scalar(select(Unit).where(Unit.context == context,
                                            Unit.call_sign == "乌120-05"))
        assert start.status == "decontaminating"


def test_pause_and_resume_keep_inject_order(demo: None, running_scheduler: None) -> None:
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    wait_for(lambda: inject(run["id"], "1")["status"] == "fired")
    drills.pause_run(run_id=run["id"], actor=TRAINER)
    frozen = drills.get_run(run_id=run["id"])["sim_now"]
    # Stands still: the paused clock reads the same a scenario hour of wall time later
    # (asked of the clock itself, no waiting), and a sweep while paused fires nothing.
    from coordination.clock import wall_now
    from coordination.contexts import Context
    from coordination.drills.firing import fire_due

    with db.reading() as s:
        clock = s.get(Context, run["context"]).clock()
    assert clock.sim_time_at(wall_now() + timedelta(minutes=60)).isoformat() == frozen
    assert fire_due(actor=TRAINER) == []
    paused = drills.get_run(run_id=run["id"])
    assert paused["sim_now"] == frozen
    assert inject(run["id"], "2")["status"] == "pending"
    with pytest.raises(Conflict):
        drills.pause_run(run_id=run["id"], actor=TRAINER)
    drills.resume_run(run_id=run["id"], actor=TRAINER)
    wait_for(lambda: inject(run["id"], "3")["status"] == "fired")
    drills.end_run(run_id=run["id"], actor=TRAINER)
    fired = sorted((i for i in drills.get_run(run_id=run["id"])["injects"] if i["fired"]),
                   key=lambda i: i["fired"])
    assert [i["number"] for i in fired][:3] == ["1", "2", "3"]
    assert all(i["fired"] >= i["due"] for i in fired)


def test_injects_read_ahead_fire_only_when_their_time_comes(demo: None) -> None:
    from datetime import timedelta

    from coordination.clock import wall_now

    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    # Read an hour ahead (the scheduler reads 20 ms ahead): every inject is found...
    ahead = drills.due_by(wall_now() + timedelta(hours=1))
    numbers = {i["id"]: i["number"] for i in drills.get_run(run_id=run["id"])["injects"]}
    assert {numbers[i] for i in ahead.quick + ahead.one_by_one} == {"1", "2", "3"}
    # ...but none is due yet (the first comes a minute into the scenario): none fires.
    assert drills.fire(ahead) == []
    assert {i["status"] for i in drills.get_run(run_id=run["id"])["injects"]} == {"pending"}
    # A paused run's injects are not found at all, however far ahead one looks.
    drills.pause_run(run_id=run["id"], actor=TRAINER)
    later = drills.due_by(wall_now() + timedelta(hours=1))
    assert later.quick == [] and later.one_by_one == []
    drills.end_run(run_id=run["id"], actor=TRAINER)


def test_fire_early_adhoc_and_bad_requests(demo: None) -> None:
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=10, actor=TRAINER)
    with pytest.raises(Conflict):
        drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "3")["id"], actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    with pytest.raises(Conflict):
        drills.start_run(run_id=run["id"], actor=TRAINER)
    fired = drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "3")["id"],
                            actor=TRAINER)
    assert fired["status"] == "fired" and fired["early"] is True
    with pytest.raises(Conflict):
        drills.fire_now(run_id=run["id"], inject_id=fired["id"], actor=TRAINER)
    with force_locale("en"), pytest.raises(ValidationFailed, match="between 1× and 60×"):
        drills.set_speed(run_id=run["id"], speed=120, actor=TRAINER)
    with pytest.raises(Conflict):
        drills.delete_run(run_id=run["id"], actor=TRAINER)
    obs = drills.add_observation(run_id=run["id"], player="ems", text="电话打通用时 4 分钟",
                                 inject_number="1", actor=TRAINER)
    assert obs["player"] == "ems"
    with pytest.raises(ValidationFailed):
        drills.add_observation(run_id=run["id"], player="", text="x", inject_number=None,
                               actor=TRAINER)
    with pytest.raises(NotFound):
        drills.get_run(run_id=9999)


def test_deleting_a_run_leaves_live_byte_for_byte(demo: None) -> None:
    before = live_snapshot()
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "1")["id"], actor=TRAINER)
    drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "2")["id"], actor=TRAINER)
    dutylog.post_entry(data=NewEntry(category="info", text="演练记录"), actor=PLAYER,
                       context=run["context"])
    drills.end_run(run_id=run["id"], actor=TRAINER)
    assert live_snapshot() == before
    removed = drills.delete_run(run_id=run["id"], actor=TRAINER)
    assert removed["facilities"] > 0 and removed["events"] > 0
    assert live_snapshot() == before
    with db.reading() as s:
        for table in Base.metadata.sorted_tables:
            if "context" in table.c:
                left = s.execute(select(table).where(table.c.context == run["context"])).first()
                assert left is None, table.name


# --- pages -----------------------------------------------------------------------------


def test_trainer_runs_a_drill_from_the_pages_and_players_join_it(
        demo: None, client, auth, make_user, tmp_path: Path, app: Flask) -> None:  # type: ignore[no-untyped-def]
    app.config["COORDINATION"].plans_path = FIXTURES
    make_user("trainer", username="coach")
    make_user("operator", username="op")
    auth.login("coach")
    index = client.get("/drills")
    assert index.status_code == 200 and "basic.yaml" in index.text
    from .support import csrf_from

    token = csrf_from(index.text)
    bad = client.post("/drills/runs", data={"scenario": "../../pyproject.toml", "speed": "10",
                                            "csrf_token": token}, follow_redirects=True)
    assert bad.status_code == 200 and "drill-runs" in bad.text
    assert drills.list_runs() == []
    resp = client.post("/drills/runs", data={"scenario": "basic.yaml", "speed": "30",
                                             "csrf_token": token})
    assert resp.status_code == 302
    run = drills.list_runs()[0]
    console = client.get(resp.headers["Location"])
    assert console.status_code == 200 and 'id="injects"' in console.text
    started = client.post(f"/drills/runs/{run['id']}/start", data={"csrf_token": token})
    assert started.status_code == 302
    assert drills.get_run(run_id=run["id"])["status"] == "running"
    # An operator joins from the drill list: every page now carries the banner.
    client.post("/logout", data={"csrf_token": token})
    auth.login("op")
    page = client.get("/drills")
    assert 'id="exercise-banner"' not in page.text
    client.post(f"/drills/runs/{run['id']}/join", data={"csrf_token": csrf_from(page.text)})
    for url in ("/ops", "/me", "/drills", "/facilities"):
        assert 'id="exercise-banner"' in client.get(url).text, url
    ops = client.get("/ops").text
    assert run["context"] in ops  # the live channel connects to the drill's context
    client.post("/drills/leave", data={"csrf_token": csrf_from(ops)})
    assert 'id="exercise-banner"' not in client.get("/ops").text
    # Operators cannot drive the run.
    assert client.post(f"/drills/runs/{run['id']}/end",
                       data={"csrf_token": csrf_from(ops)}).status_code == 403


def test_after_action_report_html_and_pdf(demo: None, client, auth, make_user) -> None:  # type: ignore[no-untyped-def]
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "1")["id"], actor=TRAINER)
    enrol(run, PLAYER, "operator")
    dutylog.post_entry(data=NewEntry(category="info", text="已记录"), actor=PLAYER,
                       context=run["context"])
    drills.rate_task(run_id=run["id"], task_id="ct-log", rating=drills.Rating.S,
                     notes="记录及时，通报稍慢", actor=TRAINER)
    from datetime import date

    drills.add_improvement(run_id=run["id"], issue="<script>alert(1)</script> 通报慢",
                           action="修订通报流程", element=drills.Capability.PLANNING,
                           agency="市卫健委", owner="应急办", start=date(2026, 12, 1),
                           end=date(2026, 12, 31), actor=TRAINER)
    drills.end_run(run_id=run["id"], actor=TRAINER)
    make_user("trainer", username="coach")
    auth.login("coach")
    html = client.get(f"/drills/runs/{run['id']}/report")
    assert html.status_code == 200
    assert 'id="fig-achieved">1<' in html.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.text
    assert "<script>alert(1)" not in html.text
    pdf = client.get(f"/drills/runs/{run['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/drills/runs/999/report").status_code == 404


def test_console_forms_act_and_refusals_come_back_as_messages(
        demo: None, client, auth, make_user, app: Flask) -> None:  # type: ignore[no-untyped-def]
    from .support import csrf_from

    app.config["COORDINATION"].plans_path = FIXTURES
    make_user("trainer", username="coach2", locale="en")
    auth.login("coach2")
    run = drills.create_run(path=BASIC, root=FIXTURES, speed=10, actor=TRAINER)
    rid = run["id"]
    token = csrf_from(client.get(f"/drills/runs/{rid}").text)

    def post(path: str, **data: str):  # type: ignore[no-untyped-def]
        resp = client.post(f"/drills/runs/{rid}/{path}", data={"csrf_token": token, **data})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/drills/runs/{rid}")
        return client.get(f"/drills/runs/{rid}").text

    assert "between 1× and 60×" in post("speed", speed="90")
    post("start")
    post("speed", speed="30")
    assert drills.get_run(run_id=rid)["speed"] == 30
    post(f"injects/{inject(rid, '3')['id']}/fire")
    assert inject(rid, "3")["status"] == "fired"
    post("injects", number="X1", to="operator", type="message", message="电话：请回报",
         payload="{}", delivery="phone")
    assert inject(rid, "X1")["status"] == "fired"
    assert "not valid JSON" in post("injects", number="X2", to="operator", type="message",
                                    message="m", payload="{")
    post("observations", player="ems", text="到场及时", inject="1")
    post("ratings", task="ct-log", rating="P", notes="")
    post("improvements", issue="通报慢", action="修订流程", element="planning",
         agency="卫健委", owner="应急办", start="2026-12-01", end="2026-12-31")
    report = evaluation.evaluate(run_id=rid)
    assert report["observations"][0]["text"] == "到场及时"
    assert report["critical_tasks"][0]["evaluation"]["rating"] == "P"
    assert report["improvements"][0]["issue"] == "通报慢"


def test_an_action_before_its_inject_is_achieved_early_where_the_scenario_says_so(
        demo: None, tmp_path: Path) -> None:
    """The CDC acknowledges at 20:41, inject 2 fires at 20:56: achieved early, not missed."""
    text = BASIC.read_text("utf-8").replace(
        "        event: dutylog.posted\n        within: 5m\n",
        "        event: dutylog.posted\n        within: 5m\n        counted_from: start\n", 1)
    assert "counted_from: start" in text
    scenario = tmp_path / "early.yaml"
    scenario.write_text(text, "utf-8")
    run = drills.create_run(path=scenario, root=tmp_path, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    enrol(run, PLAYER)
    dutylog.post_entry(data=NewEntry(category="info", text="提前处置"), actor=PLAYER,
                       context=run["context"])
    drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "1")["id"], actor=TRAINER)
    drills.end_run(run_id=run["id"], actor=TRAINER)
    ev = evaluation.evaluate(run_id=run["id"])
    act = next(a for a in ev["actions"] if a["id"] == "log-breakdown")
    assert act["state"] == "early" and act["achieved"] and act["early"]
    assert act["counted_from"] == "start" and act["ahead_s"] >= 0
    assert ev["summary"]["early"] == 1 and ev["summary"]["missed"] == len(ev["actions"]) - 1
    with force_locale("zh_CN"):
        from coordination.drills.report import view_model

        assert view_model(run["id"])["bars"][0]["state"] == "early"


def test_without_counted_from_an_action_before_its_inject_does_not_count(demo: None) -> None:
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    enrol(run, PLAYER)
    dutylog.post_entry(data=NewEntry(category="info", text="提前处置"), actor=PLAYER,
                       context=run["context"])
    drills.fire_now(run_id=run["id"], inject_id=inject(run["id"], "1")["id"], actor=TRAINER)
    drills.end_run(run_id=run["id"], actor=TRAINER)
    act = next(a for a in evaluation.evaluate(run_id=run["id"])["actions"]
               if a["id"] == "log-breakdown")
    assert act["state"] == "missed" and not act["early"]


def test_counted_from_is_validated(tmp_path: Path) -> None:
    text = BASIC.read_text("utf-8").replace(
        "        event: dutylog.posted\n", "        event: dutylog.posted\n"
        "        counted_from: yesterday\n", 1)
    result = load_text(text, name="bad.yaml")
    assert not result.ok and any("counted_from" in str(e) for e in result.errors)


def test_jumping_to_an_inject_already_within_the_lead_never_jumps_behind_the_clock(
        demo: None) -> None:
    """The second jump finds the next inject due within JUMP_LEAD_SECONDS: it lands on
    the clock's own now (the running clock moves on while the jump is worked out)."""
    from datetime import datetime, timedelta

    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    first = drills.jump_ahead(run_id=run["id"], actor=TRAINER)
    start = datetime.fromisoformat(first["sim_start"])
    assert datetime.fromisoformat(first["sim_now"]) >= start + timedelta(seconds=50)
    again = drills.jump_ahead(run_id=run["id"], actor=TRAINER)
    assert again["status"] == "running" and again["paused"] is False
    assert again["sim_now"] >= first["sim_now"]
    assert inject(run["id"], "1")["status"] == "pending"  # jumps never skip an inject
