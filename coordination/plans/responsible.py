"""Every checklist step's responsible person, by name: the plan's position resolved through
the roster to whoever holds it on duty (coordination/roster/positions.py).

Plans name positions (``responsible: crew_leader``) of the agency that owns the task;
the checklist, the liaison officer's task and the printed plan show the person on
shift in that position with a phone number, and readiness counts a position with
nobody in it as a shortfall.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..roster import positions
from .schema import Level, Plan, Task


def wanted(plan: Plan, tasks: list[Task] | None = None) -> list[tuple[str, str]]:
    """(agency, position) of every step of ``tasks`` (default: all the plan's tasks)."""
    chosen = tasks if tasks is not None else [t for _p, t in plan.tasks()]
    return list(dict.fromkeys((plan.role(t.owner).agency, st.responsible)
                              for t in chosen for st in t.checklist))


def steps_by_task(s: Session, *, context: str, plan: Plan, at: datetime
                  ) -> dict[str, list[dict[str, Any]]]:
    """Plan task id -> its steps, each with ``people`` on duty in its position at ``at``."""
    people = positions.resolve(s, context=context, wanted=wanted(plan), at=at)
    out: dict[str, list[dict[str, Any]]] = {}
    for _p, task in plan.tasks():
        agency = plan.role(task.owner).agency
        out[task.id] = [{"text": st.text.model_dump(), "ppe": st.ppe.value,
                         "responsible": st.responsible, "agency": agency,
                         "people": people.get((agency, st.responsible)) or []}
                        for st in task.checklist]
    return out


def vacant(s: Session, *, context: str, plan: Plan, level: Level, at: datetime
           ) -> list[dict[str, str]]:
    """The positions the plan's tasks at ``level`` name that nobody holds at ``at``, at the
    agencies the roster keeps (one it does not keep is already short of an officer)."""
    tasks = [t for _p, t in plan.tasks_for(level)]
    people = positions.resolve(s, context=context, wanted=wanted(plan, tasks), at=at)
    return [{"agency": agency, "position": position}
            for (agency, position), holders in people.items() if holders == []]


def person_text(people: list[dict[str, Any]]) -> str:
    """"Name phone" of each holder, for the liaison's task text."""
    return ", ".join(f"{p['name']} {p['phone']}".strip() for p in people)
