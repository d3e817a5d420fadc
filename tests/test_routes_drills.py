"""Drill routes that had no functional test: joining and leaving a run over the JSON
API, and deleting a run from its console page (refused while it runs)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from coordination.drills import service as drills
from coordination.drills.models import DrillParticipant
from coordination.extensions import db

from .support import csrf_from
from .test_drills import BASIC, FIXTURES, TRAINER, demo  # noqa: F401  (fixture)


def _players(context: str) -> list[tuple[str, bool]]:
    with db.reading() as s:
        return [(p.actor_name, p.left_at is None) for p in s.scalars(
            select(DrillParticipant).where(DrillParticipant.context == context))]


def test_a_player_joins_and_leaves_a_run_over_the_api(demo, make_user, auth):  # noqa: F811
    run = drills.create_run(path=BASIC, root=FIXTURES, speed=10, actor=TRAINER)
    make_user("operator", username="op-join")
    auth.login("op-join")
    joined = auth.post_json(f"/api/drills/runs/{run['id']}/join", {})
    assert joined.status_code == 201, joined.text
    assert joined.get_json()["context"] == run["context"]
    assert _players(run["context"]) == [("op-join", True)]
    assert auth.post_json("/api/drills/runs/999999/join", {}).status_code == 404

    left = auth.post_json(f"/api/drills/runs/{run['id']}/leave", {})
    assert left.status_code == 200 and left.get_json() == {"left": run["id"]}
    assert _players(run["context"]) == [("op-join", False)]
    assert auth.post_json("/api/drills/runs/999999/leave", {}).status_code == 404

    drills.end_run(run_id=run["id"], actor=TRAINER)
    ended = auth.post_json(f"/api/drills/runs/{run['id']}/join", {})
    assert ended.status_code == 409
    assert _players(run["context"]) == [("op-join", False)]


def test_joining_over_the_api_needs_a_signed_in_caller_and_a_csrf_token(demo, make_user,  # noqa: F811
                                                                        auth):
    run = drills.create_run(path=BASIC, root=FIXTURES, speed=10, actor=TRAINER)
    assert auth.post_json(f"/api/drills/runs/{run['id']}/join", {}).status_code == 401
    make_user("logistics", username="lg-join")  # every role may join a drill as a player
    auth.login("lg-join")
    no_csrf = auth.client.post(f"/api/drills/runs/{run['id']}/join", json={})
    assert no_csrf.status_code == 400
    assert _players(run["context"]) == []


def test_a_trainer_deletes_an_ended_run_from_its_page(demo, make_user, auth,  # noqa: F811
                                                      app: Flask):
    app.config["COORDINATION"].plans_path = FIXTURES
    run = drills.create_run(path=BASIC, root=FIXTURES, speed=10, actor=TRAINER)
    make_user("trainer", username="tr-delete")
    auth.login("tr-delete")
    url = f"/drills/runs/{run['id']}"
    token = csrf_from(auth.client.get(url).text)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    refused = auth.client.post(url + "/delete", data={"csrf_token": token})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(url)
    assert [r["id"] for r in drills.list_runs()] == [run["id"]]  # running: kept

    drills.end_run(run_id=run["id"], actor=TRAINER)
    r = auth.client.post(f"/drills/runs/{run['id']}/delete", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/drills")
    assert drills.list_runs() == []
    assert auth.client.get(url).status_code == 404
