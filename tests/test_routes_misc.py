"""Routes that had no functional test of their own: the home page for each kind of
role, issuing an API token from the admin page, and the OGC API's human page."""

from __future__ import annotations

import re

from coordination.auth import service as auth_service


def test_home_sends_operators_to_the_command_room_and_shows_others_their_overview(
        make_user, auth):
    assert auth.client.get("/").status_code in (302, 401)  # signed out: to the login
    make_user("operator", username="op-home")
    auth.login("op-home")
    r = auth.client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/ops")
    auth.client.post("/logout", data={"csrf_token": auth.csrf})
    make_user("logistics", username="lg-home")
    auth.login("lg-home")
    r = auth.client.get("/")
    assert r.status_code == 200 and "lg-home" in r.text


def test_an_admin_issues_a_token_and_it_is_shown_once(make_user, auth):
    make_user("admin", username="ad-token")
    auth.login("ad-token")
    r = auth.client.post("/admin/tokens", data={"csrf_token": auth.csrf, "name": "gateway",
                                                "roles": ["operator"]})
    assert r.status_code == 200
    secret = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', r.text)
    assert secret is not None
    principal = auth_service.resolve_token(secret.group(1))
    assert principal is not None and [x.value for x in principal.roles] == ["operator"]
    assert 'id="new-token"' not in auth.client.get("/admin/tokens").text  # once only
    bad = auth.client.post("/admin/tokens", data={"csrf_token": auth.csrf, "name": "",
                                                  "roles": ["operator"]})
    assert bad.status_code == 400 and 'id="new-token"' not in bad.text
    assert [t.name for t in auth_service.list_tokens()] == ["gateway"]


def test_issuing_tokens_needs_an_admin(make_user, auth):
    make_user("operator", username="op-token")
    auth.login("op-token")
    r = auth.client.post("/admin/tokens", data={"csrf_token": auth.csrf, "name": "x",
                                                "roles": ["operator"]})
    assert r.status_code == 403 and auth_service.list_tokens() == []


def test_the_ogc_api_service_page_lists_the_collections(make_user, auth):
    make_user("operator", username="op-ogc")
    auth.login("op-ogc")
    page = auth.client.get("/api/ogc/doc")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "/api/ogc/collections/facilities/items?limit=100" in page.text
    assert "OAPIF:" in page.text
    assert auth.client.get("/api/ogc").status_code == 200  # the landing, without the slash


def test_the_alert_list_reads_its_flag_the_one_way(make_user, auth):
    make_user("operator", username="op-flag")
    auth.login("op-flag")
    assert auth.client.get("/api/alerts?all=1").get_json() == {"alerts": []}
    assert auth.client.get("/api/alerts?all=yes").status_code == 200
    typo = auth.client.get("/api/alerts?all=ture")
    assert typo.status_code == 400 and "all" in typo.get_json()["error"]
