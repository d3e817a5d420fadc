"""Personal data is never kept by a browser or proxy cache: ``Cache-Control: no-store``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .test_incidents_api import GOOD


def test_contact_json_and_pages_are_no_store(make_user, auth):
    make_user("operator", username="op1")
    auth.login("op1")
    inc = auth.post_json("/api/incidents", GOOD).get_json()
    contact = auth.post_json(f"/api/incidents/{inc['id']}/contacts", {
        "name": "李娜", "id_number": "150902199001011234",
        "last_exposure": (datetime.now(UTC) - timedelta(days=2)).isoformat()}).get_json()
    for url in (f"/api/contacts/{contact['id']}", "/api/contacts", f"/contacts/{contact['id']}",
                f"/incidents/{inc['id']}", f"/api/incidents/{inc['id']}", "/roster"):
        resp = auth.client.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "no-store", url


def test_static_files_stay_cacheable(client):
    resp = client.get("/static/js/live.js")
    assert resp.status_code == 200
    assert "no-store" not in resp.headers.get("Cache-Control", "")
