"""Roster and task routes that had no functional test: the roster administration forms,
the board, gaps and channel API, and a task's life over the API and its page (read,
deliveries, decline, jump, stats, cancel). Each through HTTP, with its role check or
refusal and the state it leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from coordination.events import Event
from coordination.extensions import db
from coordination.roster import manage
from coordination.roster import service as roster

from .roster_factories import ADMIN, crew

SH = ZoneInfo("Asia/Shanghai")


def _events(type_: str) -> list[Event]:
    with db.reading() as s:
        return list(s.scalars(select(Event).where(Event.type == type_)))


def test_an_admin_keeps_the_roster_through_the_admin_forms(make_user, auth):
    make_user("admin", username="ad-forms")
    auth.login("ad-forms")
    form = {"csrf_token": auth.csrf}
    r = auth.client.post("/roster/admin/agencies", data=form | {
        "code": "cdc", "name_zh": "疾控中心", "name_en": "CDC"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/roster/admin")
    bad = auth.client.post("/roster/admin/agencies", data=form | {
        "code": "ems", "name_zh": "x", "name_en": "x", "webhook_url": "ftp://x"},
        follow_redirects=True)
    assert bad.status_code == 200
    assert [a["code"] for a in manage.overview(context="live")["agencies"]] == ["cdc"]

    for name in ("张伟", "李娜"):
        r = auth.client.post("/roster/admin/officers", data=form | {
            "agency_code": "cdc", "name": name, "languages": "zh, en",
            "may_be_primary": "on"})
        assert r.status_code == 302
    officers = {o["name"]: o for o in manage.overview(context="live")["officers"]}
    assert set(officers) == {"张伟", "李娜"}
    assert officers["张伟"]["languages"] == ["zh", "en"]
    a, b = officers["张伟"]["id"], officers["李娜"]["id"]

    r = auth.client.post("/roster/admin/rotations", data=form | {
        "agency_code": "cdc", "name": "cdc primary", "layer": "primary", "kind": "daily",
        "handover": "08:00", "timezone": "Asia/Shanghai", "start_date": "2026-11-02",
        "officer_ids": [str(a)]})
    assert r.status_code == 302
    at = datetime(2026, 11, 3, 10, tzinfo=SH)
    assert [o["name"] for o in roster.on_duty(context="live", agency_code="cdc", at=at)] == [
        "张伟"]

    r = auth.client.post("/roster/admin/overrides", data=form | {
        "kind": "leave", "officer_id": str(a), "cover_officer_id": str(b),
        "starts_at": "2026-11-03T00:00", "ends_at": "2026-11-04T00:00"})
    assert r.status_code == 302
    assert [o["name"] for o in roster.on_duty(context="live", agency_code="cdc", at=at)] == [
        "李娜"]
    backwards = auth.client.post("/roster/admin/overrides", data=form | {
        "kind": "leave", "officer_id": str(a),
        "starts_at": "2026-11-05T00:00", "ends_at": "2026-11-04T00:00"})
    assert backwards.status_code == 302
    assert len(manage.overview(context="live")["overrides"]) == 1  # the refused one is not

    r = auth.client.post("/roster/admin/chain", data=form | {
        "agency_code": "cdc", "target": ["primary", "command_room", ""],
        "wait_minutes": ["5", "0", ""]})
    assert r.status_code == 302
    chain = manage.overview(context="live")["chains"]["cdc"]
    assert [st["target"] for st in chain] == ["primary", "command_room"]
    loop = auth.client.post("/roster/admin/chain", data=form | {
        "agency_code": "cdc", "target": ["primary", "primary"], "wait_minutes": ["5", "5"]})
    assert loop.status_code == 302
    chain = manage.overview(context="live")["chains"]["cdc"]
    assert [st["target"] for st in chain] == ["primary", "command_room"]
    assert "疾控中心" in auth.client.get("/roster/admin").text


def test_the_roster_admin_forms_need_an_admin_and_a_csrf_token(make_user, auth):
    make_user("admin", username="ad-forms2")
    auth.login("ad-forms2")
    assert auth.client.post("/roster/admin/agencies", data={
        "code": "cdc", "name_zh": "x", "name_en": "x"}).status_code == 400
    auth.client.post("/logout", data={"csrf_token": auth.csrf})
    make_user("operator", username="op-forms")
    auth.login("op-forms")
    for url in ("/roster/admin/agencies", "/roster/admin/officers", "/roster/admin/rotations",
                "/roster/admin/overrides", "/roster/admin/chain"):
        assert auth.client.post(url, data={"csrf_token": auth.csrf, "code": "cdc",
                                           "agency_code": "cdc"}).status_code == 403, url
    assert manage.overview(context="live")["agencies"] == []
    assert _events("roster.agency_saved") == []


def test_the_board_gaps_and_channels_over_the_api(make_user, auth):
    crew("live", "cdc", start=datetime.now(SH).date() - timedelta(days=1), users=False)
    make_user("admin", username="ad-board")
    auth.login("ad-board")
    board = auth.client.get("/api/roster/board").get_json()
    (cdc,) = board["agencies"]
    assert cdc["code"] == "cdc" and cdc["has_roster"] is True
    assert [o["name"] for o in cdc["primary"]] and cdc["primary"][0]["name"].startswith("P")
    assert auth.client.get("/api/roster/gaps?days=3").get_json() == {"gaps": []}
    assert auth.client.get("/api/roster/gaps?days=0").status_code == 400

    bad = auth.post_json("/api/roster/channels/sms", {"config": {"url": "ftp://gw"}})
    assert bad.status_code == 400 and "http" in bad.get_json()["error"]
    assert auth.post_json("/api/roster/channels/pigeon", {"config": {}}).status_code == 400
    ok = auth.post_json("/api/roster/channels/sms", {
        "config": {"url": "http://127.0.0.1:9/sms", "token": "s3cret"}, "enabled": True})
    assert ok.status_code == 200, ok.text
    assert ok.get_json() == {"kind": "sms", "enabled": True,
                             "config": {"url": "http://127.0.0.1:9/sms"}}  # no secret shown
    (saved,) = _events("roster.channel_set")
    assert "token" not in saved.payload["config"]


def test_a_task_over_the_api_read_delivered_declined_jumped_and_cancelled(make_user, auth):
    manage.set_channel(context="live", kind="sms", config={"url": "http://127.0.0.1:9/sms"},
                       enabled=True, actor=ADMIN)
    c = crew("live", "cdc", start=datetime.now(SH).date() - timedelta(days=1))
    on = roster.on_duty(context="live", agency_code="cdc", at=datetime.now(UTC))[0]
    make_user("operator", username="op-life")
    auth.login("op-life")
    made = auth.post_json("/api/tasks", {"agency_code": "cdc", "title": "流调"})
    assert made.status_code == 201, made.text
    tid = made.get_json()["id"]
    got = auth.client.get(f"/api/tasks/{tid}").get_json()
    assert got["id"] == tid and got["title"] == "流调" and got["step_index"] == 0
    assert auth.client.get("/api/tasks/999999").status_code == 404
    sent = auth.client.get(f"/api/tasks/{tid}/deliveries").get_json()["deliveries"]
    assert [(d["channel"], d["target"]) for d in sent] == [("sms", on["phone"])]
    stats = auth.client.get("/api/tasks/stats").get_json()
    assert [(a["code"], a["open"]) for a in stats["agencies"]] == [("cdc", 1)]
    assert auth.client.get("/api/tasks/stats?days=0").status_code == 400
    page = auth.client.get(f"/tasks/{tid}")
    assert page.status_code == 200 and "流调" in page.text
    auth.client.post("/logout", data={"csrf_token": auth.csrf})

    auth.login(c.users[on["id"]].name)  # the liaison officer on duty declines
    assert auth.post_json(f"/api/tasks/{tid}/jump", {"step": 1}).status_code == 403
    declined = auth.post_json(f"/api/tasks/{tid}/decline", {"reason": "在医院"})
    assert declined.status_code == 200, declined.text
    assert declined.get_json()["step_index"] == 1
    assert auth.post_json(f"/api/tasks/{tid}/decline", {"reason": "x"}).status_code == 403
    auth.client.post("/logout", data={"csrf_token": auth.csrf})

    auth.login("op-life")
    assert auth.post_json(f"/api/tasks/{tid}/jump", {"step": "2"}).status_code == 400
    jumped = auth.post_json(f"/api/tasks/{tid}/jump", {"step": 2})
    assert jumped.status_code == 200 and jumped.get_json()["step_index"] == 2
    r = auth.client.post(f"/tasks/{tid}/jump", data={"csrf_token": auth.csrf, "step": "0"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tasks/{tid}")
    assert roster.get_task(context="live", task_id=tid)["step_index"] == 0
    cancelled = auth.post_json(f"/api/tasks/{tid}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert auth.post_json(f"/api/tasks/{tid}/cancel", {}).status_code == 409
    assert auth.post_json(f"/api/tasks/{tid}/jump", {"step": 1}).status_code == 409
    assert [st.payload["id"] for st in _events("task.cancelled")] == [tid]
