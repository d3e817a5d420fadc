"""The core journeys in Chromium, every step through the pages (no API calls), in zh-CN
and English.

- an operator logs a suspected plague case on the live map, dispatches the recommended
  ambulance from the incident page, chooses the destination hospital, walks the lifecycle,
  releases the ambulance and puts it back in service after decontamination;
- a suspected case is confirmed on its page and the epidemic point (疫点) is reachable;
- a plan is activated from the incident itself;
- a liaison acknowledges on the phone and the buttons go (a second tap sends nothing);
  a declined task offers no acknowledgement;
- a drill player acts before the inject that expects it and the report says achieved early.

Screenshots of the pages this branch changed go to $COORDINATION_SHOTS when it is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from ..support import ROOT_DIR, ServerProcess, start_server
from .conftest import demo_database
from .test_ops_browser import LIVE_MS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESK = {"viewport": {"width": 1440, "height": 900}}
LANGS = ["zh_CN", "en"]
# A field point in Jining district (集宁区), Ulanqab: inside the region, near places.
JINING = ("113.1300", "41.0100")
BASIC = ROOT_DIR / "tests" / "fixtures" / "drills" / "basic.yaml"
SHOTS = os.environ.get("COORDINATION_SHOTS")


def _early_scenario() -> str:
    """The basic scenario with its injects half an hour out and the first action counted
    from the start of the run, so a player can act before the inject fires."""
    text_ = BASIC.read_text("utf-8")
    for old, new in (("offset: 1m", "offset: 30m"), ("offset: 3m", "offset: 40m"),
                     ("offset: 4m", "offset: 50m"), ("id: basic-test", "id: early-test"),
                     ("        event: dutylog.posted\n",
                      "        event: dutylog.posted\n        counted_from: start\n")):
        assert old in text_, old
        text_ = text_.replace(old, new, 1)
    return text_


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any, databases: Any) -> Iterator[ServerProcess]:
    plans = tmp_path_factory.mktemp("plans")
    shutil.copytree(ROOT_DIR / "plans", plans, dirs_exist_ok=True)
    (plans / "drills" / "early.yaml").write_text(_early_scenario(), "utf-8")
    url = demo_database(tmp_path_factory, databases, "journeys")
    srv = start_server(database_url=url, instance=tmp_path_factory.mktemp("journeys-inst"),
                       demo=True, extra_env={"COORDINATION_PLANS_PATH": str(plans)})
    srv.database_url = url  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _as(new_context: Any, base: str, user: str, lang: str, **options: Any) -> Any:
    """A browser signed in as a demo account, its language chosen with the topbar buttons."""
    page = new_context(**(options or DESK)).new_page()
    sign_in(page, base, user, f"{user}-demo")
    page.wait_for_url(lambda url: "/login" not in url)
    with page.expect_navigation():
        page.locator(f".locale-form button[value={lang}]").click()
    # An attribute selector survives the reload, where a function reading documentElement
    # may run on a document that is not there yet.
    page.locator(f"html[lang^='{lang[:2]}']").wait_for(state="attached")
    return page


def _count(database_url: str, sql: str, **params: Any) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def _log_incident(page: Any, base: str, disease: str = "plague") -> int:
    """Log a suspected case in the command room's dialog; the new incident's number."""
    page.goto(base + "/ops")
    page.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=30_000)
    page.click("#log-incident-btn")
    form = page.locator("#incident-form")
    form.locator("select[name=type]").select_option("suspected_case")
    form.locator("select[name=disease]").select_option(disease)
    assert form.locator("#disease-name-label").is_hidden()  # plague needs no name
    form.locator("input[name=lon]").fill(JINING[0])
    form.locator("input[name=lat]").fill(JINING[1])
    form.locator("input[name=reporter]").fill("集宁区医院发热门诊")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#ops-drawer:not([hidden])", timeout=LIVE_MS)  # opens beside the map
    box = page.locator("#ops-drawer #incident-recommend")
    box.locator(".dispatch-btn").first.wait_for(timeout=LIVE_MS)  # recommended units listed
    return int(box.get_attribute("data-incident"))


def _submit(page: Any, button: Any) -> None:
    with page.expect_navigation():
        button.click()
    assert page.locator(".flash-error").count() == 0, page.locator(".flash-error").inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_log_dispatch_destination_lifecycle_release_back_in_service(
        server: ServerProcess, new_context: Any, lang: str) -> None:
    base = server.url
    page = _as(new_context, base, "operator", lang)
    incident = _log_incident(page, base)
    # The disease-name field shows only for a disease that needs a name.
    page.click("#log-incident-btn")
    form = page.locator("#incident-form")
    form.locator("select[name=disease]").select_option("other")
    assert form.locator("#disease-name-label").is_visible()
    form.locator("select[name=disease]").select_option("plague")
    assert form.locator("#disease-name-label").is_hidden()

    page.goto(f"{base}/incidents/{incident}")
    status = page.locator("form.status-form button[name=status].primary")
    _submit(page, status)  # reported → verified
    button = page.locator("#incident-recommend .dispatch-btn").first
    button.wait_for(timeout=LIVE_MS)
    unit_id = int(button.get_attribute("data-unit"))
    button.click()
    page.locator("#incident-changed:not([hidden]) a").click()  # the page's own reload link
    page.wait_for_load_state()
    assert page.locator(f'#assigned-units li[data-unit="{unit_id}"]').count() == 1

    _submit(page, page.locator("#destination-choices button").first)
    chosen = page.locator("#incident-destination").inner_text()
    assert chosen != "—"
    _submit(page, page.locator("form.status-form button[name=status].primary"))  # on scene
    _submit(page, page.locator("form.status-form button[name=status].primary"))  # transporting
    _submit(page, page.locator("form.status-form button[name=status].primary"))  # at hospital
    _shot(page, f"incident-{lang}-1440")
    _submit(page, page.locator(f'#assigned-units li[data-unit="{unit_id}"] button'))
    waiting = page.locator(f'#awaiting-service li[data-unit="{unit_id}"]')
    assert waiting.count() == 1  # decontaminating after a plague patient
    _submit(page, waiting.locator("button"))
    assert page.locator("#awaiting-service").count() == 0
    assert _count(server.database_url, "SELECT count(*) FROM units WHERE id = :id "
                  "AND status = 'available' AND context = 'live'", id=unit_id) == 1

    # The timeline names statuses by their display names, never by their codes.
    timeline = page.locator("#timeline").inner_text()
    for code in ("reported", "verified", "on_scene", "transporting", "at_hospital"):
        assert f" {code} " not in f" {timeline} ", (code, timeline)
    word = {"zh_CN": "已核实", "en": "Verified"}[lang]
    assert word in timeline


def test_clicking_where_an_ambulance_stands_sets_the_incident_location(
        server: ServerProcess, new_context: Any) -> None:
    page = _as(new_context, server.url, "operator", "zh_CN")
    page.goto(server.url + "/ops")
    page.wait_for_selector("#livemap[data-state=ready]", state="attached", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#livemap .unit-marker, "
                           "#livemap .leaflet-marker-icon') !== null", timeout=LIVE_MS)
    page.click("#log-incident-btn")  # a map click sets the location while the dialog is open
    # An ambulance's marker (facilities carry titles too, so the class picks the unit) that
    # nothing covers at its centre: the open dialog, a panel or another marker may lie over
    # some of them, depending on where the demo's ambulances have driven by now.
    icons = page.locator("#livemap .leaflet-marker-pane .leaflet-marker-icon.unit-icon[title]")
    index = page.evaluate("""sel => {
        const all = [...document.querySelectorAll(sel)];
        return all.findIndex(el => {
            const r = el.getBoundingClientRect();
            const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return r.width > 0 && top !== null && (top === el || el.contains(top));
        });
    }""", "#livemap .leaflet-marker-pane .leaflet-marker-icon.unit-icon[title]")
    assert index >= 0, "no ambulance marker is uncovered on the map"
    icon = icons.nth(index)
    box = icon.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#incident-form input[name=lon]')"
                           ".value !== ''", timeout=10_000)
    lon = page.input_value("#incident-form input[name=lon]")
    lat = page.input_value("#incident-form input[name=lat]")
    assert lon and lat, "the click on the ambulance did not set the incident location"
    # While the logging dialog is open a click is a location (the popup waits until it closes).
    title = icon.get_attribute("title")
    unit = page.evaluate(
        "t => { for (let i = 1; i < 500; i++) { const u = Coordination.livemap.unit(i);"
        " if (u && u.props.call_sign === t) return u; } return null; }", title)
    assert unit is not None
    assert float(lon) == pytest.approx(unit["lng"], abs=0.05)
    assert float(lat) == pytest.approx(unit["lat"], abs=0.05)


@pytest.mark.parametrize("lang", LANGS)
def test_suspected_case_confirmed_draws_the_epidemic_point(
        server: ServerProcess, new_context: Any, lang: str) -> None:
    base = server.url
    page = _as(new_context, base, "operator", lang)
    incident = _log_incident(page, base)
    page.goto(f"{base}/incidents/{incident}")
    _submit(page, page.locator("#confirm-form button"))
    assert page.locator("#confirm-form").count() == 0  # confirmed once
    zone = page.locator("#incident-zones a").first
    zone.wait_for(timeout=LIVE_MS)
    title = page.locator("#incident-title").inner_text()
    assert {"zh_CN": "确诊病例", "en": "Confirmed case"}[lang] in title
    _shot(page, f"incident-confirmed-{lang}-1440")
    zone.click()
    page.wait_for_url("**/zones/*")
    assert page.locator("main").inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_activate_the_plan_from_the_incident(
        server: ServerProcess, new_context: Any, lang: str) -> None:
    base = server.url
    page = _as(new_context, base, "operator", lang)
    incident = _log_incident(page, base)
    page.goto(f"{base}/incidents/{incident}")
    plan = page.locator("#incident-plan-form")
    assert plan.locator("select[name=plan_id]").input_value() == "plague-human-case"
    plan.locator("select[name=level]").select_option("IV")
    with page.expect_navigation():
        plan.locator("button[type=submit]").click()
    page.wait_for_url("**/plans/activations/*")
    assert str(incident) in page.locator("main").inner_text()
    page.goto(f"{base}/incidents/{incident}")
    assert page.locator(".plan-active a").count() == 1


def _send_task(page: Any, base: str, title: str) -> str:
    page.goto(f"{base}/tasks")
    form = page.locator("#task-form")
    form.locator("select[name=agency_code]").select_option("cdc")
    form.locator("input[name=title]").fill(title)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/tasks/*")
    return page.url.rstrip("/").rsplit("/", 1)[1]


def _task_on_phone(server: ServerProcess, new_context: Any, lang: str, title: str
                   ) -> tuple[Any, str, Any]:
    """The liaison's phone, live on My tasks, and the card of a task the desk just sent."""
    phone = _as(new_context, server.url, "liaison", lang, **PHONE)
    phone.goto(f"{server.url}/my/tasks")
    phone.locator("#conn-state[data-state=live]").wait_for(timeout=LIVE_MS)
    desk = _as(new_context, server.url, "operator", lang)
    task = _send_task(desk, server.url, title)
    card = phone.locator(f'.task-card[data-task="{task}"]')
    card.wait_for(timeout=LIVE_MS)
    return phone, task, card


@pytest.mark.parametrize("lang", LANGS)
def test_liaison_acknowledges_then_the_buttons_are_gone(
        server: ServerProcess, new_context: Any, lang: str) -> None:
    phone, task, card = _task_on_phone(server, new_context, lang, f"E2E 确认后按钮消失 {lang}")
    assert card.locator(".t-ack").is_visible() and card.locator(".t-decline").is_visible()
    card.locator(".t-ack").tap()
    phone.locator(f'.task-card[data-task="{task}"][data-status="acknowledged"]').wait_for(
        timeout=LIVE_MS)
    card = phone.locator(f'.task-card[data-task="{task}"]')
    assert card.locator(".t-ack").is_hidden() and card.locator(".t-decline").is_hidden()
    _shot(phone, f"mytasks-acknowledged-{lang}-390")
    card.locator(".t-ack").dispatch_event("click")  # a tap that slips through: no re-send
    phone.wait_for_timeout(500)
    assert phone.evaluate("window.Coordination.myTasks.queue()") == []
    assert _count(server.database_url, "SELECT count(*) FROM events WHERE type = "
                  "'task.acknowledged' AND subject_id = :id", id=task) == 1


@pytest.mark.parametrize("lang", LANGS)
def test_a_declined_task_offers_no_acknowledgement(
        server: ServerProcess, new_context: Any, lang: str) -> None:
    phone, task, card = _task_on_phone(server, new_context, lang, f"E2E 拒绝后无确认 {lang}")
    card.locator(".t-decline input[name=reason]").fill("人在外地")
    card.locator(".t-decline button").tap()
    phone.wait_for_function(
        "id => { const c = document.querySelector(`.task-card[data-task='${id}']`);"
        " return c && c.querySelector('.t-decline').hidden; }", arg=task, timeout=LIVE_MS)
    card = phone.locator(f'.task-card[data-task="{task}"]')
    assert card.locator(".t-ack").is_hidden() and card.locator(".t-decline").is_hidden()
    assert card.locator(".t-status").inner_text() == {
        "zh_CN": "您已拒绝此任务", "en": "You declined this task"}[lang]
    _shot(phone, f"mytasks-declined-{lang}-390")
    assert _count(server.database_url, "SELECT count(*) FROM events WHERE type = "
                  "'task.acknowledged' AND subject_id = :id", id=task) == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_drill_action_before_its_inject_is_achieved_early(
        server: ServerProcess, new_context: Any, lang: str) -> None:
    base = server.url
    trainer = _as(new_context, base, "trainer", lang)
    trainer.goto(base + "/drills")
    row = trainer.locator("#drill-scenarios tr", has_text="early.yaml")
    row.locator("input[name=speed]").fill("1")
    row.locator("button[type=submit]").click()
    trainer.wait_for_url("**/drills/runs/*")
    run_url = trainer.url
    trainer.locator("button[data-action=start]").click()
    trainer.wait_for_selector("#drill-console[data-status=running]")

    player = _as(new_context, base, "operator", lang)
    player.goto(base + "/drills")
    run_id = run_url.rstrip("/").rsplit("/", 1)[1]
    player.locator(f'#drill-runs tr[data-run="{run_id}"] form button[type=submit]').click()
    player.wait_for_selector("#exercise-banner")
    player.goto(base + "/ops")
    player.locator("#dutylog-box > summary").click()  # the duty log folds under the feed
    log = player.locator("#dutylog-form")
    log.locator("textarea[name=text]").fill("乌120-01 发动机异响，已安排替补车辆")
    log.locator("button[type=submit]").click()
    player.wait_for_function("() => document.querySelector('#dutylog-list').textContent"
                             ".includes('发动机异响')", timeout=LIVE_MS)

    trainer.goto(run_url)
    _shot(trainer, f"drill-console-{lang}-1440")
    first = trainer.locator("#injects tbody tr").first  # inject 1, the earliest
    with trainer.expect_navigation():
        first.locator("form button[type=submit]").click()
    with trainer.expect_navigation():
        trainer.locator("button[data-action=end]").click()
    trainer.goto(run_url + "/report")
    result = trainer.locator('#report-actions tr[data-action="log-breakdown"]')
    assert "result-early" in result.get_attribute("class")
    assert {"zh_CN": "提前完成", "en": "Achieved early"}[lang] in result.inner_text()
    _shot(trainer, f"drill-report-{lang}-1440")
