"""Road networks in the database, and the graph each process builds from them.

``import_roads`` reads a layer (routing.read_road_file), checks every feature
and the graph, and replaces the context's network in one transaction with one
``roads.imported`` event. ``current_network`` hands the recommendation its
``RoadNetwork``: the context's own network, else the live one (a drill drives
on the live roads unless it imported its own), built once per process and
rebuilt when a newer import appears.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select

from .. import events
from ..contexts import LIVE, context_row
from ..errors import ValidationFailed
from ..events import Actor
from ..extensions import db
from .road_models import RoadNetworkRow, RoadSegmentRow
from .routing import RoadDataError, RoadNetwork, Segment, read_road_file

AUDIENCE = ["role:operator", "role:trainer"]
# Keyed by database as well as network id: a process (a test run, a tool) may open several
# databases whose networks share an id.
_cache: dict[tuple[str, int], RoadNetwork] = {}
_lock = threading.Lock()


def import_roads(*, path: Path, actor: Actor, context: str = LIVE, name: str | None = None,
                 speed_field: str | None = None, class_field: str | None = None,
                 oneway_field: str | None = None, default_speed: float | None = None,
                 layer: str | None = None) -> dict[str, Any]:
    """Replace the context's road network with the layer at ``path``; all or nothing."""
    options: dict[str, Any] = {"speed_field": speed_field, "class_field": class_field,
                               "oneway_field": oneway_field, "default_speed": default_speed}
    if path.suffix.lower() != ".pbf":
        options["layer"] = layer
    else:
        options = {}
    try:
        segments = read_road_file(path, **options)
        network = RoadNetwork.from_segments(segments)
    except RoadDataError as exc:
        raise ValidationFailed(str(_l("The road layer cannot be imported: %(n)s problem(s).",
                                      n=len(exc.reasons))) + " " + "; ".join(exc.reasons[:5]),
                               details=exc.reasons) from None
    length_km = _length_km(segments)
    with db.unit_of_work() as s:
        ctx = context_row(s, context)
        now = ctx.clock().now()
        # Older imports keep their row (the history, and ids that are never reused,
        # so a process's cached graph can never be mistaken for a newer one) but
        # drop their segments: only the newest network is ever routed on.
        s.execute(delete(RoadSegmentRow).where(RoadSegmentRow.context == context))
        row = RoadNetworkRow(context=context, name=(name or path.name)[:200],
                             segment_count=len(segments), length_km=round(length_km, 2),
                             imported_at=now, imported_by=actor.name)
        s.add(row)
        s.flush()
        s.execute(insert(RoadSegmentRow), [
            {"context": context, "network_id": row.id, "road_class": seg.road_class[:40],
             "speed_kmh": seg.speed_kmh, "oneway": seg.oneway,
             "coords": json.dumps([[round(x, 7), round(y, 7)] for x, y in seg.coords])}
            for seg in segments
        ])
        body: dict[str, Any] = {"id": row.id, "name": row.name, "segments": len(segments),
                "nodes": network.node_count, "arcs": network.edge_count,
                "length_km": row.length_km, "imported_at": now.isoformat()}
        events.append(s, context=context, type="roads.imported", actor=actor,
                      audience=AUDIENCE, payload=body)
    with _lock:
        _cache.clear()
        _cache[_key(int(body["id"]))] = network
    return body


def _length_km(segments: list[Segment]) -> float:
    """Total length on the sphere (haversine, vectorised): a figure for people."""
    import numpy as np

    lon = np.radians(np.concatenate([np.asarray(s.coords)[:, 0] for s in segments]))
    lat = np.radians(np.concatenate([np.asarray(s.coords)[:, 1] for s in segments]))
    line = np.repeat(np.arange(len(segments)), [len(s.coords) for s in segments])
    same = line[:-1] == line[1:]
    dlat, dlon = np.diff(lat)[same], np.diff(lon)[same]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:-1][same]) * np.cos(lat[1:][same]) * \
        np.sin(dlon / 2) ** 2
    return float((2 * 6_371_008.8 * np.arcsin(np.sqrt(a))).sum() / 1000)


def _network_row(s: Any, context: str) -> RoadNetworkRow | None:
    for ctx in dict.fromkeys([context, LIVE]):
        row = s.scalars(select(RoadNetworkRow).where(RoadNetworkRow.context == ctx)
                        .order_by(RoadNetworkRow.id.desc()).limit(1)).first()
        if row is not None:
            return row
    return None


def _key(network_id: int) -> tuple[str, int]:
    assert db.engine is not None
    return (db.engine.url.render_as_string(), network_id)


def current_network(*, context: str = LIVE) -> RoadNetwork | None:
    """The graph the context routes on, or None when no road layer was imported."""
    with db.reading() as s:
        row = _network_row(s, context)
        if row is None:
            return None
        network_id = row.id
        key = _key(network_id)
        cached = _cache.get(key)
        if cached is not None:
            return cached
        segments = [
            Segment([(c[0], c[1]) for c in json.loads(coords)], speed, oneway, cls)
            for coords, speed, oneway, cls in s.execute(
                select(RoadSegmentRow.coords, RoadSegmentRow.speed_kmh, RoadSegmentRow.oneway,
                       RoadSegmentRow.road_class)
                .where(RoadSegmentRow.network_id == network_id).order_by(RoadSegmentRow.id))
        ]
    network = RoadNetwork.from_segments(segments)
    with _lock:
        if key not in _cache:
            _cache.clear()  # one network per process is plenty; an older one is stale
            _cache[key] = network
        return _cache[key]


def network_summary(*, context: str = LIVE) -> dict[str, Any] | None:
    """What is imported, for the CLI and pages."""
    with db.reading() as s:
        row = _network_row(s, context)
        if row is None:
            return None
        return {"id": row.id, "context": row.context, "name": row.name,
                "segments": row.segment_count, "length_km": row.length_km,
                "imported_at": row.imported_at.isoformat(), "imported_by": row.imported_by}
