"""Roster and task pages: the duty board, roster admin, the task board and "My tasks".

Forms post here (with CSRF), each handler parses the form into a dict, calls
one service function and redirects with a flash message; a domain error is
flashed and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import vocab
from ..auth.identity import current_principal
from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import CoordinationError
from ..feed import feed_bootstrap
from ..roster import manage, positions, queries
from ..roster import service as roster
from ..roster.models import (
    LAYER_LABELS,
    OVERRIDE_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    AckMode,
    RotationKind,
    StepTarget,
)
from ..timefields import parse_time
from .access import page, principal
from .context import current_context

bp = Blueprint("roster_pages", __name__)


def _labels() -> dict[str, Any]:
    return {"layer_labels": LAYER_LABELS, "step_labels": STEP_LABELS,
            "status_labels": STATUS_LABELS, "override_labels": OVERRIDE_LABELS}


@bp.app_template_global("roster_ops_summary")
def roster_ops_summary() -> dict[str, Any] | None:
    """The command room's roster widget: gaps ahead and open tasks per agency."""
    who = current_principal()
    if not allowed(who, Permission.VIEW_ROSTER) or not allowed(who, Permission.VIEW_TASKS):
        return None
    return {"gaps": queries.upcoming_gaps(context=current_context(), days=7)[:10],
            "stats": queries.stats(context=current_context())["agencies"]}


def _act(action: Callable[[], Any], ok: str, back: str) -> Response:
    try:
        action()
        flash(ok, "ok")
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    return redirect(back)


@bp.get("/roster")
@page(Permission.VIEW_ROSTER)
def board() -> str:
    try:
        at = parse_time(request.args.get("at"))
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        at = None
    return render_template("roster/board.html", board=queries.board(context=current_context(),
                                                                    at=at),
                           **_labels())


@bp.get("/roster/admin")
@page(Permission.MANAGE_ROSTER)
def admin() -> str:
    return render_template("roster/admin.html", data=manage.overview(context=current_context()),
                           positions=positions.positions_overview(context=current_context()),
                           position_codes=sorted(vocab.positions()),
                           kinds=list(RotationKind), targets=list(StepTarget), **_labels())


def _form() -> dict[str, Any]:
    return {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}


@bp.post("/roster/admin/agencies")
@page(Permission.MANAGE_ROSTER)
def save_agency() -> Response:
    return _act(lambda: manage.save_agency(context=current_context(), data=_form(),
                                           actor=principal().actor),
                _("Agency saved."), url_for("roster_pages.admin"))


@bp.post("/roster/admin/officers")
@page(Permission.MANAGE_ROSTER)
def save_officer() -> Response:
    data = _form()
    data["languages"] = [x.strip() for x in data.get("languages", "").split(",") if x.strip()]
    data["may_be_primary"] = "may_be_primary" in request.form
    data["is_head"] = "is_head" in request.form
    raw_id = data.pop("officer_id", None)
    officer_id = int(raw_id) if raw_id and str(raw_id).isdigit() else None
    return _act(lambda: manage.save_officer(context=current_context(), data=data,
                                            officer_id=officer_id,
                                            actor=principal().actor),
                _("Officer saved."), url_for("roster_pages.admin"))


@bp.post("/roster/admin/rotations")
@page(Permission.MANAGE_ROSTER)
def save_rotation() -> Response:
    data = _form()
    data["officer_ids"] = [int(x) for x in request.form.getlist("officer_ids") if x.isdigit()]
    return _act(lambda: manage.save_rotation(context=current_context(), data=data,
                                             actor=principal().actor),
                _("Rotation saved."), url_for("roster_pages.admin"))


@bp.post("/roster/admin/positions")
@page(Permission.MANAGE_ROSTER)
def save_position() -> Response:
    """Who holds a position of an agency, in turn (roster/positions.py)."""
    data = _form()
    data["officer_ids"] = [int(x) for x in request.form.getlist("officer_ids") if x.isdigit()]
    return _act(lambda: positions.save_position_shift(context=current_context(), data=data,
                                                      actor=principal().actor),
                _("Position holders saved."), url_for("roster_pages.admin"))


@bp.post("/roster/admin/overrides")
@page(Permission.MANAGE_ROSTER)
def add_override() -> Response:
    data = _form()

    def run() -> Any:
        return manage.add_override(context=current_context(), data=data, actor=principal().actor)

    return _act(run, _("Override saved."), url_for("roster_pages.admin"))


@bp.post("/roster/admin/chain")
@page(Permission.MANAGE_ROSTER)
def set_chain() -> Response:
    targets = request.form.getlist("target")
    waits = request.form.getlist("wait_minutes")
    steps = [{"target": t, "wait_minutes": w or "0"} for t, w in zip(targets, waits, strict=False)
             if t]
    return _act(lambda: manage.set_chain(context=current_context(),
                                         agency_code=request.form.get("agency_code", ""),
                                         data={"steps": steps}, actor=principal().actor),
                _("Escalation chain saved."), url_for("roster_pages.admin"))


@bp.get("/tasks")
@page(Permission.VIEW_TASKS)
def tasks() -> str:
    me = principal()
    return render_template(
        "roster/tasks.html", tasks=roster.list_tasks(context=current_context(), open_only=False,
                                                     limit=100),
        agencies=manage.overview(context=current_context())["agencies"], modes=list(AckMode),
        stats=queries.stats(context=current_context(),
                            incident_ref=request.args.get("incident") or None),
        feed=feed_bootstrap(me, context=current_context(), limit=0), **_labels())


@bp.post("/tasks")
@page(Permission.MANAGE_TASKS)
def create_task() -> Response:
    f = request.form
    created: dict[str, Any] = {}

    def run() -> None:
        quorum = f.get("quorum", "1")
        expiry = f.get("ack_expiry_minutes", "")
        created.update(roster.create_task(
            context=current_context(), agency_code=f.get("agency_code", ""),
            role=f.get("role") or None,
            title=f.get("title", ""), details=f.get("details", ""),
            due_at=f.get("due_at"), ack_deadline=f.get("ack_deadline"),
            source="manual", source_ref=None, incident_ref=f.get("incident_ref") or None,
            actor=principal().actor, ack_mode=f.get("ack_mode", "single"),
            quorum=int(quorum) if quorum.isdigit() else 0,
            ack_expiry_minutes=int(expiry) if expiry.isdigit() else None))

    resp = _act(run, _("Task sent."), url_for("roster_pages.tasks"))
    if created:
        return redirect(url_for("roster_pages.task", task_id=created["id"]))
    return resp


@bp.get("/tasks/<int:task_id>")
@page(Permission.VIEW_TASKS)
def task(task_id: int) -> str:
    me = principal()
    return render_template("roster/task.html", task=roster.get_task(context=current_context(),
                                                                    task_id=task_id),
                           feed=feed_bootstrap(me, context=current_context(), limit=0), **_labels())


@bp.post("/tasks/<int:task_id>/jump")
@page(Permission.MANAGE_TASKS)
def jump(task_id: int) -> Response:
    raw = request.form.get("step", "")
    return _act(lambda: roster.jump_task(context=current_context(), task_id=task_id,
                                         step=int(raw) if raw.isdigit() else -1,
                                         actor=principal().actor),
                _("Task moved to the chosen step."),
                url_for("roster_pages.task", task_id=task_id))


@bp.get("/my/tasks")
@page(Permission.OWN_TASKS)
def my_tasks() -> str:
    me = principal()
    return render_template("roster/my_tasks.html",
                           mine=roster.my_tasks(context=current_context(), actor=me.actor),
                           feed=feed_bootstrap(me, context=current_context(), limit=0), **_labels())
