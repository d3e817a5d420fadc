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
    # The deliberate situation: two critical items below target, not a red table.
    assert body["stock"]["total"] == 2
    assert {(r["depot"], r["item"]) for r in body["stock"]["rows"]} == {
        ("SZWQ", "STREP"), ("SZWQ", "PLAGUE-RT")}
    kinds_listed = {k: v["listed"] for k, v in body["beds"]["kinds"].items()}
    assert kinds_listed and all(0 < n <= 30 for n in kinds_listed.values())
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


def test_every_demo_name_exists_in_both_languages_and_shows_in_the_readers(
        app, make_user, auth, client):
    """Issue 13: facilities, officers and places of the demo carry an English name; the
    panels and the search label them in the reader's language."""
    from sqlalchemy import select

    from coordination.facilities.models import Facility
    from coordination.geo.places import PopulatedPlace
    from coordination.roster.models import Officer

    load_demo(situation=True)
    with db.reading() as s:
        for model in (Facility, Officer, PopulatedPlace):
            rows = list(s.execute(select(model.name, model.name_en)))
            assert rows and all(en and en != zh for zh, en in rows), model
            assert not any(c > "\u2e80" for _zh, en in rows for c in en if c != "ü"), model
    _operator(make_user, auth)
    zh_beds = [r["name"] for r in client.get("/api/ops/panels?only=beds").get_json()[
        "beds"]["rows"]]
    assert any("发热门诊" in n for n in zh_beds)
    client.post("/locale", data={"locale": "en", "next": "/ops", "csrf_token": auth.csrf})
    en_beds = [r["name"] for r in client.get("/api/ops/panels?only=beds").get_json()[
        "beds"]["rows"]]
    assert any("fever clinic" in n for n in en_beds)
    assert not any(c > "\u2e80" for n in en_beds for c in n)
    hits = client.get("/api/ops/search", query_string={"q": "Central Hospital"}).get_json()
    assert any(h["kind"] == "facility" and "Central Hospital" in h["label"]
               for h in hits["hits"])
    people = client.get("/api/ops/search", query_string={"q": "李强"}).get_json()["hits"]
    assert any(h["kind"] == "person" and h["label"] == "Li Qiang" for h in people)


def test_the_beds_panel_lists_the_most_pressed_per_kind_and_counts_the_rest(app):
    """At any scale the panel is one screen's worth: the fullest first, all of them counted."""
    from coordination.ops import panels

    from . import map_factories as mf

    for n in range(panels.BEDS_PER_KIND + 5):
        mf.facility(name=f"发热门诊 {n}", name_en=f"Fever clinic {n}", initial={"figures": {
            "isolation_room": {"capacity": 10, "occupied": min(n, 10)}}})
    body = panels.beds_panel("live")
    assert len(body["rows"]) == panels.BEDS_PER_KIND
    kind = body["kinds"]["fever_clinic"]
    assert kind["facilities"] == panels.BEDS_PER_KIND + 5 and kind["listed"] == 30
    assert kind["capacity"] == 10 * (panels.BEDS_PER_KIND + 5)
    assert kind["free"] == sum(10 - min(n, 10) for n in range(panels.BEDS_PER_KIND + 5))
    assert body["rows"][0]["full"] and kind["full"] == 25
    frees = [r["free"] for r in body["rows"] if not r["full"] and not r["near_full"]]
    assert frees == sorted(frees)  # fewest free first; the emptiest are left out:
    assert {r["name"] for r in body["rows"]}.isdisjoint({"发热门诊 0", "发热门诊 1"})
