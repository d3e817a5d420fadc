"""Accounts, login with counted attempts, CSRF and API tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordination.auth import service
from coordination.auth.models import ApiToken, LoginAttempt, User
from coordination.auth.passwords import token_digest
from coordination.errors import Conflict, ValidationFailed
from coordination.events import Actor, Event
from coordination.extensions import db

from .support import csrf_from

ADMIN = Actor.system("test")


def _events(type_):
    with db.reading() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.seq)))


def test_password_is_stored_with_argon2id(make_user):
    user = make_user("operator", password="s3cret-password")
    with db.reading() as s:
        stored = s.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$") and "s3cret" not in stored


def test_user_creation_is_validated_and_logged(make_user):
    user = make_user("operator", "liaison", username="wang.fang")
    assert {r.value for r in user.roles} == {"operator", "liaison"}
    created = _events("user.created")
    assert created[-1].payload["username"] == "wang.fang"
    with pytest.raises(Conflict):
        make_user("operator", username="WANG.FANG")
    with pytest.raises(ValidationFailed):
        make_user("pilot")
    with pytest.raises(ValidationFailed):
        make_user()
    with pytest.raises(ValidationFailed):
        make_user("operator", password="short")
    with pytest.raises(ValidationFailed):
        make_user("operator", username="bad name!")


def test_wrong_login_gets_generic_message_and_is_counted(client, make_user):
    make_user("operator", username="op")
    page = client.get("/login")
    token = csrf_from(page.text)
    wrong_user = client.post("/login", data={"username": "nobody", "password": "x" * 10,
                                             "csrf_token": token})
    wrong_pass = client.post("/login", data={"username": "op", "password": "x" * 10,
                                             "csrf_token": token})
    assert wrong_user.status_code == wrong_pass.status_code == 401
    # Same message whether or not the account exists.
    assert _flash(wrong_user.text) == _flash(wrong_pass.text) != ""
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)
                        .where(LoginAttempt.success.is_(False))) == 2
    assert [e.payload["username"] for e in _events("auth.login_failed")] == ["nobody", "op"]


def _flash(html):
    import re

    match = re.search(r'class="flash flash-error"[^>]*>([^<]*)<', html)
    return match.group(1) if match else ""


def test_login_is_rate_limited_per_username(client, make_user, app):
    make_user("operator", username="op")
    token = csrf_from(client.get("/login").text)
    limit = app.config["COORDINATION"].login_max_failures
    for _ in range(limit):
        client.post("/login", data={"username": "op", "password": "wrong-pass",
                                    "csrf_token": token})
    locked = client.post("/login", data={"username": "op", "password": "correct horse battery",
                                         "csrf_token": token})
    assert locked.status_code == 429
    assert client.get("/ops").status_code == 302, "a locked account must not be signed in"


def test_success_resets_the_failure_count(client, make_user, app):
    make_user("operator", username="op")
    token = csrf_from(client.get("/login").text)
    limit = app.config["COORDINATION"].login_max_failures
    for _ in range(limit - 1):
        client.post("/login", data={"username": "op", "password": "wrong-pass",
                                    "csrf_token": token})
    ok = client.post("/login", data={"username": "op", "password": "correct horse battery",
                                     "csrf_token": token})
    assert ok.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/me").text)})
    token = csrf_from(client.get("/login").text)
    client.post("/login", data={"username": "op", "password": "wrong-pass", "csrf_token": token})
    again = client.post("/login", data={"username": "op", "password": "correct horse battery",
                                        "csrf_token": token})
    assert again.status_code == 302


def test_forms_need_the_csrf_token(client, make_user):
    make_user("operator", username="op")
    resp = client.post("/login", data={"username": "op", "password": "correct horse battery"})
    assert resp.status_code == 400
    assert client.get("/ops").status_code == 302


def test_session_json_writes_need_the_csrf_header(client, auth, make_user):
    make_user("operator", username="op")
    auth.login("op")
    no_header = client.post("/api/duty-log", json={"text": "hello"})
    assert no_header.status_code == 400
    assert auth.post_json("/api/duty-log", {"text": "hello"}).status_code == 201


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user("operator", "admin", username="op")
    other = make_user("admin", username="boss")
    service.update_user(user_id=user.id, roles=["operator"], active=False, display_name="op",
                        actor=other.actor)
    token = csrf_from(client.get("/login").text)
    resp = client.post("/login", data={"username": "op", "password": "correct horse battery",
                                       "csrf_token": token})
    assert resp.status_code == 401


def test_admin_cannot_lock_themselves_out(make_user):
    admin = make_user("admin")
    with pytest.raises(ValidationFailed):
        service.update_user(user_id=admin.id, roles=["operator"], active=True,
                            display_name="x", actor=admin.actor)


def test_token_is_stored_hashed_and_works_as_bearer(client):
    token, secret = service.create_token(name="tracker-01", roles=["operator"], actor=ADMIN)
    with db.reading() as s:
        row = s.get(ApiToken, token.id)
        assert row.digest == token_digest(secret) and secret not in (row.digest, row.hint)
    resp = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 200
    assert resp.get_json()["kind"] == "token" and resp.get_json()["roles"] == ["operator"]
    # No CSRF for bearer requests: they carry no ambient credential.
    posted = client.post("/api/duty-log", json={"text": "from a device"},
                         headers={"Authorization": f"Bearer {secret}"})
    assert posted.status_code == 201
    # The log shows the token's name; the event keeps the unique actor name for the audit.
    assert posted.get_json()["author"] == "tracker-01"
    with db.reading() as s:
        ev = s.scalars(select(Event).where(Event.type == "dutylog.posted")).one()
    assert (ev.actor_name, ev.actor_display) == ("token:tracker-01", "tracker-01")


def test_revoked_or_wrong_token_is_refused(client):
    token, secret = service.create_token(name="t", roles=["operator"], actor=ADMIN)
    service.revoke_token(token_id=token.id, actor=ADMIN)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    with pytest.raises(Conflict):
        service.revoke_token(token_id=token.id, actor=ADMIN)


def test_locale_choice_is_saved_on_the_account(client, auth, make_user):
    make_user("operator", username="op")
    auth.login("op")
    assert '<html lang="zh-CN">' in client.get("/ops").text
    client.post("/locale", data={"locale": "en", "csrf_token": auth.csrf, "next": "/ops"})
    assert '<html lang="en">' in client.get("/ops").text
    with db.reading() as s:
        assert s.scalar(select(User.locale).where(User.username == "op")) == "en"
    fresh = client.application.test_client()
    page = fresh.get("/login")
    assert '<html lang="zh-CN">' in page.text, "a new browser starts in the default language"
    signed_in = fresh.post("/login", data={"username": "op", "password": "correct horse battery",
                                           "csrf_token": csrf_from(page.text)})
    assert signed_in.status_code == 302
    assert '<html lang="en">' in fresh.get("/ops").text
    assert _events("user.locale_changed")[-1].payload == {"from": None, "to": "en"}


def test_unknown_locale_is_refused(client):
    token = csrf_from(client.get("/login").text)
    resp = client.post("/locale", data={"locale": "xx", "csrf_token": token}, follow_redirects=True)
    assert '<html lang="zh-CN">' in resp.text


def test_login_redirect_stays_on_site(client, make_user):
    make_user("operator", username="op")
    token = csrf_from(client.get("/login").text)
    resp = client.post("/login", data={"username": "op", "password": "correct horse battery",
                                       "csrf_token": token, "next": "https://evil.example/"})
    assert resp.headers["Location"] in ("/", "http://localhost/")


def test_change_password(client, auth, make_user):
    make_user("operator", username="op")
    auth.login("op")
    bad = client.post("/me", data={"current": "wrong", "new": "another-password",
                                   "csrf_token": auth.csrf})
    assert bad.status_code == 400
    ok = client.post("/me", data={"current": "correct horse battery", "new": "another-password",
                                  "csrf_token": auth.csrf})
    assert ok.status_code == 302
    assert service.authenticate(username="op", password="another-password", ip="t",
                                max_failures=5, max_failures_per_ip=50, window_seconds=60)
