"""Concurrent time jumps of one drill run: each is applied or a 409, never a 500.

Two trainers pressing "jump" at once both read the same next inject; the second finds
the clock already there (``DrillClock.jumped_to`` refuses to go back) and is told so.
"""

from __future__ import annotations

import threading

from coordination.auth import service as auth_service
from coordination.demo import AREAS
from coordination.drills import service as drills
from coordination.events import Actor
from coordination.facilities.demo import load_map_demo
from coordination.geo.service import upsert_areas
from coordination.stock.demo import load_stock_demo

from .support import ROOT_DIR

BASIC = ROOT_DIR / "tests" / "fixtures" / "drills" / "basic.yaml"
TRAINER = Actor(kind="user", id=None, name="trainer")


def test_concurrent_jumps_are_applied_or_409(app):
    actor = Actor.system("demo")
    upsert_areas(areas=AREAS, actor=actor)
    load_map_demo(actor)
    load_stock_demo(actor)
    _tok, secret = auth_service.create_token(name="t", roles=["trainer"], actor=Actor.system("t"))
    headers = {"Authorization": f"Bearer {secret}"}
    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    drills.start_run(run_id=run["id"], actor=TRAINER)
    statuses: list[int] = []
    for _round in range(6):
        gate = threading.Barrier(4)

        def jump(gate: threading.Barrier = gate) -> None:
            client = app.test_client()
            gate.wait()
            resp = client.post(f"/api/drills/runs/{run['id']}/jump", headers=headers)
            statuses.append(resp.status_code)
            if resp.status_code == 409:
                assert resp.get_json()["error"]

        threads = [threading.Thread(target=jump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert statuses and set(statuses) <= {200, 409}, statuses
    assert 200 in statuses
