"""Nothing a drill does shows in live: every table, every JSON listing, byte for byte.

A run is prepared, every inject fired, and players act in it through the same
services live work uses. Before and after, every live row of every table with
a context column is digested, and every parameterless JSON GET route of the
app is fetched by a user holding every role: both must be unchanged, and stay
unchanged when the run is deleted. Values that move with the wall clock alone
(ages, "now") are found by fetching twice before the drill and left out.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from coordination.auth.roles import Role
from coordination.drills import service as drills
from coordination.dutylog import service as dutylog
from coordination.dutylog.schemas import NewEntry
from coordination.events import Actor
from coordination.facilities import service as facilities
from coordination.facilities.schemas import CapacityReportIn

from .support import ROOT_DIR
from .test_drills import BASIC, demo, live_snapshot  # noqa: F401  (fixture)

TRAINER = Actor(kind="user", id=None, name="trainer")
# When a response was made (a cached one keeps its time for a while, so two quick
# fetches may agree and a later one not): never content.
CLOCK_KEYS = ("generated_at", "now", "server_time")


def _listing_urls(app: Flask) -> list[str]:
    return sorted(
        r.rule for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/") and "GET" in r.methods and not r.arguments
        and not r.rule.endswith((".pdf", ".xlsx", ".ics"))
        # The list of drill runs is where runs are meant to show (it is not live data).
        and not r.rule.startswith("/api/drills/")
    )


def _fetch_all(client: Any, urls: list[str]) -> dict[str, Any]:
    out = {}
    for url in urls:
        resp = client.get(url)
        body = resp.get_json(silent=True)
        if body is None:  # a page (the OGC API's how-to): not a listing
            continue
        out[url] = {"status": resp.status_code, "body": body}
    return out


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for k, v in value.items():
            flat |= _flatten(v, f"{path}.{k}")
        return flat
    if isinstance(value, list):
        flat = {f"{path}#len": len(value)}
        for i, v in enumerate(value):
            flat |= _flatten(v, f"{path}[{i}]")
        return flat
    return {path: value}


def test_a_drill_leaves_every_live_table_and_listing_as_it_was(
        demo: None, app: Flask, client: Any, auth: Any, make_user: Any) -> None:  # noqa: F811
    make_user(*[r.value for r in Role], username="everyone")
    auth.login("everyone")
    urls = _listing_urls(app)
    assert len(urls) >= 5, urls
    first = {u: _flatten(v) for u, v in _fetch_all(client, urls).items()}
    urls = sorted(first)
    second = {u: _flatten(v) for u, v in _fetch_all(client, urls).items()}
    volatile = {(u, k) for u in urls for k in set(first[u]) | set(second[u])
                if first[u].get(k) != second[u].get(k) or k.endswith(CLOCK_KEYS)}
    tables_before = live_snapshot()

    run = drills.create_run(path=BASIC, root=ROOT_DIR, speed=60, actor=TRAINER)
    ctx = run["context"]
    drills.start_run(run_id=run["id"], actor=TRAINER)
    for inj in drills.get_run(run_id=run["id"])["injects"]:
        drills.fire_now(run_id=run["id"], inject_id=inj["id"], actor=TRAINER)
    player = Actor(kind="user", id=None, name="operator")
    dutylog.post_entry(data=NewEntry(category="info", text="演练：已处置"), actor=player,
                       context=ctx)
    fac = facilities.list_facilities(context=ctx)[0]
    facilities.report_capacity(facility_id=fac.id, actor=player, context=ctx,
                               data=CapacityReportIn(status="diverting", note="演练"))
    drills.add_observation(run_id=run["id"], player="operator", text="处置及时",
                           inject_number="1", actor=TRAINER)

    def unchanged() -> None:
        now = {u: _flatten(v) for u, v in _fetch_all(client, urls).items()}
        for u in urls:
            keys = (set(now[u]) | set(second[u])) - {k for (vu, k) in volatile if vu == u}
            diff = {k: (second[u].get(k), now[u].get(k)) for k in keys
                    if second[u].get(k) != now[u].get(k)}
            assert diff == {}, f"{u} changed: {json.dumps(diff, default=str)[:800]}"
        assert live_snapshot() == tables_before

    unchanged()
    drills.end_run(run_id=run["id"], actor=TRAINER)
    unchanged()
    drills.delete_run(run_id=run["id"], actor=TRAINER)
    unchanged()
