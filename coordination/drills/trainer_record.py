"""The trainer's record of a run: observations, task ratings, improvement items.

These feed the after-action report; they never change the run's context data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import events
from ..clock import wall_now
from ..errors import NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from .common import TRAINERS, run_clock, run_row
from .models import (
    DrillEvaluation,
    DrillObservation,
    ImprovementItem,
)
from .scenario import Capability, Rating


def add_observation(*, run_id: int, player: str, text: str, inject_number: str | None,
                    actor: Actor) -> dict[str, Any]:
    text, player = text.strip(), player.strip()
    if not text or not player:
        raise ValidationFailed(_l("An observation needs a player and a text."))
    with db.unit_of_work() as s:
        run = run_row(s, run_id)
        _, clock = run_clock(s, run)
        obs = DrillObservation(run_id=run.id, at_sim=clock.now(), player=player[:120],
                               inject_number=inject_number or None, text=text, author=actor.name)
        s.add(obs)
        s.flush()
        body = {"id": obs.id, "at": obs.at_sim.isoformat(), "player": obs.player,
                "inject": obs.inject_number, "text": obs.text, "author": obs.author}
        events.append(s, context=run.context, type="drill.observation", actor=actor,
                      audience=TRAINERS, subject=("drill_run", run.id), payload=body)
        return body


def rate_task(*, run_id: int, task_id: str, rating: Rating, notes: str,
              actor: Actor) -> dict[str, Any]:
    with db.unit_of_work() as s:
        run = run_row(s, run_id)
        tasks = {t["id"] for t in run.scenario.get("critical_tasks", [])}
        if task_id not in tasks:
            raise NotFound(_l("The scenario has no critical task %(t)s.", t=task_id))
        row = s.scalar(select(DrillEvaluation).where(DrillEvaluation.run_id == run_id,
                                                     DrillEvaluation.task_id == task_id))
        if row is None:
            row = DrillEvaluation(run_id=run_id, task_id=task_id)
            s.add(row)
        row.rating, row.notes, row.author, row.at = rating.value, notes.strip(), actor.name, \
            wall_now()
        return {"task": task_id, "rating": row.rating, "notes": row.notes}


def add_improvement(*, run_id: int, issue: str, action: str, element: Capability,
                    agency: str, owner: str, start: date, end: date,
                    actor: Actor) -> dict[str, Any]:
    if end < start:
        raise ValidationFailed(_l("The end date is before the start date."))
    if not issue.strip() or not action.strip() or not agency.strip():
        raise ValidationFailed(_l("An improvement needs an issue, an action and an agency."))
    with db.unit_of_work() as s:
        run_row(s, run_id)
        row = ImprovementItem(run_id=run_id, issue=issue.strip(), corrective_action=action.strip(),
                              capability_element=element.value, agency=agency.strip(),
                              owner=owner.strip() or agency.strip(), start=start, end=end)
        s.add(row)
        s.flush()
        return {"id": row.id}
