"""No task to nobody: who each plan task reaches, checked before the plan is activated.

A plan task goes to its role's agency and there to the primary on duty. Where
the agency is not kept in the roster, or nobody is on duty as primary at the
moment of activation, the task would reach no one. Activation shows those
tasks first and the operator chooses, per task, where it goes instead:

- ``head``: the agency head (then the command room if unanswered);
- ``command_room``: the command room itself (an alert on its list);
- ``officer:<id>``: a named liaison officer, of any agency.

The service refuses to activate while any task has neither a person on duty
nor a choice, so after activation no task exists without a recipient.
Readiness asks the same question ahead of time (``gaps_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..roster import service as roster
from ..roster.models import Agency, Officer, StepTarget
from .schema import Phase, Plan, Task

HEAD = "head"
COMMAND_ROOM = "command_room"
OFFICER = "officer:"
# The agency that holds a command-room task when the role's own agency is not kept.
COMMAND_AGENCY = "health_commission"
WAIT_MINUTES = 10


class RecipientsNeeded(ValidationFailed):
    """Some tasks would reach nobody: the operator chooses where each goes (409)."""

    status = 409
    code = "recipients_needed"


@dataclass(frozen=True)
class Route:
    """Where one task goes: the roster agency that holds it and, if chosen, its chain."""

    agency: str | None  # None: no agency kept at all (refused before it gets here)
    chain: list[dict[str, Any]] | None  # None: the agency's own chain (someone on duty)
    choice: str | None = None


def _agency(s: Session, context: str, code: str) -> Agency | None:
    return s.scalar(select(Agency).where(Agency.context == context, Agency.code == code))


def officers(s: Session, context: str) -> list[dict[str, Any]]:
    """Every active officer a task can be sent to by name, with their agency."""
    rows = s.execute(select(Officer, Agency).join(Agency, Agency.id == Officer.agency_id)
                     .where(Officer.context == context, Officer.active.is_(True))
                     .order_by(Agency.code, Officer.name))
    return [{"id": o.id, "name": o.name, "agency": a.code, "agency_zh": a.name_zh,
             "agency_en": a.name_en} for o, a in rows]


def check(s: Session, *, context: str, plan: Plan, pairs: list[tuple[Phase, Task]],
          at: datetime, cache: dict[str, dict[str, Any]] | None = None
          ) -> list[dict[str, Any]]:
    """Per task: its agency, who is primary on duty at ``at``, and the choices if nobody.

    ``cache`` (agency code -> what was found) lets readiness ask for every plan and
    level while reading each agency's roster once.
    """
    seen: dict[str, dict[str, Any]] = {} if cache is None else cache
    command = _agency(s, context, COMMAND_AGENCY)
    out = []
    for _phase, task in pairs:
        role = plan.role(task.owner)
        if role.agency not in seen:
            agency = _agency(s, context, role.agency)
            people = [p for p in roster.on_duty_in(s, agency, layer="primary", at=at)
                      if p["active"]] if agency else []
            head = (s.get(Officer, agency.head_officer_id)
                    if agency is not None and agency.head_officer_id else None)
            seen[role.agency] = {
                "kept": agency is not None, "on_duty": [p["name"] for p in people],
                "head": ({"id": head.id, "name": head.name}
                         if head is not None and head.active else None),
                "command_room": agency is not None or command is not None,
            }
        a = seen[role.agency]
        options = []
        if not a["on_duty"]:
            if a["head"]:
                options.append(HEAD)
            if a["command_room"]:
                options.append(COMMAND_ROOM)
            options.append("officer")
        out.append({"task_id": task.id, "title": task.title.model_dump(), "role": role.id,
                    "role_title": role.title.model_dump(), "agency": role.agency,
                    "kept": a["kept"], "on_duty": a["on_duty"], "head": a["head"],
                    "ok": bool(a["on_duty"]), "options": options})
    return out


def gaps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["ok"]]


def routes(s: Session, *, context: str, rows: list[dict[str, Any]],
           choices: dict[str, str]) -> dict[str, Route]:
    """The route of every task; refused (409, the gaps as details) while one has none.

    A choice for a task that has someone on duty is ignored: the person on duty
    gets it, as the plan says.
    """
    out: dict[str, Route] = {}
    missing = []
    for r in rows:
        if r["ok"]:
            out[r["task_id"]] = Route(agency=r["agency"], chain=None)
            continue
        choice = (choices.get(r["task_id"]) or "").strip()
        route = _route(s, context, r, choice) if choice else None
        if route is None:
            missing.append(r)
            continue
        out[r["task_id"]] = route
    if missing:
        names = ", ".join(f"{m['title']['zh']} / {m['title']['en']}" for m in missing)
        raise RecipientsNeeded(
            _l("Nobody is on duty for %(n)s task(s): %(tasks)s. Choose for each one where it "
               "goes (the agency head, the command room or a named officer) and activate "
               "again.", n=len(missing), tasks=names),
            details={"tasks": missing, "officers": officers(s, context)})
    return out


def _route(s: Session, context: str, r: dict[str, Any], choice: str) -> Route | None:
    then_command = {"target": StepTarget.COMMAND_ROOM.value, "wait_minutes": 0}
    if choice == HEAD and r["head"] and r["kept"]:
        return Route(agency=r["agency"], choice=choice, chain=[
            {"target": StepTarget.HEAD.value, "wait_minutes": WAIT_MINUTES}, then_command])
    if choice == COMMAND_ROOM:
        holder = r["agency"] if r["kept"] else (
            COMMAND_AGENCY if _agency(s, context, COMMAND_AGENCY) else None)
        if holder is None:
            return None
        return Route(agency=holder, choice=choice, chain=[then_command])
    if choice.startswith(OFFICER) and choice[len(OFFICER):].isdigit():
        o = s.get(Officer, int(choice[len(OFFICER):]))
        if o is None or o.context != context or not o.active:
            raise ValidationFailed(_l("No such officer: choose an active liaison officer."))
        agency = s.get(Agency, o.agency_id)
        assert agency is not None
        return Route(agency=agency.code, choice=f"{OFFICER}{o.id}", chain=[
            {"target": StepTarget.OFFICER.value, "officer_id": o.id,
             "wait_minutes": WAIT_MINUTES}, then_command])
    if choice in (HEAD, COMMAND_ROOM) or choice.startswith(OFFICER):
        return None  # not possible for this task (no head, no agency): asked again
    raise ValidationFailed(_l("Unknown recipient choice: %(choice)s", choice=choice[:40]))
