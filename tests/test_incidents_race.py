"""The dispatch race across two real server processes sharing one database.

Two operators, each on a server process of their own, press "dispatch" for the
same ambulance at the same moment, 100 times over (a fresh ambulance and two
fresh incidents each round). Exactly one wins each round, the other is told
which incident and which operator got the unit, and afterwards the event log
tells the same story as the tables: one assignment, one ``incident.unit_dispatched``
and one ``available -> dispatched`` status change per ambulance.

Runs on PostgreSQL (the real concurrent case: row locks, READ COMMITTED) and on
a SQLite file both processes open (serialised writers).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text

from coordination import create_app, migrate
from coordination.auth import service as auth_service
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.incidents import service as incidents
from coordination.incidents.models import Assignment, Incident
from coordination.incidents.schemas import IncidentIn
from coordination.units import service as units
from coordination.units.models import Unit, UnitStatusChange
from coordination.units.schemas import NewUnit

from .support import PG_ADMIN_URL, Databases, need, start_server

pytestmark = [pytest.mark.slow]
ROUNDS = 100


def _pg_ok() -> tuple[bool, str]:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return False, str(exc)


@pytest.fixture
def cleanup() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture(params=["postgresql", "sqlite"])
def shared_url(request, tmp_path: Path, cleanup: ExitStack) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite'}"
    ok, why = _pg_ok()
    need("PostgreSQL", ok, why)
    dbs = Databases(os.environ.get("COORDINATION_TEST_DATABASE_URL") or PG_ADMIN_URL)
    cleanup.callback(dbs.drop_all)
    return dbs.postgres()


def _prepare(url: str, workdir: Path) -> tuple[dict[str, str], list[int], list[int]]:
    """Migrate, make two operator tokens, ROUNDS units and 2 x ROUNDS incidents."""
    create_app({"database_url": url, "instance_path": workdir / "setup", "redis_url": None,
                "secret_key": "test"})
    try:
        migrate.upgrade()
        actor = Actor.system("test")
        tokens = {}
        for name in ("screen-a", "screen-b"):
            _tok, secret = auth_service.create_token(name=name, roles=["operator"], actor=actor)
            tokens[name] = secret
        units.create_units(items=[NewUnit(call_sign=f"R{n:03d}", lon=113.1 + n / 1000,
                                          lat=41.0) for n in range(ROUNDS)],
                           actor=actor, region=None)
        for _ in range(2 * ROUNDS):
            incidents.create_incident(data=IncidentIn(type="mass_casualty", lon=113.2,
                                                      lat=41.05, patients=2), actor=actor)
        with db.reading() as s:
            unit_ids = list(s.scalars(select(Unit.id).order_by(Unit.call_sign)))
            incident_ids = list(s.scalars(select(Incident.id).order_by(Incident.id)))
    finally:
        db.dispose()
    return tokens, unit_ids, incident_ids


def test_two_processes_dispatching_the_same_unit_exactly_one_wins(shared_url, tmp_path,
                                                                   cleanup):
    tokens, unit_ids, incident_ids = _prepare(shared_url, tmp_path)
    servers = {}
    for name in tokens:
        server = start_server(database_url=shared_url, instance=tmp_path / name)
        cleanup.callback(server.stop)
        servers[name] = server
    sessions = {}
    for name, secret in tokens.items():
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {secret}"
        cleanup.callback(s.close)
        sessions[name] = s

    names = list(tokens)
    barrier = threading.Barrier(2)
    results: list[dict[str, tuple[int, dict]]] = [{} for _ in range(ROUNDS)]

    def operator(k: int) -> None:
        name = names[k]
        base = servers[name].url
        for r in range(ROUNDS):
            incident_id = incident_ids[2 * r + k]
            barrier.wait(timeout=60)
            resp = sessions[name].post(f"{base}/api/incidents/{incident_id}/dispatch",
                                       json={"unit_id": unit_ids[r]}, timeout=60)
            results[r][name] = (resp.status_code, resp.json())

    threads = [threading.Thread(target=operator, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)

    winners: dict[int, tuple[str, int]] = {}
    wins = Counter()
    for r, outcome in enumerate(results):
        codes = sorted(code for code, _body in outcome.values())
        assert codes == [201, 409], f"round {r}: {outcome}"
        won = next(n for n, (code, _b) in outcome.items() if code == 201)
        lost = next(n for n, (code, _b) in outcome.items() if code == 409)
        wins[won] += 1
        won_incident = incident_ids[2 * r + names.index(won)]
        winners[unit_ids[r]] = (f"token:{won}", won_incident)
        body = outcome[lost][1]
        # The loser is told who got the unit, and for which incident.
        assert body["details"]["incident_id"] == won_incident, body
        assert body["details"]["dispatched_by"] == f"token:{won}", body
        assert f"#{won_incident}" in body["error"] and won in body["error"]

    # The event log agrees with the tables.
    create_app({"database_url": shared_url, "instance_path": tmp_path / "check",
                "redis_url": None, "secret_key": "test"})
    try:
        with db.reading() as s:
            rows = s.execute(select(Assignment.unit_id, Assignment.incident_id,
                                    Assignment.dispatched_by)).all()
            assert sorted(rows) == sorted((u, i, w) for u, (w, i) in winners.items())
            statuses = dict(s.execute(select(Unit.id, Unit.status)).all())
            assert set(statuses.values()) == {"dispatched"}
            dispatched = list(s.scalars(select(Event).where(
                Event.type == "incident.unit_dispatched")))
            assert sorted((e.payload["unit"]["id"], int(e.subject_id), e.actor_name)
                          for e in dispatched) == sorted(
                (u, i, w) for u, (w, i) in winners.items())
            changes = s.execute(select(UnitStatusChange.unit_id).where(
                UnitStatusChange.status == "dispatched")).scalars().all()
            assert sorted(changes) == sorted(unit_ids)
            status_events = [e.payload["id"] for e in s.scalars(select(Event).where(
                Event.type == "unit.status_changed"))]
            assert sorted(status_events) == sorted(unit_ids)
            lost_incidents = set(incident_ids) - {i for _w, i in winners.values()}
            states = dict(s.execute(select(Incident.id, Incident.status)).all())
            assert {states[i] for i in lost_incidents} == {"reported"}
            assert {states[i] for _w, i in winners.values()} == {"dispatched"}
            seqs = list(s.scalars(select(Event.seq).where(Event.context == "live")
                                  .order_by(Event.seq)))
            assert seqs == list(range(1, len(seqs) + 1))  # gap-free: no half-written loser
    finally:
        db.dispose()
    print(f"\nwins per process: {dict(wins)}")
