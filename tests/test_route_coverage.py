"""Every route has a functional test (the check at the end walks ``app.url_map``), and
the routes that had none: releasing a unit, creating a task over the API, revoking a
token, standing a plan activation down, releasing a stock reservation, the drill JSON
API, updating an account, the roster API. Each is driven through HTTP with its role
check, a refusal and the state it leaves; tests/test_routes_*.py hold the others."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from coordination.auth import service as auth_service
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.incidents.models import Assignment
from coordination.units.models import Unit

from . import map_factories as mf
from .roster_factories import crew
from .support import csrf_from
from .test_drills import demo  # noqa: F401  (fixture)

INCIDENT = {"type": "mass_casualty", "lon": 113.15, "lat": 41.02, "patients": 2}


def _events(type_: str) -> list[Event]:
    with db.reading() as s:
        return list(s.scalars(select(Event).where(Event.type == type_)))


def test_an_operator_releases_a_dispatched_unit_and_only_once(make_user, auth):
    make_user("operator", username="op-release")
    auth.login("op-release")
    u = mf.unit(call_sign="乌120-R1", lon=113.16, lat=41.03)
    inc = auth.post_json("/api/incidents", INCIDENT).get_json()
    sent = auth.post_json(f"/api/incidents/{inc['id']}/dispatch", {"unit_id": u.id})
    assert sent.status_code == 201, sent.text

    resp = auth.post_json(f"/api/incidents/{inc['id']}/units/{u.id}/release",
                          {"note": "not needed"})
    assert resp.status_code == 200, resp.text
    assert resp.get_json()["units"] == []
    with db.reading() as s:
        assert s.get(Unit, u.id).status == "available"  # no infectious patient carried
        a = s.scalars(select(Assignment).where(Assignment.unit_id == u.id)).one()
        assert a.active is False and a.status == "released"
    (released,) = _events("incident.unit_released")
    assert released.payload["note"] == "not needed"
    assert released.payload["unit"]["call_sign"] == "乌120-R1"

    again = auth.post_json(f"/api/incidents/{inc['id']}/units/{u.id}/release", {})
    assert again.status_code == 404
    assert len(_events("incident.unit_released")) == 1


def test_releasing_a_unit_needs_the_incident_managers_role(make_user, auth):
    make_user("liaison", username="li-release")
    auth.login("li-release")
    u = mf.unit(call_sign="乌120-R2")
    resp = auth.post_json(f"/api/incidents/1/units/{u.id}/release", {})
    assert resp.status_code == 403
    assert _events("incident.unit_released") == []


def test_an_operator_creates_a_task_over_the_api(make_user, auth):
    crew("live", "cdc")
    make_user("operator", username="op-task")
    auth.login("op-task")
    resp = auth.post_json("/api/tasks", {"agency_code": "cdc", "title": "采样",
                                         "details": "market", "source": "manual"})
    assert resp.status_code == 201, resp.text
    task = resp.get_json()
    assert task["agency_code"] == "cdc" and task["status"] == "open"
    assert task["created_by"] == "op-task"
    assert task["chain"][0]["current"] is True
    listed = auth.client.get("/api/tasks").get_json()
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    (created,) = _events("task.created")
    assert created.payload["id"] == task["id"]


def test_a_task_for_an_unknown_agency_or_without_a_title_is_refused(make_user, auth):
    crew("live", "cdc")
    make_user("operator", username="op-task2")
    auth.login("op-task2")
    unknown = auth.post_json("/api/tasks", {"agency_code": "nope", "title": "x"})
    assert unknown.status_code == 404 and "nope" in unknown.get_json()["error"]
    untitled = auth.post_json("/api/tasks", {"agency_code": "cdc", "title": ""})
    assert untitled.status_code == 400
    assert _events("task.created") == []


def test_creating_tasks_needs_the_task_managers_role(make_user, auth):
    crew("live", "cdc")
    make_user("logistics", username="lg-task")
    auth.login("lg-task")
    resp = auth.post_json("/api/tasks", {"agency_code": "cdc", "title": "x"})
    assert resp.status_code == 403
    assert _events("task.created") == []


def test_an_admin_revokes_a_token_and_it_stops_working(make_user, auth):
    make_user("admin", username="ad-revoke")
    auth.login("ad-revoke")
    token, secret = auth_service.create_token(name="gateway", roles=["operator"],
                                              actor=Actor.system("test"))
    assert auth_service.resolve_token(secret) is not None
    bearer = {"Authorization": f"Bearer {secret}"}
    assert auth.client.get("/api/incidents", headers=bearer).status_code == 200

    page = auth.client.get("/admin/tokens")
    resp = auth.client.post(f"/admin/tokens/{token.id}/revoke",
                            data={"csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/tokens")
    assert auth_service.resolve_token(secret) is None
    assert auth.client.get("/api/incidents", headers=bearer).status_code == 401

    missing = auth.client.post("/admin/tokens/999999/revoke",
                               data={"csrf_token": csrf_from(page.text)},
                               follow_redirects=True)
    assert missing.status_code == 200  # the page again, with the refusal flashed


def test_revoking_a_token_needs_an_admin_and_a_csrf_token(make_user, auth):
    token, secret = auth_service.create_token(name="gateway2", roles=["operator"],
                                              actor=Actor.system("test"))
    make_user("admin", username="ad-csrf")
    auth.login("ad-csrf")
    no_csrf = auth.client.post(f"/admin/tokens/{token.id}/revoke", data={})
    assert no_csrf.status_code == 400
    assert auth_service.resolve_token(secret) is not None
    auth.client.post("/logout", data={"csrf_token": auth.csrf})
    make_user("operator", username="op-revoke")
    auth.login("op-revoke")
    page = auth.client.get("/me")
    refused = auth.client.post(f"/admin/tokens/{token.id}/revoke",
                               data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 403
    assert auth_service.resolve_token(secret) is not None


def test_an_operator_stands_an_activation_down_over_the_api_once(make_user, auth):
    for code in ("cdc", "ems", "food_hygiene", "food_testing"):
        crew("live", code, users=False)
    make_user("operator", username="op-stand")
    auth.login("op-stand")
    pre = auth.client.get("/api/plans/food-poisoning/recipients?level=IV").get_json()
    chosen = {t["task_id"]: f"officer:{pre['officers'][0]['id']}" for t in pre["tasks"]
              if not t["ok"]}
    resp = auth.post_json("/api/plans/food-poisoning/activate",
                          {"level": "IV", "subject_ref": "FP-77", "recipients": chosen})
    assert resp.status_code == 201, resp.text
    activation_id = resp.get_json()["id"]
    open_tasks = [t for t in auth.client.get("/api/tasks?open=1").get_json()["tasks"]]
    assert open_tasks  # the activation paged the agencies

    empty = auth.post_json(f"/api/plans/activations/{activation_id}/stand-down", {})
    assert empty.status_code == 400  # a reason is required
    done = auth.post_json(f"/api/plans/activations/{activation_id}/stand-down",
                          {"reason": "所有病例已转运"})
    assert done.status_code == 200, done.text
    body = done.get_json()
    assert body["status"] == "stood_down"
    assert auth.client.get("/api/tasks?open=1").get_json()["tasks"] == []  # nobody paged on
    again = auth.post_json(f"/api/plans/activations/{activation_id}/stand-down",
                           {"reason": "again"})
    assert again.status_code == 409
    # The incident reference is free again: the same plan may be activated for it.
    reopened = auth.post_json("/api/plans/food-poisoning/activate",
                              {"level": "IV", "subject_ref": "FP-77", "recipients": chosen})
    assert reopened.status_code == 201


def test_logistics_releases_a_reservation_over_the_api_once(app, make_user, auth):
    from .test_stock_support import make_depot, make_item, receive, soon

    make_depot("D1")
    make_item("N95")
    receive("D1", "N95", "L1", 10, soon(100))
    make_user("logistics", username="lg-release")
    auth.login("lg-release")
    made = auth.post_json("/api/stock/reservations",
                          {"depot": "D1", "item": "N95", "quantity": 4, "incident_ref": "I-9"})
    assert made.status_code == 201, made.text
    rid = made.get_json()["id"]
    listed = auth.client.get("/api/stock/reservations").get_json()["reservations"]
    assert [r["id"] for r in listed] == [rid]

    resp = auth.post_json(f"/api/stock/reservations/{rid}/release", {})
    assert resp.status_code == 200, resp.text
    assert resp.get_json()["id"] == rid and resp.get_json()["status"] == "released"
    assert auth.client.get("/api/stock/reservations").get_json()["reservations"] == []
    again = auth.post_json(f"/api/stock/reservations/{rid}/release", {})
    assert again.status_code == 409
    missing = auth.post_json("/api/stock/reservations/999999/release", {})
    assert missing.status_code == 404


def test_the_drill_json_api_runs_a_drill_from_create_to_evaluation(app, demo, make_user, auth,  # noqa: F811
                                                                    tmp_path):
    """Create (by scenario name), read, start, pause, resume, speed, jump, end, evaluate."""
    from .test_drills import BASIC

    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "basic.yaml").write_bytes(BASIC.read_bytes())
    app.config["COORDINATION"].plans_path = tmp_path
    make_user("trainer", username="tr-api")
    auth.login("tr-api")

    assert auth.post_json("/api/drills/runs", {"scenario": "../secrets.yaml"}).status_code == 404
    assert auth.post_json("/api/drills/runs",
                          {"scenario": "basic.yaml", "speed": True}).status_code == 400
    made = auth.post_json("/api/drills/runs", {"scenario": "basic.yaml", "speed": 30})
    assert made.status_code == 201, made.text
    run = made.get_json()
    assert run["status"] == "ready" and run["allowed_actions"] == ["start", "end"]
    rid = run["id"]
    assert [r["id"] for r in auth.client.get("/api/drills/runs").get_json()] == [rid]
    assert auth.client.get(f"/api/drills/runs/{rid}").get_json()["scenario"]["id"] == "basic-test"

    assert auth.post_json(f"/api/drills/runs/{rid}/pause", {}).status_code == 409  # not started
    assert auth.post_json(f"/api/drills/runs/{rid}/start", {}).get_json()["status"] == "running"
    assert auth.post_json(f"/api/drills/runs/{rid}/pause", {}).get_json()["paused"] is True
    assert auth.post_json(f"/api/drills/runs/{rid}/resume", {}).get_json()["status"] == "running"
    assert auth.post_json(f"/api/drills/runs/{rid}/speed", {"speed": 100}).status_code == 400
    assert auth.post_json(f"/api/drills/runs/{rid}/speed", {"speed": 20}).get_json()["speed"] == 20
    before = auth.client.get(f"/api/drills/runs/{rid}").get_json()["sim_now"]
    jumped = auth.post_json(f"/api/drills/runs/{rid}/jump", {})
    assert jumped.status_code == 200 and jumped.get_json()["sim_now"] > before
    ended = auth.post_json(f"/api/drills/runs/{rid}/end", {}).get_json()
    assert ended["status"] == "ended" and ended["allowed_actions"] == []
    assert auth.post_json(f"/api/drills/runs/{rid}/end", {}).status_code == 409
    evaluation = auth.client.get(f"/api/drills/runs/{rid}/evaluation")
    assert evaluation.status_code == 200 and "actions" in evaluation.get_json()


def test_only_trainers_run_drills_over_the_api(app, make_user, auth):
    make_user("operator", username="op-drill")
    auth.login("op-drill")
    assert auth.client.get("/api/drills/runs").status_code == 200  # everyone may join
    assert auth.post_json("/api/drills/runs", {"scenario": "basic.yaml"}).status_code == 403
    assert auth.post_json("/api/drills/runs/1/start", {}).status_code == 403


def test_an_admin_updates_an_account_and_cannot_lock_themselves_out(make_user, auth):
    from coordination.auth.models import User

    admin = make_user("admin", username="ad-update")
    other = make_user("operator", username="op-update")
    auth.login("ad-update")
    page = auth.client.get("/admin/users")
    token = csrf_from(page.text)
    resp = auth.client.post(f"/admin/users/{other.id}", data={
        "csrf_token": token, "roles": ["operator", "logistics"], "display_name": "王芳"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/users")
    with db.reading() as s:
        u = s.get(User, other.id)
        assert sorted(r.value for r in u.roles) == ["logistics", "operator"]
        assert u.display_name == "王芳" and u.active is False  # the box was not ticked
    (updated,) = _events("user.updated")
    assert updated.payload["after"]["roles"] == ["logistics", "operator"]

    refused = auth.client.post(f"/admin/users/{admin.id}", data={
        "csrf_token": token, "roles": ["operator"], "active": "on"}, follow_redirects=True)
    assert refused.status_code == 200 and "ad-update" in refused.text
    with db.reading() as s:
        assert "admin" in {r.value for r in s.get(User, admin.id).roles}
    assert len(_events("user.updated")) == 1
    bogus = auth.client.post(f"/admin/users/{other.id}", data={
        "csrf_token": token, "roles": ["emperor"], "active": "on"})
    assert bogus.status_code == 302
    assert len(_events("user.updated")) == 1  # an unknown role changes nothing


def test_an_admin_keeps_the_roster_over_the_api(make_user, auth):
    """Agency, officers, a rotation, a leave covered by a colleague, the chain;
    then the override and the rotation deleted again."""
    make_user("admin", username="ad-roster")
    auth.login("ad-roster")
    agency = auth.post_json("/api/roster/agencies",
                            {"code": "cdc", "name_zh": "疾控中心", "name_en": "CDC"})
    assert agency.status_code == 201, agency.text
    bad = auth.post_json("/api/roster/agencies", {"code": "cdc", "name_zh": "x", "name_en": "x",
                                                  "webhook_url": "ftp://x"})
    assert bad.status_code == 400 and "webhook" in bad.get_json()["error"]
    a = auth.post_json("/api/roster/officers", {"agency_code": "cdc", "name": "张伟"}).get_json()
    b = auth.post_json("/api/roster/officers", {"agency_code": "cdc", "name": "李娜"}).get_json()
    rot = auth.post_json("/api/roster/rotations", {
        "agency_code": "cdc", "name": "cdc primary", "start_date": "2026-11-02",
        "officer_ids": [a["id"]]})
    assert rot.status_code == 201, rot.text
    at = "2026-11-03T10:00:00%2B08:00"
    on = auth.client.get(f"/api/roster/on-duty?agency=cdc&at={at}").get_json()
    assert [o["name"] for o in on["primary"]] == ["张伟"]

    cover = auth.post_json("/api/roster/overrides", {
        "kind": "leave", "officer_id": a["id"], "cover_officer_id": b["id"],
        "starts_at": "2026-11-03T00:00:00+08:00", "ends_at": "2026-11-04T00:00:00+08:00"})
    assert cover.status_code == 201, cover.text
    on = auth.client.get(f"/api/roster/on-duty?agency=cdc&at={at}").get_json()
    assert [o["name"] for o in on["primary"]] == ["李娜"]
    backwards = auth.post_json("/api/roster/overrides", {
        "kind": "leave", "officer_id": a["id"],
        "starts_at": "2026-11-04T00:00:00+08:00", "ends_at": "2026-11-03T00:00:00+08:00"})
    assert backwards.status_code == 400

    chain = auth.post_json("/api/roster/agencies/cdc/chain", {"steps": [
        {"target": "primary", "wait_minutes": 5}, {"target": "command_room", "wait_minutes": 0}]})
    assert chain.status_code == 200, chain.text
    assert [st["target"] for st in chain.get_json()["steps"]] == ["primary", "command_room"]
    loop = auth.post_json("/api/roster/agencies/cdc/chain", {"steps": [
        {"target": "primary", "wait_minutes": 5}, {"target": "primary", "wait_minutes": 5}]})
    assert loop.status_code == 400 and "loops" in loop.get_json()["error"]

    overview = auth.client.get("/api/roster").get_json()
    assert [x["code"] for x in overview["agencies"]] == ["cdc"]
    assert len(overview["overrides"]) == 1 and len(overview["rotations"]) == 1
    oid, rid = cover.get_json()["id"], rot.get_json()["id"]
    assert auth.post_json(f"/api/roster/overrides/{oid}/delete", {}).get_json() == {"ok": True}
    assert auth.post_json(f"/api/roster/rotations/{rid}/delete", {}).get_json() == {"ok": True}
    overview = auth.client.get("/api/roster").get_json()
    assert overview["overrides"] == [] and overview["rotations"] == []
    assert auth.client.get(f"/api/roster/on-duty?agency=cdc&at={at}").get_json()[
        "primary"] == []


def test_only_admins_keep_the_roster(make_user, auth):
    make_user("operator", username="op-roster")
    auth.login("op-roster")
    assert auth.client.get("/api/roster").status_code == 403
    refused = auth.post_json("/api/roster/agencies",
                             {"code": "cdc", "name_zh": "疾控中心", "name_en": "CDC"})
    assert refused.status_code == 403
    assert _events("roster.agency_saved") == []


# ------------------------------------------------------------- every route has a test
#
# A route counts as covered when some functional test (not a benchmark, not one of
# the walkers below that visit every rule generically) requests its URL with its
# method: a literal such as ``client.post(f"/api/tasks/{tid}/cancel"`` or
# ``page.goto(base + "/ops")`` whose variable parts (``{tid}``, ``7``) stand where
# the rule has converters. A module constant (``BASE = "/api/ogc"``) is read in. A
# test that reaches a route another way (a URL taken from a response, a list of
# pages in a loop) is declared in COVERED_ELSEWHERE, and the declaration is checked:
# the rule and method exist, the test exists, and its body names the route.

TESTS = Path(__file__).parent
# Walk app.url_map generically (access rules, fuzzing, export headers): not functional.
WALKERS = {"test_access.py", "test_fuzz.py", "test_exports_safe.py", "test_offline.py"}
_PART = r"(?:\{[^{}]*\}|[^/\"'\s?{}#]+)"  # a converter: a placeholder or a literal value
_CALLS = {"GET": r"\b(?:get|goto|get_json)\(", "POST": r"\b(?:post|post_json|post_form)\(",
          "PUT": r"\bput\(", "DELETE": r"\bdelete\(", "PATCH": r"\bpatch\("}
# The call, then at most one argument before the URL (``post_form(client, "/x"``).
_CALL_BEFORE = {m: re.compile(c + r"(?:[^()]{0,40},\s*)?$") for m, c in _CALLS.items()}

_CONSOLE = "test_drills.py::test_console_forms_act_and_refusals_come_back_as_messages"
COVERED_ELSEWHERE: dict[tuple[str, str], str] = {
    # The landing page's links are followed, not spelled out.
    ("GET", "/api/ogc/conformance"): "test_ogcapi.py::test_landing_conformance_and_openapi",
    ("GET", "/api/ogc/api"): "test_ogcapi.py::test_landing_conformance_and_openapi",
    # Every stock page, in a loop over their URLs.
    ("GET", "/stock/depots"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    ("GET", "/stock/receive"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    ("GET", "/stock/issue"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    ("GET", "/stock/transfer"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    ("GET", "/stock/adjust"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    ("GET", "/stock/count"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    ("GET", "/stock/targets"): "test_stock_pages.py::test_every_page_renders_for_logistics",
    # The request's steps, posted to the request page's URL plus the step.
    ("POST", "/stock/requests/<int:request_id>/approve"):
        "test_stock_pages.py::test_request_lifecycle_through_the_pages",
    ("POST", "/stock/requests/<int:request_id>/ship"):
        "test_stock_pages.py::test_request_lifecycle_through_the_pages",
    ("POST", "/stock/requests/<int:request_id>/confirm"):
        "test_stock_pages.py::test_request_lifecycle_through_the_pages",
    # The drill console's forms, through a helper that posts to the run's URL plus the form.
    ("POST", "/drills/runs/<int:run_id>/speed"): _CONSOLE,
    ("POST", "/drills/runs/<int:run_id>/injects/<int:inject_id>/fire"): _CONSOLE,
    ("POST", "/drills/runs/<int:run_id>/injects"): _CONSOLE,
    ("POST", "/drills/runs/<int:run_id>/observations"): _CONSOLE,
    ("POST", "/drills/runs/<int:run_id>/ratings"): _CONSOLE,
    ("POST", "/drills/runs/<int:run_id>/improvements"): _CONSOLE,
}


def _rule_pattern(rule: str) -> re.Pattern[str]:
    body = "".join(_PART if part.startswith("<") else re.escape(part)
                   for part in re.split(r"(<[^>]+>)", rule))
    return re.compile(r"(?<![\w/])" + body + r"(?=[\"'?#`\s]|$)", re.M)


def _test_sources() -> dict[Path, str]:
    out = {}
    for path in sorted(TESTS.rglob("*.py")):
        if path.name in WALKERS or "benchmarks" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for name, value in re.findall(r'^([A-Z][A-Z0-9_]*) = "(/[^"]*)"$', text, re.M):
            text = text.replace("{" + name + "}", value).replace(name + ' + "', '"' + value)
        out[path] = text
    return out


def _requested(pattern: re.Pattern[str], method: str, text: str) -> bool:
    call = _CALL_BEFORE.get(method)
    for m in pattern.finditer(text):
        before = text[max(0, m.start() - 120):m.start()]
        before = re.sub(r"(?:f?[\"']|\{[^{}]*\})*$", "", before)  # the literal's opening
        before = re.sub(r"[\w.\[\]\"']+\s*\+\s*$", "", before).rstrip()  # base + "/x"
        if call is not None and call.search(before):
            return True
    return False


def _function_source(path: Path, name: str) -> str | None:
    m = re.search(rf"^def {re.escape(name)}\(.*?(?=^\S)", path.read_text(encoding="utf-8") + "\nX",
                  re.M | re.S)
    return m.group(0) if m else None


def _routes(app) -> list[tuple[str, str]]:
    return sorted({(method, r.rule) for r in app.url_map.iter_rules() if r.endpoint != "static"
                   for method in r.methods - {"HEAD", "OPTIONS"}})


def test_every_route_has_a_functional_test(app):
    sources = _test_sources()
    missing = [f"{method} {rule}" for method, rule in _routes(app)
               if (method, rule) not in COVERED_ELSEWHERE
               and not any(_requested(_rule_pattern(rule), method, t) for t in sources.values())]
    assert not missing, ("routes no functional test requests (write one, or declare the test "
                         "that reaches it in COVERED_ELSEWHERE):\n" + "\n".join(missing))


def test_the_declared_coverage_is_true(app):
    routes = set(_routes(app))
    for (method, rule), where in COVERED_ELSEWHERE.items():
        assert (method, rule) in routes, f"{method} {rule} is no route any more"
        file, name = where.split("::")
        body = _function_source(TESTS / file, name)
        assert body is not None, f"{where} does not exist"
        last = [p for p in rule.split("/") if p and not p.startswith("<")][-1]
        assert last in body, f"{where} does not name {rule}"


def test_the_coverage_check_sees_a_route_without_a_test(app):
    """The check itself: a rule nobody requests is missing; a requested one is not."""
    sources = "\n".join(_test_sources().values())
    assert not _requested(_rule_pattern("/api/never/<int:x>/here"), "POST", sources)
    assert _requested(_rule_pattern("/api/tasks/<int:task_id>/cancel"), "POST", sources)
    assert not _requested(_rule_pattern("/api/tasks/<int:task_id>/cancel"), "GET", sources)
    sample = 'r = auth.post_json(f"/api/x/{run[\'id\']}/go", {})\nc.get(BASE + "/y")'
    assert _requested(_rule_pattern("/api/x/<int:i>/go"), "POST", sample)
    assert not _requested(_rule_pattern("/api/x/<int:i>"), "POST", sample)
    assert _requested(_rule_pattern("/y"), "GET", sample)
