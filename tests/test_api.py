"""The JSON API: replay over HTTP, the duty log, bad input answered with 4xx."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordination.auth import service
from coordination.dutylog.models import DutyLogEntry
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.geo.service import AreaIn, upsert_areas
from coordination.web.context import HEADER


@pytest.fixture
def bearer(app):
    _token, secret = service.create_token(name="t", roles=["operator"], actor=Actor.system("t"))
    return {"Authorization": f"Bearer {secret}"}


def _count(model):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("query", [
    "", "?since=", "?since=abc", "?since=-1", "?since=1.5", "?since=0&limit=0",
    "?since=0&limit=x", "?since=99999999999999999999",
])
def test_bad_since_is_a_400_with_a_message(client, bearer, query):
    resp = client.get("/api/events" + query, headers=bearer)
    assert resp.status_code == 400
    assert resp.get_json()["error"]


def test_unknown_context_is_404(client, bearer):
    resp = client.get("/api/events?since=0", headers={**bearer, HEADER: "drill-x"})
    assert resp.status_code == 404 and resp.get_json()["error"]


def test_replay_over_http_returns_what_was_missed_in_order(client, bearer):
    texts = [f"entry {i}" for i in range(5)]
    for text in texts:
        assert client.post("/api/duty-log", json={"text": text}, headers=bearer).status_code == 201
    first = client.get("/api/events?since=0&limit=3", headers=bearer).get_json()
    assert first["more"] is True
    rest = client.get(f"/api/events?since={first['head']}", headers=bearer).get_json()
    got = [e["payload"]["text"] for e in first["events"] + rest["events"]
           if e["type"] == "dutylog.posted"]
    assert got == texts
    seqs = [e["seq"] for e in first["events"] + rest["events"]]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))


@pytest.mark.parametrize("body", [
    None, [], "text", {}, {"text": ""}, {"text": "   "}, {"text": "x" * 2001},
    {"text": "ok", "category": "gossip"}, {"text": "ok", "area": "999999"},
    {"text": "ok", "unexpected": 1}, {"text": 5},
])
def test_bad_duty_log_entry_is_refused_and_changes_nothing(client, bearer, body):
    before = (_count(DutyLogEntry), _count(Event))
    resp = client.post("/api/duty-log", json=body, headers=bearer)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]
    assert (_count(DutyLogEntry), _count(Event)) == before


def test_non_json_body_is_refused(client, bearer):
    resp = client.post("/api/duty-log", data="text=hi", headers=bearer
                       | {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 400


def test_duty_log_entry_with_area_round_trips(client, bearer):
    upsert_areas(areas=[AreaIn(code="150929", name_zh="四子王旗", name_en="Siziwang Banner",
                               level="banner", lon=111.706, lat=41.533, population=1)],
                 actor=Actor.system("t"))
    resp = client.post("/api/duty-log", json={"text": "巡查正常", "category": "report",
                                              "area": "150929"}, headers=bearer)
    assert resp.status_code == 201
    entries = client.get("/api/duty-log", headers=bearer).get_json()["entries"]
    assert entries[0]["text"] == "巡查正常" and entries[0]["area"] == "150929"
    areas = client.get("/api/areas", headers=bearer).get_json()
    feature = areas["features"][0]
    assert feature["geometry"]["coordinates"] == [111.706, 41.533]
    assert feature["properties"]["name_en"] == "Siziwang Banner"


def test_liaison_token_cannot_post_to_the_duty_log(client):
    _t, secret = service.create_token(name="l", roles=["liaison"], actor=Actor.system("t"))
    resp = client.post("/api/duty-log", json={"text": "x"},
                       headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 403 and resp.get_json()["error"]


def test_unknown_api_route_and_method_answer_json(client, bearer):
    assert client.get("/api/nope", headers=bearer).get_json()["status"] == 404
    resp = client.delete("/api/duty-log", headers=bearer)
    assert resp.status_code == 405 and resp.is_json
