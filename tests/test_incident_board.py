"""The incident board and GET /api/incidents as pages with filters (issue 19)."""

from __future__ import annotations

from coordination.events import Actor
from coordination.incidents import service as incidents


def _log(n: int, **extra):
    actor = Actor.system("test")
    out = []
    for k in range(n):
        data = {"type": "other", "priority": 3, "lon": 113.1 + k / 1000, "lat": 41.0,
                "address": f"addr {k}"} | extra
        out.append(incidents.create_incident(context="live", data=incidents_in(data),
                                             actor=actor)["id"])
    return out


def incidents_in(data):
    from coordination.incidents.schemas import IncidentIn

    return IncidentIn.model_validate(data)


def test_the_api_pages_and_filters_in_the_database(client, auth, make_user):
    make_user("operator", username="op")
    calls = _log(7)
    plague = _log(2, type="suspected_case", disease="plague", priority=1)
    auth.login("op")
    first = client.get("/api/incidents?per_page=3").get_json()
    assert first["total"] == 9 and first["pages"] == 3 and len(first["incidents"]) == 3
    # Triage order: the two priority-1 plague cases come first.
    assert [i["id"] for i in first["incidents"][:2]] == plague
    last = client.get("/api/incidents?per_page=3&page=3").get_json()
    assert [i["id"] for i in last["incidents"]] == calls[-3:]
    only = client.get("/api/incidents?disease=plague").get_json()
    assert {i["id"] for i in only["incidents"]} == set(plague) and only["total"] == 2
    newest = client.get("/api/incidents?sort=newest&per_page=1").get_json()
    assert newest["incidents"][0]["id"] == plague[-1]
    by_type = client.get("/api/incidents?type=other&priority=3").get_json()
    assert by_type["total"] == 7
    for bad in ("per_page=100000", "page=0", "status=lost", "sort=random", "priority=9",
                "all=perhaps", "page=9223372036854775808"):
        resp = client.get(f"/api/incidents?{bad}")
        assert resp.status_code == 400, bad
        assert resp.get_json()["error"]


def test_closed_incidents_only_when_asked(client, auth, make_user):
    make_user("operator", username="op")
    ids = _log(2)
    incidents.change_status(context="live", incident_id=ids[0],
                            data=status_in("cancelled", "duplicate call"),
                            actor=Actor.system("test"))
    auth.login("op")
    assert [i["id"] for i in client.get("/api/incidents").get_json()["incidents"]] == ids[1:]
    everything = client.get("/api/incidents?all=1").get_json()
    assert {i["id"] for i in everything["incidents"]} == set(ids)
    assert client.get("/api/incidents?status=cancelled").get_json()["total"] == 1


def status_in(status, reason):
    from coordination.incidents.schemas import StatusChangeIn

    return StatusChangeIn.model_validate({"status": status, "note": reason})


def test_the_board_shows_one_page_and_links_the_next_keeping_its_filters(client, auth,
                                                                         make_user):
    make_user("operator", username="op")
    ids = _log(5)
    auth.login("op")
    page = client.get("/incidents?per_page=2&sort=oldest")
    assert page.status_code == 200
    html = page.text
    assert f'data-id="{ids[0]}"' in html and f'data-id="{ids[2]}"' not in html
    assert "page=2" in html and "sort=oldest" in html and "per_page=2" in html
    assert "5 incidents" in html or "共 5 起事件" in html
    assert client.get("/incidents?sort=sideways").status_code == 400


def _clocks(incident_id: int, n: int) -> None:
    from datetime import UTC, datetime

    from coordination.incidents.schemas import ClockIn

    for _ in range(n):
        at = datetime.now(UTC)  # after logging, never in the future
        incidents.set_clock(context="live", incident_id=incident_id,
                            data=ClockIn.model_validate(
                                {"clock": "diagnosed_at", "at": at.isoformat()}),
                            actor=Actor.system("test"))


def test_timelines_are_read_newest_page_first_with_earlier_pages_on_demand(client, auth,
                                                                          make_user,
                                                                          monkeypatch):
    from coordination.incidents import queries

    make_user("operator", username="op")
    (iid,) = _log(1)
    _clocks(iid, 6)  # 1 reported + 6 clock events
    everything = incidents.timeline(incident_id=iid)
    assert len(everything) == 7
    auth.login("op")
    latest = client.get(f"/api/incidents/{iid}/timeline?limit=3").get_json()
    assert [e["seq"] for e in latest["events"]] == [e["seq"] for e in everything[-3:]]
    assert latest["earlier"] is True
    before = latest["events"][0]["seq"]
    middle = client.get(f"/api/incidents/{iid}/timeline?limit=3&before={before}").get_json()
    assert [e["seq"] for e in middle["events"]] == [e["seq"] for e in everything[1:4]]
    rest = client.get(f"/api/incidents/{iid}/timeline?limit=3&before="
                      f"{middle['events'][0]['seq']}").get_json()
    assert [e["seq"] for e in rest["events"]] == [everything[0]["seq"]]
    assert rest["earlier"] is False
    assert client.get(f"/api/incidents/{iid}/timeline?before=x").status_code == 400
    # The page renders only the latest page and offers the rest.
    monkeypatch.setattr(queries, "TIMELINE_PAGE", 4)
    html = client.get(f"/incidents/{iid}").text
    assert html.count('<li data-seq="') == 4 and 'id="timeline-earlier"' in html
    monkeypatch.setattr(queries, "TIMELINE_PAGE", 200)
    assert 'id="timeline-earlier"' not in client.get(f"/incidents/{iid}").text
