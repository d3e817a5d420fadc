"""The one seam between plans and the liaison roster (coordination.roster).

Activation hands each plan task to the roster inside the activation's own
transaction (``create_task_in``), which resolves it to the officer on duty and
starts its escalation chain; readiness asks the roster who is on duty. An
agency the roster does not keep yet leaves the task unassigned (shown as such
on the checklist) rather than refusing the whole response.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events, vocab
from ..errors import Conflict
from ..events import Actor
from ..roster import positions
from ..roster import service as roster
from ..roster.models import Agency, Assignee, Officer, StepTarget
from ..roster.models import Task as RosterTask
from . import responsible
from .models import PlanActivation
from .schema import Plan, Task

PPE_TEXT = {"zh": {"none": "", "standard": "标准预防", "level1": "一级防护",
                   "level2": "二级防护", "level3": "三级防护"},
            "en": {"none": "", "standard": "Standard precautions", "level1": "PPE level 1",
                   "level2": "PPE level 2", "level3": "PPE level 3"}}
NOBODY = {"zh": "无人在岗", "en": "nobody on duty"}
LANGS = ("zh", "en")


def _agency(s: Session, context: str, code: str) -> Agency | None:
    return s.scalar(select(Agency).where(Agency.context == context, Agency.code == code))


def details_text(task: Task, people: dict[str, list[dict[str, Any]]] | None = None,
                 lang: str = "zh") -> str:
    """The checklist as the officer's phone shows it, in one language (``zh``/``en``): step,
    protection, equipment, and the person by name: the position's holder on duty
    (``people``: position -> holders). Written once per language, stored side by side,
    so a reader never gets a "中文 / English" line."""
    lines = []
    if task.details:
        lines.append(getattr(task.details, lang))
    for n, step in enumerate(task.checklist, start=1):
        pos = vocab.positions().get(step.responsible, {})
        who = (responsible.person_text((people or {}).get(step.responsible, []))
               or NOBODY[lang])
        line = f"{n}. {getattr(step.text, lang)} [{pos.get(lang, step.responsible)}: {who}]"
        if PPE_TEXT[lang].get(step.ppe.value):
            line += f" {PPE_TEXT[lang][step.ppe.value]}"
        if step.equipment:
            # by name only: the catalogue code (``e.item``) is for the stock pages
            line += " — " + ", ".join(f"{getattr(e.name, lang)}×{e.quantity}"
                                      for e in step.equipment)
        lines.append(line)
    return "\n".join(lines)[:5000]


def create_task(s: Session, *, context: str, agency: str, role: str, task: Task, plan: Plan,
                incident_ref: str, source_ref: str, due_at: datetime, ack_deadline: datetime,
                actor: Actor, holder: str | None = None,
                chain: list[dict[str, Any]] | None = None,
                choice: str | None = None) -> int | None:
    """Create the roster task in the caller's transaction; None when the agency is not kept.

    ``holder`` and ``chain`` are the operator's choice for a role with nobody on duty
    (plans/recipients.py): the agency that holds the task and where it goes first. A
    task sent to the command room is also an alert on the command room's list.
    """
    holder = holder or agency
    if _agency(s, context, holder) is None:
        return None
    found = positions.resolve(s, context=context, at=ack_deadline - task.ack,
                              wanted=[(agency, st.responsible) for st in task.checklist])
    people = {pos: holders or [] for (_a, pos), holders in found.items()}
    created = roster.create_task_in(
        s, context=context, agency_code=holder, role=None,
        title=task.title.zh[:200], title_en=task.title.en[:200],
        details=details_text(task, people, "zh"), details_en=details_text(task, people, "en"),
        due_at=due_at, ack_deadline=ack_deadline, source="plan", source_ref=source_ref[:120],
        incident_ref=incident_ref[:120], actor=actor, chain=chain)
    if chain and chain[0]["target"] == StepTarget.COMMAND_ROOM.value:
        from ..alerts.models import AlertKind, Severity
        from ..alerts.service import AlertIn, raise_in

        who = plan.role(role).title
        raise_in(s, context=context, actor=actor, data=AlertIn(
            kind=AlertKind.ESCALATION, key=f"plan-task:{created['id']}",
            title_zh=f"预案任务交指挥大厅（{who.zh}无人在岗）：{task.title.zh}"[:300],
            title_en=f"Plan task for the command room (nobody on duty as {who.en}): "
                     f"{task.title.en}"[:300],
            severity=Severity.HIGH, subject=("task", created["id"])))
    return int(created["id"])


def cancel_tasks(ids: list[int], *, context: str, actor: Actor) -> None:
    """Cancel roster tasks a stood-down activation left open (closed ones are skipped)."""
    for task_id in ids:
        try:
            roster.cancel_task(context=context, task_id=task_id, actor=actor)
        except Conflict:
            continue  # closed meanwhile by its officer: nothing to cancel


def task_states(s: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Roster task id -> status, acknowledgement time and the current assignees."""
    if not ids:
        return {}
    tasks = list(s.scalars(select(RosterTask).where(RosterTask.id.in_(ids))))
    people: dict[int, list[str]] = {}
    rows = s.execute(
        select(Assignee.task_id, Officer.name, Assignee.step_seq, RosterTask.step_seq)
        .join(Officer, Officer.id == Assignee.officer_id)
        .join(RosterTask, RosterTask.id == Assignee.task_id)
        .where(Assignee.task_id.in_(ids)))
    for task_id, name, seq, current in rows:
        if seq == current:
            people.setdefault(task_id, []).append(name)
    return {t.id: {"status": str(t.status), "acknowledged_at": t.acknowledged_at,
                   "assignee": ", ".join(people.get(t.id, [])) or None,
                   "target": t.chain[t.step_index]["target"] if t.chain else None}
            for t in tasks}


def notify(s: Session, *, context: str, agencies: list[str], activation: PlanActivation,
           plan: Plan, actor: Actor) -> None:
    """Tell the on-duty primaries of the agencies the plan names, on their own socket room."""
    now = activation.activated_at
    reached: list[dict[str, Any]] = []
    missing: list[str] = []
    rooms: set[str] = set()
    for code in dict.fromkeys(agencies):
        agency = _agency(s, context, code)
        officers = roster.on_duty_in(s, agency, layer="primary", at=now) if agency else []
        if not officers:
            missing.append(code)
            continue
        for o in officers:
            reached.append({"agency": code, "officer": o["name"], "phone": o.get("phone", "")})
        ids = {o["id"] for o in officers}
        rooms |= {f"user:{u}" for u in s.scalars(select(Officer.user_id).where(
            Officer.id.in_(ids), Officer.user_id.is_not(None)))}
    events.append(s, context=context, type="plan.notified", actor=actor,
                  audience=["role:operator", "role:trainer", *sorted(rooms)],
                  subject=("plan_activation", activation.id),
                  payload={"id": activation.id, "plan_id": plan.id,
                           "title_zh": plan.title.zh, "title_en": plan.title.en,
                           "level": activation.level, "subject_ref": activation.subject_ref,
                           "reached": reached, "missing": missing})


def on_duty_coverage(*, agencies: list[str], start: datetime, hours: int,
                     context: str, step: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """Per agency: who is primary now, and the first hour in the window with nobody.

    Sampling every hour matches the roster's own gap rule ("an hour with no primary").
    The roster is read once for all agencies (plans/duty_cover.py).
    """
    from ..extensions import db
    from . import duty_cover

    with db.reading() as s:
        duty = duty_cover.load(s, context, agencies)
    return duty_cover.coverage(duty, start=start, hours=hours, step=step)
