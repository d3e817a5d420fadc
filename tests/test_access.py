"""Table-driven access: every route × every kind of caller × every context, allow or deny.

The expectation is computed from the one grants table (auth/roles.py) and the
context rules (live; a drill joined, not joined, ended), and every route must
declare what it requires, so a new route that forgets its check fails here. A
denied write must leave every table, the event log included, as it was.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from coordination import events
from coordination.auth import service
from coordination.auth.roles import CONTEXT_FREE, GRANTS, Permission, Role
from coordination.db import Base
from coordination.drills import service as drills
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.roster import service as roster
from coordination.web.access import PUBLIC
from coordination.web.context import HEADER

from .conftest import PASSWORD
from .drill_factories import drill_run, enrol
from .roster_factories import crew
from .support import csrf_from

CALLERS = ["anonymous", *[f"user:{r.value}" for r in Role], "token:operator", "token:liaison",
           "token:trainer"]
# The third axis: where the caller works. A session joins a drill from /drills; a token joins
# through the API and names the drill in the header; "not_joined" names a drill the caller
# never joined; "ended" is a drill the caller joined that has since ended.
CONTEXTS = ["live", "joined", "not_joined", "ended"]
# Requests whose success would end the caller's session (or its drill) run last.
LAST = {"drills.leave", "auth.logout"}
SAFE = {"GET", "HEAD"}


def _rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted(rules, key=lambda r: (r.endpoint in LAST, r.endpoint == "auth.logout", r.rule))


def test_every_route_declares_its_permission(app):
    missing = [
        r.rule for r in _rules(app)
        if not hasattr(app.view_functions[r.endpoint], "required_permission")
    ]
    assert missing == []


def _expected(required, caller, context, is_api, write):
    """'ok', 'login' (sent to sign in), 'unauth' (401) or 'deny' (403/404).

    Written from the rules as the README states them, not from permit()'s code:
    roles from GRANTS; trainers change data only in drills; in a drill only its
    players (and the trainers who run drills) work; an ended drill takes no writes;
    a browser session cannot name a drill it has not joined.
    """
    if required == PUBLIC:
        return "ok"
    kind, _, role = caller.partition(":")
    if kind == "anonymous":
        return "unauth" if is_api else "login"
    if kind == "token" and not is_api:
        return "login"  # pages are for people; devices use the API
    permission = Permission(required)
    if Role(role) not in GRANTS[permission]:
        return "deny"
    if kind == "user" and context == "not_joined":
        return "deny"  # the header cannot steer a session into a drill
    if permission in CONTEXT_FREE:
        return "ok"
    if context == "live":
        return "deny" if write and role == "trainer" else "ok"
    if context == "not_joined":
        return "ok" if role == "trainer" else "deny"
    if context == "ended" and write:
        return "deny"
    return "ok"


def _outcome(resp, is_api):
    if resp.status_code == 401:
        return "unauth"
    if resp.status_code == 403:
        return "deny"
    if resp.status_code == 302 and "/login" in resp.headers.get("Location", "") and not is_api:
        return "login"
    return "ok"


def _rows() -> tuple[int, int]:
    """Rows in every table, and events: what a denied write must leave as it was."""
    with db.reading() as s:
        total = " + ".join(f'(SELECT count(*) FROM "{t.name}")'
                           for t in Base.metadata.sorted_tables)
        return (s.execute(text("SELECT " + total)).scalar_one(),
                s.scalar(select(func.count()).select_from(Event)))


def _sign_in(app, caller):
    """A client, its headers and its CSRF token, for one caller."""
    kind, _, role = caller.partition(":")
    client = app.test_client()
    headers, csrf = {}, ""
    if kind == "user":
        service.create_user(username="me", display_name="me", password=PASSWORD,
                                 roles=[role], actor=Actor.system("t"))
        page = client.get("/login")
        client.post("/login", data={"username": "me", "password": PASSWORD,
                                    "csrf_token": csrf_from(page.text)})
        csrf = csrf_from(client.get("/me").text)
    elif kind == "token":
        _tok, secret = service.create_token(name="dev", roles=[role], actor=Actor.system("t"))
        headers["Authorization"] = f"Bearer {secret}"
    if not csrf:
        csrf = csrf_from(client.get("/login").text)
    headers["X-CSRFToken"] = csrf
    return client, headers, csrf


def _enter(client, headers, csrf, caller, context):
    """Put the caller in ``context`` the way a user or device does; the run, if any."""
    if context == "live":
        return None
    run = drill_run()
    kind = caller.partition(":")[0]
    if context in ("joined", "ended"):
        if kind == "user":
            resp = client.post(f"/drills/runs/{run['id']}/join", data={"csrf_token": csrf})
            assert resp.status_code == 302
        elif kind == "token":
            resp = client.post(f"/api/drills/runs/{run['id']}/join", headers=headers)
            assert resp.status_code == 201, resp.text
    if context == "ended":
        drills.end_run(run_id=run["id"], actor=Actor.system("t"))
    if kind == "token" or context == "not_joined":
        headers[HEADER] = run["context"]
    return run


# Anonymous callers are refused before any context is looked at: two contexts suffice.
MATRIX = [(caller, context) for caller in CALLERS for context in CONTEXTS
          if caller != "anonymous" or context in ("live", "not_joined")]


@pytest.mark.parametrize(("caller", "context"), MATRIX)
def test_access_matrix(app, make_user, caller, context):
    victim = make_user("liaison", username="victim")
    throwaway, _secret = service.create_token(name="spare", roles=["liaison"],
                                              actor=Actor.system("t"))
    client, headers, csrf = _sign_in(app, caller)
    _enter(client, headers, csrf, caller, context)

    mismatches = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        is_api = rule.rule.startswith("/api/")
        url = rule.rule.replace("<int:user_id>", str(victim.id)).replace(
            "<int:token_id>", str(throwaway.id))
        url = re.sub(r"<int:\w+>", "999999", url)  # other subjects: an id that does not exist
        url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)  # a choice: its first option
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            write = method not in SAFE
            want = _expected(view.required_permission, caller, context, is_api, write)
            before = _rows() if write and want != "ok" else None
            if method == "GET":
                resp = client.get(url, headers=headers)
            elif is_api:
                resp = client.post(url, json={}, headers=headers)
            else:
                resp = client.post(url, data={"csrf_token": csrf}, headers=headers)
            got = _outcome(resp, is_api)
            if view.required_permission == PUBLIC and resp.status_code != 403:
                got = "ok"  # open to all; a 401 here is "wrong password", not access
            if want != got:
                mismatches.append(f"{method} {url}: expected {want}, got {got} "
                                  f"({resp.status_code})")
            assert resp.status_code < 500, f"{method} {url} -> {resp.status_code}"
            if before is not None:
                assert _rows() == before, f"denied {method} {url} changed rows or events"
    assert mismatches == []


def test_denied_api_answers_json(client):
    resp = client.get("/api/events?since=0")
    assert resp.status_code == 401
    assert resp.is_json and resp.get_json()["error"]


SOCKET_MATRIX = [(caller, context) for caller in CALLERS if caller != "anonymous"
                 for context in CONTEXTS]


@pytest.mark.parametrize(("caller", "context"), SOCKET_MATRIX)
def test_socket_matrix(app, caller, context):
    """Every socket event × caller × context: the connect names the context, as pages do."""
    from coordination.extensions import socketio
    from coordination.realtime.handlers import EVENT_PERMISSIONS

    kind, _, role = caller.partition(":")
    client, headers, csrf = _sign_in(app, caller)
    run = _enter(client, headers, csrf, caller, context)
    auth = {"context": run["context"]} if run else {}
    if kind == "token":
        auth["token"] = headers["Authorization"].removeprefix("Bearer ")
    sock = socketio.test_client(app, auth=auth, flask_test_client=client)
    want = context != "not_joined" or (kind == "token" and role == "trainer")
    assert sock.is_connected() is want
    if not want:
        return
    assert set(EVENT_PERMISSIONS) == {"join", "leave", "replay"}
    assert sock.emit("replay", {"since": 0}, callback=True)["ok"] is True
    assert sock.emit("join", {"room": f"role:{role}"}, callback=True)["ok"] is True
    other = next(r.value for r in Role if r.value != role)
    assert sock.emit("join", {"room": f"role:{other}"}, callback=True)["ok"] is False
    assert sock.emit("leave", {"room": f"role:{role}"}, callback=True)["ok"] is True
    sock.disconnect()


# --- issue 16's reproductions ----------------------------------------------------------


def _bearer(role: str, **extra: str) -> dict[str, str]:
    _tok, secret = service.create_token(name=f"t-{role}", roles=[role], actor=Actor.system("t"))
    return {"Authorization": f"Bearer {secret}", **extra}


def _refused(resp, reason: str) -> None:
    assert resp.status_code == 403, (resp.status_code, resp.text)
    body = resp.get_json()
    assert body["code"] == reason and body["error"], body


def test_trainer_writes_no_live_tasks_nor_activations(app):
    crew("live")
    client = app.test_client()
    op, tr = _bearer("operator"), _bearer("trainer")
    task = client.post("/api/tasks", json={"agency_code": "cdc", "title": "Trace contacts"},
                       headers=op)
    assert task.status_code == 201, task.text
    before = _rows()
    _refused(client.post("/api/tasks", json={"agency_code": "cdc", "title": "…"}, headers=tr),
             "trainer_live")
    _refused(client.post(f"/api/tasks/{task.get_json()['id']}/cancel", headers=tr),
             "trainer_live")
    _refused(client.post(f"/api/tasks/{task.get_json()['id']}/jump", json={"step": 1},
                         headers=tr), "trainer_live")
    _refused(client.post("/api/plans/food-poisoning/activate",
                         json={"level": "IV", "subject_ref": "FP-1"}, headers=tr),
             "trainer_live")
    assert _rows() == before
    # Reading live is still theirs.
    assert client.get("/api/tasks", headers=tr).status_code == 200
    # In a drill (trainers run drills: no join needed) the same request is theirs to make.
    run = drill_run()
    crew(run["context"], users=False)
    made = client.post("/api/tasks", json={"agency_code": "cdc", "title": "演练任务"},
                       headers={**tr, HEADER: run["context"]})
    assert made.status_code == 201, made.text
    assert roster.list_tasks(context="live")[0]["title"] == "Trace contacts"
    assert len(roster.list_tasks(context="live")) == 1


def test_a_liaison_who_never_joined_cannot_request_stock_in_a_drill(app, auth, make_user):
    run = drill_run()
    make_user("liaison", username="li")
    auth.login("li")
    csrf = csrf_from(auth.client.get("/me").text)
    token = _bearer("liaison", **{HEADER: run["context"]})
    before = _rows()
    resp = auth.client.post("/api/stock/requests", json={"lines": []},
                            headers={HEADER: run["context"], "X-CSRFToken": csrf})
    _refused(resp, "join_first")
    _refused(auth.client.post("/api/stock/requests", json={"lines": []}, headers=token),
             "join_first")
    assert _rows() == before


def test_an_operator_token_acts_in_a_drill_only_once_bound_to_it(app):
    run = drill_run()
    crew(run["context"], users=False)
    client = app.test_client()
    op = _bearer("operator", **{HEADER: run["context"]})
    before = _rows()
    _refused(client.post("/api/tasks", json={"agency_code": "cdc", "title": "t"}, headers=op),
             "join_first")
    # Nor may it read the drill's tasks or event log.
    _refused(client.get("/api/tasks", headers=op), "join_first")
    _refused(client.get("/api/events?since=0", headers=op), "join_first")
    assert _rows() == before
    # An unknown drill is a 404, never a silent fall back to live.
    ghost = client.get("/api/tasks", headers={**op, HEADER: "drill-nope"})
    assert ghost.status_code == 404 and ghost.get_json()["code"] == "no_context"
    assert client.post(f"/api/drills/runs/{run['id']}/join", headers=op).status_code == 201
    made = client.post("/api/tasks", json={"agency_code": "cdc", "title": "t"}, headers=op)
    assert made.status_code == 201, made.text
    assert roster.list_tasks(context="live") == []
    assert client.get("/api/events?since=0", headers=op).status_code == 200
    # Once the run ends it reads, but writes nothing more.
    drills.end_run(run_id=run["id"], actor=Actor.system("t"))
    assert client.get("/api/tasks", headers=op).status_code == 200
    _refused(client.post("/api/tasks", json={"agency_code": "cdc", "title": "t2"}, headers=op),
             "ended")
    # Leaving unbinds it.
    assert client.post(f"/api/drills/runs/{run['id']}/leave", headers=op).status_code == 200
    _refused(client.get("/api/tasks", headers=op), "join_first")


def test_the_raw_context_query_parameter_no_longer_selects_a_drill(app):
    run = drill_run()
    enrol(run, Actor(kind="user", id=None, name="someone"))  # an event in the drill's log
    client = app.test_client()
    op = _bearer("operator")
    seen = client.get(f"/api/events?since=0&context={run['context']}", headers=op).get_json()
    assert all(e["context"] == "live" for e in seen["events"])
    assert client.get(f"/api/tasks?context={run['context']}", headers=op).status_code == 200


def test_a_session_joins_from_the_page_and_the_header_cannot_move_it(app, auth, make_user):
    first, second = drill_run(), drill_run()
    make_user("operator", username="op")
    auth.login("op")
    csrf = csrf_from(auth.client.get("/me").text)
    assert auth.client.post(f"/drills/runs/{first['id']}/join",
                            data={"csrf_token": csrf}).status_code == 302
    assert auth.client.get("/api/tasks").status_code == 200
    _refused(auth.client.get("/api/tasks", headers={HEADER: second["context"]}), "join_first")
    _refused(auth.client.get("/api/tasks", headers={HEADER: "live"}), "leave_first")
    # After the run ends the player still reads it; a write is refused, never sent to live.
    drills.end_run(run_id=first["id"], actor=Actor.system("t"))
    assert 'id="exercise-banner"' in auth.client.get("/me").text
    _refused(auth.client.post("/api/duty-log", json={"text": "x"}, headers={"X-CSRFToken": csrf}),
             "ended")
    assert auth.client.post("/drills/leave", data={"csrf_token": csrf}).status_code == 302
    assert auth.client.post("/api/duty-log", json={"text": "live again"},
                            headers={"X-CSRFToken": csrf}).status_code == 201


def test_socket_connections_follow_the_same_rule(app, client):
    from coordination.extensions import socketio

    run = drill_run()
    _tok, secret = service.create_token(name="sock", roles=["operator"],
                                        actor=Actor.system("t"))
    refused = socketio.test_client(app, auth={"token": secret, "context": run["context"]})
    assert not refused.is_connected()
    live = socketio.test_client(app, auth={"token": secret})
    assert live.is_connected()
    live.disconnect()
    assert client.post(f"/api/drills/runs/{run['id']}/join",
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 201
    joined = socketio.test_client(app, auth={"token": secret, "context": run["context"]})
    assert joined.is_connected()
    assert joined.emit("replay", {"since": 0}, callback=True)["ok"] is True
    # Leaving the drill stops the open connection's next event, not just the next connect.
    assert client.post(f"/api/drills/runs/{run['id']}/leave",
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    ack = joined.emit("replay", {"since": 0}, callback=True)
    assert ack["ok"] is False and ack["code"] == "join_first"
    joined.disconnect()


def test_the_report_counts_only_players_who_joined(app):
    from coordination.drills import evaluate as evaluation

    run = drill_run()
    player = Actor(kind="user", id=None, name="player")
    stranger = Actor(kind="user", id=None, name="stranger")
    enrol(run, player, "operator")
    with db.unit_of_work() as s:
        for who in (stranger, player):
            events.append(s, context=run["context"], type="dutylog.posted", actor=who,
                          audience=["role:operator"], payload={"text": "x"})
    ev = evaluation.evaluate(run_id=run["id"])
    assert [p["name"] for p in ev["players"]] == ["player"] and ev["summary"]["players"] == 1
    with db.reading() as s:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        action = {"event": "dutylog.posted"}
        assert evaluation.first_match(s, run["context"], action, since).actor_name == "stranger"
        joined = {("user", None, "player")}
        assert evaluation.first_match(s, run["context"], action, since,
                                      by=joined).actor_name == "player"


def test_a_runs_report_is_for_its_players_and_trainers(app, auth, make_user):
    run = drill_run()
    make_user("operator", username="op")
    auth.login("op")
    _refused(auth.client.get(f"/api/drills/runs/{run['id']}/evaluation"), "join_first")
    assert auth.client.get(f"/drills/runs/{run['id']}/report").status_code == 403
    csrf = csrf_from(auth.client.get("/me").text)
    auth.client.post(f"/drills/runs/{run['id']}/join", data={"csrf_token": csrf})
    page = auth.client.get(f"/drills/runs/{run['id']}/report")
    assert page.status_code == 200 and 'id="fig-players">1<' in page.text
    assert client_for_trainer(app).get(f"/api/drills/runs/{run['id']}/evaluation").status_code \
        == 200


def client_for_trainer(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = _bearer("trainer")["Authorization"]
    return client
