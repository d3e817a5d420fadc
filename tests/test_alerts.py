"""Alerts: raised by the watcher's rules and by the service, acknowledged exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from coordination.alerts import service, watch
from coordination.alerts.models import Alert, AlertCursor, AlertKind
from coordination.alerts.service import AlertIn
from coordination.errors import Conflict, NotFound
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.incidents import service as incidents

from . import map_factories as mf
from .test_incidents import incident_in


def _events(type_: str) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.type == type_))


def _alerts() -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Alert))


def test_raise_is_deduplicated_on_the_open_key_and_carries_a_suggestion(app):
    data = AlertIn(kind=AlertKind.EARLY_WARNING, key="ew:plague:150929", title_zh="鼠疫预警",
                   title_en="Plague early warning",
                   suggestion={"plan": "plague", "level": "III"})
    first = service.raise_alert(data=data, actor=Actor.system("test"))
    assert first is not None and first["suggestion"] == {"plan": "plague", "level": "III"}
    assert service.raise_alert(data=data, actor=Actor.system("test")) is None
    assert _alerts() == 1 and _events("alert.raised") == 1


def test_acknowledge_twice_tells_who_and_when_and_records_once(app, make_user):
    a = make_user("operator", display_name="王芳")
    b = make_user("operator", display_name="李娜")
    raised = service.raise_alert(data=AlertIn(kind=AlertKind.FACILITY_FULL, key="f:1",
                                              title_zh="满", title_en="full"),
                                 actor=Actor.system("test"))
    done = service.acknowledge(alert_id=raised["id"], actor=a.actor)
    assert done["acked_by"] == "王芳" and not done["open"]
    with pytest.raises(Conflict) as err:
        service.acknowledge(alert_id=raised["id"], actor=b.actor)
    assert "王芳" in str(err.value.message)
    assert err.value.details["acked_at"] == done["acked_at"]
    assert _events("alert.acknowledged") == 1
    assert service.list_alerts() == []
    with pytest.raises(NotFound):
        service.acknowledge(alert_id=9999, actor=a.actor)
    # Acknowledged: the same key may be raised again (the facility is full once more).
    assert service.raise_alert(data=AlertIn(kind=AlertKind.FACILITY_FULL, key="f:1",
                                            title_zh="满", title_en="full"),
                               actor=Actor.system("test")) is not None


def test_the_watcher_raises_a_new_incident_once_and_judges_each_event_once(app):
    watch.scan()  # the first pass only sets the cursor at the head
    i = incidents.create_incident(context="live", data=incident_in(disease="plague"),
                                  actor=mf.ACTOR, region=mf.REGION)
    assert watch.scan() >= 1
    rows = service.list_alerts()
    mine = [r for r in rows if r["key"] == f"incident:{i['id']}"]
    assert len(mine) == 1 and mine[0]["severity"] == "critical"
    assert mine[0]["title"]["zh"] != mine[0]["title"]["en"]
    assert f"#{i['id']}" in mine[0]["title"]["en"]
    before = _alerts()
    assert watch.scan() == 0 and _alerts() == before


def test_a_full_facility_raises_an_alert(app):
    from coordination.facilities import service as facilities
    from coordination.facilities.schemas import CapacityReportIn

    f = mf.facility(name="集宁区发热门诊", initial={"figures": {"isolation_room": {
        "capacity": 4, "occupied": 1}}})
    watch.scan()
    facilities.report_capacity(facility_id=f.id, data=CapacityReportIn.model_validate({
        "status": "full", "figures": {"isolation_room": {"capacity": 4, "occupied": 4}}}),
        actor=mf.ACTOR)
    watch.scan()
    kinds = {r["kind"] for r in service.list_alerts()}
    assert "facility_full" in kinds


def test_alert_api_lists_and_acknowledges_with_csrf_and_role(app, make_user, auth, client):
    make_user("operator", username="op", display_name="王芳")
    make_user("logistics", username="lg")
    raised = service.raise_alert(data=AlertIn(kind=AlertKind.STOCK_OUT, key="s:1",
                                              title_zh="<b>缺货</b>", title_en="out"),
                                 actor=Actor.system("test"))
    auth.login("lg")
    assert client.get("/api/alerts").status_code == 403
    auth.login("op")
    assert client.get("/api/alerts").get_json()["alerts"][0]["title"]["zh"] == "<b>缺货</b>"
    assert client.post(f"/api/alerts/{raised['id']}/ack").status_code in (400, 403)
    ok = auth.post_json(f"/api/alerts/{raised['id']}/ack", {})
    assert ok.status_code == 200
    again = auth.post_json(f"/api/alerts/{raised['id']}/ack", {})
    assert again.status_code == 409 and "王芳" in again.get_json()["error"]
    assert auth.post_json("/api/alerts/424242/ack", {}).status_code == 404


def test_time_rules_raise_a_missed_deadline_once(app):
    from datetime import UTC, datetime, timedelta

    watch.scan()
    found = datetime.now(UTC) - timedelta(hours=30)
    i = incidents.create_incident(context="live", actor=mf.ACTOR, region=mf.REGION,
                                  data=incident_in(disease="plague", found_at=found))
    watch.scan()
    late = [a for a in service.list_alerts() if a["key"] == f"deadline:{i['id']}"]
    assert len(late) == 1 and late[0]["kind"] == "deadline_missed"
    service.acknowledge(alert_id=late[0]["id"], actor=mf.ACTOR)
    with db.unit_of_work() as s:  # the next sweep is due at once
        s.execute(update(AlertCursor).values(swept_at=None))
    watch.scan()
    assert [a for a in service.list_alerts() if a["key"] == f"deadline:{i['id']}"] == []


def test_a_critical_item_running_out_at_a_depot_raises_a_stock_out(app):
    from coordination.demo import load_demo
    from coordination.stock import service as stock
    from coordination.stock.gaps import gap_report
    from coordination.stock.schemas import IssueIn

    load_demo()
    watch.scan()
    row = next(r for r in gap_report()["rows"]
               if r["critical"] and r["target"] and r["available"] > 0 and r["depot"] == "SD")
    stock.issue_stock(data=IssueIn(depot=row["depot"], item=row["item"],
                                   quantity=row["available"], destination_kind="team",
                                   destination_ref="商都县疾控"), actor=mf.ACTOR)
    watch.scan()
    keys = {a["key"] for a in service.list_alerts()}
    assert f"stock-out:{row['depot']}:{row['item']}" in keys


def test_a_drill_raises_its_alerts_in_its_own_context_only(app, client):
    """Drill isolation: the watcher judges a drill's log in the drill's context, from its
    first event, on its own clock; live sees nothing; an ended run is not scanned."""
    from coordination.drills.models import RunStatus

    from .drill_factories import bound_token, drill_run, set_status

    watch.scan_all()  # live's cursor at its head
    run = drill_run()
    ctx = run["context"]
    i = incidents.create_incident(context=ctx, data=incident_in(disease="plague"),
                                  actor=mf.ACTOR, region=mf.REGION)
    live_before = service.list_alerts()
    assert ctx in watch.watched_contexts()
    assert watch.scan_all() >= 1
    drilled = service.list_alerts(context=ctx)
    # The new-incident alert (and the plague case's early warning, raised on logging),
    # all in the drill's context.
    key = f"incident:{i['id']}"
    assert key in [a["key"] for a in drilled]
    alert = next(a for a in drilled if a["key"] == key)
    assert service.list_alerts() == live_before
    with db.reading() as s:  # the alerts' events are on the drill's log, not live's
        kinds = {(e.context, e.type) for e in s.scalars(select(Event).where(
            Event.type == "alert.raised"))}
    assert kinds == {(ctx, "alert.raised")}

    headers = bound_token(ctx, "operator")  # a player's command room in the drill
    listed = client.get("/api/alerts", headers=headers).get_json()["alerts"]
    assert {a["id"] for a in listed} == {a["id"] for a in drilled}
    rows = client.get("/api/ops/panels?only=alerts", headers=headers).get_json()["alerts"]["rows"]
    assert alert["id"] in [r["id"] for r in rows]
    ack = client.post(f"/api/alerts/{alert['id']}/ack", headers=headers, json={})
    assert ack.status_code == 200 and ack.get_json()["acked_by"]
    assert key not in [a["key"] for a in service.list_alerts(context=ctx)]
    # From live, the drill's alert does not exist.
    with pytest.raises(NotFound):
        service.acknowledge(alert_id=alert["id"], actor=mf.ACTOR)

    set_status(run, RunStatus.ENDED)
    assert ctx not in watch.watched_contexts()
    later = incidents.create_incident(context=ctx, data=incident_in(), actor=mf.ACTOR,
                                      region=mf.REGION)
    watch.scan_all()
    assert f"incident:{later['id']}" not in [a["key"] for a in service.list_alerts(context=ctx)]
