"""Behind a TLS proxy cookies are Secure and HSTS is sent; on plain http (the laptop) neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordination import create_app
from coordination.web.transport import secure_cookie

from .conftest import PASSWORD, IsolatedClient
from .support import csrf_from

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "coord.example",
         "Referer": "https://coord.example/login"}


@pytest.fixture
def make_app(database_url: str, tmp_path: Path):
    def build(proxy_count: int):
        app = create_app({"instance_path": tmp_path / "instance", "database_url": database_url,
                          "secret_key": "test", "redis_url": None, "proxy_count": proxy_count})
        app.config["TESTING"] = True
        app.test_client_class = IsolatedClient
        return app
    return build


def _sign_in(client, headers: dict[str, str]):
    page = client.get("/login", headers=headers)
    resp = client.post("/login", headers=headers, data={
        "username": "op", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    return page, resp


def test_behind_an_https_proxy_cookies_are_secure_and_hsts_is_on_every_response(
        app, make_user, make_app):
    make_user("operator", username="op")
    client = make_app(1).test_client()
    page, resp = _sign_in(client, HTTPS)
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    cookies = [page.headers.get("Set-Cookie"), resp.headers.get("Set-Cookie")]
    assert all(c and c.startswith("session=") and "; Secure" in c for c in cookies)
    for url in ("/me", "/static/css/app.css", "/no-such-page", "/api/incidents"):
        r = client.get(url, headers=HTTPS)
        assert r.headers.get("Strict-Transport-Security") == "max-age=31536000", url
    assert client.get("/me", headers=HTTPS).status_code == 200  # the Secure session works


@pytest.mark.parametrize("proxy_count, headers", [(0, {}), (1, {}), (0, HTTPS)])
def test_plain_http_keeps_working_and_an_untrusted_header_changes_nothing(
        app, make_user, make_app, proxy_count, headers):
    make_user("operator", username="op")
    client = make_app(proxy_count).test_client()
    page, resp = _sign_in(client, headers)
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    assert "Secure" not in (page.headers.get("Set-Cookie") or "")
    me = client.get("/me", headers=headers)
    assert me.status_code == 200 and "Strict-Transport-Security" not in me.headers


def test_secure_is_added_once():
    assert secure_cookie("a=1; Path=/") == "a=1; Path=/; Secure"
    assert secure_cookie("a=1; Secure; Path=/") == "a=1; Secure; Path=/"
