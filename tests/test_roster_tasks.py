"""Tasks: resolution to the officer on duty, acknowledgement, escalation under a drill clock,
quorum, roll-call, acknowledge-reminder expiry, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordination.errors import Conflict, PermissionDenied, ValidationFailed
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.roster import escalation, manage, queries
from coordination.roster import service as roster
from coordination.roster.models import AckKey, TaskStep
from tests.roster_factories import ADMIN, crew, drill_context, officer, set_drill_time

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 3, 10, 0, tzinfo=SH)  # P2 primary, B1 backup (daily from 11-02 08:00)
OPERATOR = Actor(kind="user", id=None, name="operator-test")


def _task(ctx: str, **kw) -> dict:
    args = dict(context=ctx, agency_code="cdc", role=None, title="Trace contacts",
                details="Case 17", due_at=None, ack_deadline=None, source="drill",
                source_ref=None, incident_ref="inc-1", actor=OPERATOR)
    args.update(kw)
    return roster.create_task(**args)


def _actor(principal) -> Actor:
    return principal.actor


def _steps(task_id: int) -> list[tuple[int, str, str]]:
    with db.reading() as s:
        return [(r.step_index, r.target, r.reason) for r in s.scalars(
            select(TaskStep).where(TaskStep.task_id == task_id).order_by(TaskStep.seq))]


def _events(ctx: str, type_: str) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Event).where(
            Event.context == ctx, Event.type == type_))


def test_chain_escalates_step_by_step_under_a_drill_clock(app):
    ctx = drill_context("drill-esc", T0)
    crew(ctx, "cdc")
    manage.set_chain(context=ctx, agency_code="cdc", actor=ADMIN, data={"steps": [
        {"target": "primary", "wait_minutes": 5}, {"target": "backup", "wait_minutes": 7},
        {"target": "head", "wait_minutes": 3}, {"target": "command_room", "wait_minutes": 0}]})
    t = _task(ctx, ack_deadline=T0 + timedelta(minutes=4))
    assert [a["name"] for a in t["assignees"]] == ["P2-cdc"]
    assert t["next_escalation_at"] == (T0 + timedelta(minutes=4)).astimezone(UTC).isoformat()

    set_drill_time(ctx, T0 + timedelta(minutes=3, seconds=59))
    assert escalation.sweep_once()["escalated"] == 0
    set_drill_time(ctx, T0 + timedelta(minutes=4))
    assert escalation.sweep_once()["escalated"] == 1
    assert escalation.sweep_once()["escalated"] == 0  # fired once, not again
    t = roster.get_task(context=ctx, task_id=t["id"])
    assert t["step_index"] == 1 and [a["name"] for a in t["assignees"] if a["current"]] == [
        "B1-cdc"]
    set_drill_time(ctx, T0 + timedelta(minutes=10, seconds=59))
    assert escalation.sweep_once()["escalated"] == 0
    set_drill_time(ctx, T0 + timedelta(minutes=11))
    escalation.sweep_once()
    set_drill_time(ctx, T0 + timedelta(minutes=14))
    escalation.sweep_once()
    set_drill_time(ctx, T0 + timedelta(hours=5))
    assert escalation.sweep_once() == {"escalated": 0, "expired": 0, "finished": 0}
    assert _steps(t["id"]) == [(0, "primary", "created"), (1, "backup", "timeout"),
                               (2, "head", "timeout"), (3, "command_room", "timeout")]
    t = roster.get_task(context=ctx, task_id=t["id"])
    assert [st["fired_at"] is not None for st in t["chain"]] == [True] * 4
    assert t["next_escalation_at"] is None
    assert _events(ctx, "task.escalated") == 3
    # Nothing of the drill leaks into live.
    assert roster.list_tasks(context="live") == []


def test_acknowledgement_stops_the_chain_and_is_idempotent(app):
    ctx = drill_context("drill-ack", T0)
    c = crew(ctx, "cdc")
    t = _task(ctx)
    p2 = c.users[c.primaries[1]["id"]]
    first = roster.acknowledge_task(context=ctx, task_id=t["id"], key="k-000001", actor=p2.actor)
    again = roster.acknowledge_task(context=ctx, task_id=t["id"], key="k-000001", actor=p2.actor)
    assert first["status"] == "acknowledged" and first["repeated"] is False
    assert again["repeated"] is True
    assert _events(ctx, "task.acknowledged") == 1
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(AckKey)) == 1
    set_drill_time(ctx, T0 + timedelta(hours=3))
    assert escalation.sweep_once()["escalated"] == 0
    assert _steps(t["id"]) == [(0, "primary", "created")]
    st = queries.stats(context=ctx, incident_ref="inc-1")
    cdc = next(a for a in st["agencies"] if a["code"] == "cdc")
    assert cdc["open"] == 1 and cdc["recent"]["count"] == 1 and cdc["incident"]["count"] == 1


def test_refusals_change_nothing(app):
    ctx = drill_context("drill-bad", T0)
    c = crew(ctx, "cdc")
    t = _task(ctx)
    p1 = c.users[c.primaries[0]["id"]]  # not on duty: not addressed
    p2 = c.users[c.primaries[1]["id"]]
    with force_locale("en"):
        with pytest.raises(PermissionDenied, match="not addressed to you"):
            roster.acknowledge_task(context=ctx, task_id=t["id"], key="k-other-1",
                                    actor=p1.actor)
        with pytest.raises(ValidationFailed):
            roster.acknowledge_task(context=ctx, task_id=t["id"], key="x", actor=p2.actor)
        roster.complete_task(context=ctx, task_id=t["id"], actor=p2.actor)
        with pytest.raises(Conflict, match="closed"):
            roster.acknowledge_task(context=ctx, task_id=t["id"], key="k-late-01",
                                    actor=p2.actor)
        with pytest.raises(ValidationFailed, match="source"):
            _task(ctx, source="rumour")
        with pytest.raises(ValidationFailed, match="no step"):
            roster.jump_task(context=ctx, task_id=_task(ctx)["id"], step=7, actor=OPERATOR)
    assert _events(ctx, "task.acknowledged") == 0
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(AckKey)) == 0


def test_decline_moves_on_and_operator_jumps(app):
    ctx = drill_context("drill-decline", T0)
    c = crew(ctx, "cdc")
    t = _task(ctx)
    p2 = c.users[c.primaries[1]["id"]]
    t = roster.decline_task(context=ctx, task_id=t["id"], reason="at the hospital",
                            actor=p2.actor)
    assert t["step_index"] == 1
    assert [a["name"] for a in t["assignees"] if a["current"]] == ["B1-cdc"]
    t = roster.jump_task(context=ctx, task_id=t["id"], step=3, actor=OPERATOR)
    assert t["step_index"] == 3 and t["next_escalation_at"] is None
    assert [x[2] for x in _steps(t["id"])] == ["created", "declined", "jump"]


def test_quorum_roll_call_and_ack_expiry(app):
    ctx = drill_context("drill-quorum", T0)
    crew(ctx, "disinfection", primaries=0, backups=0)
    teams = []
    for n in range(3):
        o, p = officer(ctx, "disinfection", f"Team {n + 1}", user=True)
        manage.save_rotation(context=ctx, actor=ADMIN, data={
            "agency_code": "disinfection", "name": f"team {n + 1}", "role": f"team{n + 1}",
            "start_date": "2026-11-01", "officer_ids": [o["id"]]})
        teams.append(p)
    q = _task(ctx, agency_code="disinfection", ack_mode="quorum", quorum=2)
    assert len(q["assignees"]) == 3
    q = roster.acknowledge_task(context=ctx, task_id=q["id"], key="q-team-1", actor=teams[0].actor)
    assert q["status"] == "open"
    q = roster.acknowledge_task(context=ctx, task_id=q["id"], key="q-team-2", actor=teams[1].actor)
    assert q["status"] == "acknowledged"

    rc = _task(ctx, agency_code="disinfection", ack_mode="roll_call")
    for n, p in enumerate(teams[:2]):
        rc = roster.acknowledge_task(context=ctx, task_id=rc["id"], key=f"rc-team-{n}",
                                     actor=p.actor)
    assert rc["status"] == "open"
    assert sorted(a["status"] for a in rc["assignees"]) == ["acknowledged", "acknowledged",
                                                            "pending"]
    rc = roster.acknowledge_task(context=ctx, task_id=rc["id"], key="rc-team-3",
                                 actor=teams[2].actor)
    assert rc["status"] == "acknowledged"

    ex = _task(ctx, agency_code="disinfection", ack_expiry_minutes=15)
    ex = roster.acknowledge_task(context=ctx, task_id=ex["id"], key="ex-team-1",
                                 actor=teams[0].actor)
    set_drill_time(ctx, T0 + timedelta(minutes=10))
    roster.add_note(context=ctx, task_id=ex["id"], text="spraying block 3", actor=teams[0].actor)
    set_drill_time(ctx, T0 + timedelta(minutes=24))
    assert escalation.sweep_once()["expired"] == 0  # progress renewed it until 10+15
    set_drill_time(ctx, T0 + timedelta(minutes=25))
    assert escalation.sweep_once()["expired"] == 1
    ex = roster.get_task(context=ctx, task_id=ex["id"])
    assert ex["status"] == "open"
    assert ex["notes"][0]["text"] == "spraying block 3"
    assert _events(ctx, "task.ack_expired") == 1


def test_gap_at_creation_goes_straight_to_backup(app):
    ctx = drill_context("drill-gap", T0)
    c = crew(ctx, "cdc")
    manage.add_override(context=ctx, actor=ADMIN, data={
        "kind": "leave", "officer_id": c.primaries[1]["id"],
        "starts_at": (T0 - timedelta(hours=1)).isoformat(),
        "ends_at": (T0 + timedelta(hours=1)).isoformat()})
    t = _task(ctx)
    assert t["assignees"] == []
    escalation.sweep_once()
    t = roster.get_task(context=ctx, task_id=t["id"])
    assert t["step_index"] == 1 and [a["name"] for a in t["assignees"]] == ["B1-cdc"]


def test_my_tasks_api_ack_and_someone_elses(app, client, auth, make_user):
    c = crew("live", "cdc", start=datetime.now(SH).date() - timedelta(days=1))
    on = roster.on_duty(context="live", agency_code="cdc", at=datetime.now(UTC))[0]
    other = next(o for o in c.primaries if o["id"] != on["id"])
    t = _task("live", source="manual")
    auth.login(c.users[other["id"]].name)
    assert client.get("/api/my/tasks").get_json()["tasks"] == []
    r = auth.post_json(f"/api/tasks/{t['id']}/ack", {"key": "abcdefgh1"})
    assert r.status_code == 403
    client.post("/logout", data={"csrf_token": auth.csrf})
    auth.login(c.users[on["id"]].name)
    mine = client.get("/api/my/tasks").get_json()
    assert [x["id"] for x in mine["tasks"]] == [t["id"]] and mine["tasks"][0]["mine"]
    r1 = auth.post_json(f"/api/tasks/{t['id']}/ack", {"key": "abcdefgh2"})
    r2 = auth.post_json(f"/api/tasks/{t['id']}/ack", {"key": "abcdefgh2"})
    assert r1.status_code == 200 and r2.status_code == 200 and r2.get_json()["repeated"]
    assert client.get("/my/tasks").status_code == 200
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buf, format="PNG")
    png = buf.getvalue()

    r = client.post(f"/api/tasks/{t['id']}/notes", data={
        "text": "on site", "photo": (io.BytesIO(png), "p.png")},
        headers={"X-CSRFToken": auth.csrf}, content_type="multipart/form-data")
    assert r.status_code == 201, r.text
    name = r.get_json()["note"]["photo"]
    assert client.get(f"/api/tasks/photos/{name}").data == png
    bad = client.post(f"/api/tasks/{t['id']}/notes", data={
        "text": "x", "photo": (io.BytesIO(b"MZ not an image"), "p.png")},
        headers={"X-CSRFToken": auth.csrf}, content_type="multipart/form-data")
    assert bad.status_code == 400
    r = auth.post_json(f"/api/tasks/{t['id']}/done", {})
    assert r.get_json()["status"] == "done"
    again = auth.post_json(f"/api/tasks/{t['id']}/ack", {"key": "abcdefgh3"})
    assert again.status_code == 409


def test_operator_creates_a_task_from_the_page(app, client, auth, make_user):
    crew("live", "cdc", start=datetime.now(SH).date() - timedelta(days=1))
    make_user("operator", username="op")
    auth.login("op")
    page = client.get("/tasks")
    assert page.status_code == 200
    r = client.post("/tasks", data={"csrf_token": auth.csrf, "agency_code": "cdc",
                                    "title": "Disinfect ward 3", "ack_mode": "single",
                                    "quorum": "1"})
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"]
    detail = client.get(r.headers["Location"])
    assert "Disinfect ward 3" in detail.text
    r = client.post("/tasks", data={"csrf_token": auth.csrf, "agency_code": "nope",
                                    "title": "x"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/tasks")
    assert len(roster.list_tasks(context="live")) == 1
    assert client.get("/ops").status_code == 200
