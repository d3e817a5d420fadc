"""Reading drill runs and their injects, as the trainer's pages, the API and the banner show them.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from .common import run_clock, run_row
from .models import (
    DrillInject,
    DrillRun,
    RunStatus,
)

ALLOWED_ACTIONS = {
    RunStatus.READY: ["start", "end"], RunStatus.RUNNING: ["pause", "jump", "end"],
    RunStatus.PAUSED: ["resume", "jump", "end"], RunStatus.ENDED: [],
}


def inject_dict(inject_id: int) -> dict[str, Any]:
    with db.reading() as s:
        inj = s.get(DrillInject, inject_id)
        if inj is None:
            raise NotFound(_l("No such inject in this drill."))
        return inject_row(inj)


def inject_row(inj: DrillInject) -> dict[str, Any]:
    return {"id": inj.id, "number": inj.number, "type": inj.type, "origin": inj.origin,
            "status": inj.status, "due": inj.due_sim.isoformat(),
            "fired": inj.fired_sim.isoformat() if inj.fired_sim else None,
            "early": inj.early, "error": inj.error, "to": inj.spec.get("to"),
            "message": inj.spec.get("message"), "spec": inj.spec}


def get_run(*, run_id: int) -> dict[str, Any]:
    with db.reading() as s:
        run = run_row(s, run_id)
        _, clock = run_clock(s, run)
        injects = list(s.scalars(select(DrillInject).where(DrillInject.run_id == run.id)
                                 .order_by(DrillInject.due_sim, DrillInject.id)))
        return {
            "id": run.id, "context": run.context, "title": run.title,
            "scenario": {"id": run.scenario_id, "version": run.scenario_version,
                         "hash": run.scenario_hash, "file": run.scenario_file,
                         "title": run.scenario.get("title")},
            "status": run.status, "speed": clock.speed, "paused": clock.paused,
            "sim_start": run.sim_start.isoformat(), "sim_now": clock.now().isoformat(),
            "created_by": run.created_by, "seeded": run.seeded,
            "allowed_actions": ALLOWED_ACTIONS[RunStatus(run.status)],
            "injects": [inject_row(i) for i in injects],
        }


def list_runs(*, active_only: bool = False) -> list[dict[str, Any]]:
    with db.reading() as s:
        q = select(DrillRun).order_by(DrillRun.id.desc())
        if active_only:
            q = q.where(DrillRun.status.in_([RunStatus.READY.value, RunStatus.RUNNING.value,
                                             RunStatus.PAUSED.value]))
        out = []
        for run in s.scalars(q):
            _, clock = run_clock(s, run)
            out.append({"id": run.id, "context": run.context, "title": run.title,
                        "scenario": run.scenario_id, "status": run.status,
                        "speed": clock.speed, "sim_now": clock.now().isoformat(),
                        "created_by": run.created_by, "created_at": run.created_at.isoformat()})
        return out


def run_for_context(context: str) -> dict[str, Any] | None:
    """The run a drill context belongs to (for the banner), or None for live."""
    with db.reading() as s:
        run = s.scalar(select(DrillRun).where(DrillRun.context == context))
        if run is None:
            return None
        _, clock = run_clock(s, run)
        return {"id": run.id, "title": run.title, "status": run.status, "speed": clock.speed,
                "paused": clock.paused, "sim_now": clock.now().isoformat(),
                "context": run.context}
