"""The command room's panels and search on the demo situation, through the real API."""

from __future__ import annotations

from sqlalchemy import text

from coordination.demo import load_demo
from coordination.extensions import db


def _operator(make_user, auth):
    make_user("operator", username="op", display_name="王芳")
    auth.login("op")


def test_every_panel_is_built_from_the_demo_situation(app, make_user, auth, client):
    load_demo(situation=True)
    _operator(make_user, auth)
    body = client.get("/api/ops/panels").get_json()
    assert set(body) == {"alerts", "incidents", "units", "beds", "tasks", "stock"}
    assert len(body["incidents"]["rows"]) >= 3
    assert {"plague", "fever", None} & {r["disease"] for r in body["incidents"]["rows"]}
    assert body["units"]["counts"]["dispatched"] + body["units"]["counts"]["transporting"] >= 1
    assert any(r["near_full"] for r in body["beds"]["rows"])
    assert body["tasks"]["escalated"] and body["tasks"]["open_total"] >= 3
    assert body["stock"]["rows"] and all(r["shortfall"] > 0 for r in body["stock"]["rows"])
    kinds = {a["kind"] for a in body["alerts"]["rows"]}
    assert {"new_incident", "escalation"} <= kinds
    page = client.get("/ops")
    assert page.status_code == 200 and 'id="ops-data"' in page.text


def test_a_failing_source_fails_only_its_own_panel(app, make_user, auth, client):
    load_demo(situation=True)
    _operator(make_user, auth)
    with db.unit_of_work() as s:  # the gap report's source is gone
        s.execute(text("DROP TABLE stock_targets"))
    body = client.get("/api/ops/panels").get_json()
    assert "error" in body["stock"]
    assert "error" not in body["incidents"] and body["incidents"]["rows"]
    page = client.get("/ops")
    assert page.status_code == 200 and "panel-incidents" in page.text


def test_panels_are_checked_and_limited_by_role(app, make_user, auth, client):
    _operator(make_user, auth)
    assert client.get("/api/ops/panels?only=nope").status_code == 400
    assert set(client.get("/api/ops/panels?only=alerts,units").get_json()) == {"alerts", "units"}
    make_user("logistics", username="lg")
    auth.login("lg")
    assert client.get("/api/ops/panels").status_code == 403


def test_search_finds_incident_unit_facility_place_area_and_person(app, make_user, auth,
                                                                   client):
    load_demo(situation=True)
    _operator(make_user, auth)

    def kinds(q):
        hits = client.get("/api/ops/search", query_string={"q": q}).get_json()["hits"]
        return {h["kind"] for h in hits}

    assert "incident" in kinds("#1")
    assert "unit" in kinds("乌120-07")
    assert "facility" in kinds("定点医院")
    assert "area" in kinds("四子王旗")
    assert "person" in kinds("李强")
    assert client.get("/api/ops/search?q=").get_json()["hits"] == []
    assert client.get("/api/ops/search?q=" + "x" * 101).status_code == 400
