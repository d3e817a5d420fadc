"""The app builds, migrates and answers its health check on the test database."""

from __future__ import annotations


def test_health_reports_live_head(client):
    resp = client.get("/api/health")
    assert resp.status_code == 200
    assert resp.get_json() == {"ok": True, "live_head": 0}
