"""Table-driven access: every route, every kind of caller, allow or deny.

The expectation is computed from the one grants table (auth/roles.py), and
every route must declare what it requires, so a new route that forgets its
check fails here.
"""

from __future__ import annotations

import re

import pytest

from coordination.auth import service
from coordination.auth.roles import GRANTS, Permission, Role
from coordination.events import Actor
from coordination.web.access import PUBLIC

from .conftest import PASSWORD
from .support import csrf_from

CALLERS = ["anonymous", *[f"user:{r.value}" for r in Role], "token:operator", "token:liaison"]
# Requests whose success would end the caller's session run last.
LAST = {"auth.logout"}


def _rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted(rules, key=lambda r: (r.endpoint in LAST, r.rule))


def test_every_route_declares_its_permission(app):
    missing = [
        r.rule for r in _rules(app)
        if not hasattr(app.view_functions[r.endpoint], "required_permission")
    ]
    assert missing == []


def _expected(required, caller, is_api):
    """'ok', 'login' (sent to sign in), 'unauth' (401) or 'deny' (403)."""
    if required == PUBLIC:
        return "ok"
    kind, _, role = caller.partition(":")
    if kind == "anonymous":
        return "unauth" if is_api else "login"
    if kind == "token" and not is_api:
        return "login"  # pages are for people; devices use the API
    return "ok" if Role(role) in GRANTS[Permission(required)] else "deny"


def _outcome(resp, is_api):
    if resp.status_code == 401:
        return "unauth"
    if resp.status_code == 403:
        return "deny"
    if resp.status_code == 302 and "/login" in resp.headers.get("Location", "") and not is_api:
        return "login"
    return "ok"


@pytest.mark.parametrize("caller", CALLERS)
def test_access_matrix(app, make_user, caller):
    kind, _, role = caller.partition(":")
    victim = make_user("liaison", username="victim")
    throwaway, _secret = service.create_token(name="spare", roles=["liaison"],
                                              actor=Actor.system("t"))
    client = app.test_client()
    headers = {}
    csrf = ""
    if kind == "user":
        make_user(role, username="me")
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

    mismatches = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        is_api = rule.rule.startswith("/api/")
        url = rule.rule.replace("<int:user_id>", str(victim.id)).replace(
            "<int:token_id>", str(throwaway.id))
        url = re.sub(r"<int:\w+>", "999999", url)  # other subjects: an id that does not exist
        url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)  # a choice: its first option
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                resp = client.get(url, headers=headers)
            elif is_api:
                resp = client.post(url, json={}, headers=headers)
            else:
                resp = client.post(url, data={"csrf_token": csrf}, headers=headers)
            want = _expected(view.required_permission, caller, is_api)
            got = _outcome(resp, is_api)
            if view.required_permission == PUBLIC and resp.status_code != 403:
                got = "ok"  # open to all; a 401 here is "wrong password", not access
            if want != got:
                mismatches.append(f"{method} {url}: expected {want}, got {got} "
                                  f"({resp.status_code})")
            assert resp.status_code < 500, f"{method} {url} -> {resp.status_code}"
    assert mismatches == []


def test_denied_api_answers_json(client):
    resp = client.get("/api/events?since=0")
    assert resp.status_code == 401
    assert resp.is_json and resp.get_json()["error"]
