"""Drill pages: scenarios and runs, the trainer's console, joining, the after-action report.

Thin: each route parses its form, calls one drills service function and
renders or redirects. Errors come back to the same page with the message and
the form as it was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from ..auth.roles import Permission
from ..drills import catalogue, labels
from ..drills import report as reports
from ..drills import service as drills
from ..drills.scenario import Capability, Inject, Rating
from ..errors import CoordinationError, ValidationFailed
from ..vocab import messages
from . import context as ctx
from . import reports as web_reports
from .access import page, principal

bp = Blueprint("drills", __name__)


def _root() -> Path:
    return Path(current_app.config["COORDINATION"].plans_path)


def _back(run_id: int) -> BaseResponse:
    return redirect(url_for("drills.console", run_id=run_id))


def _flash_error(exc: CoordinationError) -> None:
    flash(str(exc.message), "error")
    for d in exc.details or []:
        if isinstance(d, dict):
            where = f"{d.get('file', '')}:{d.get('line', '')} {d.get('field', '')}".strip(": ")
            flash(f"{where}: {d.get('message', '')}", "error")


def _console_action(run_id: int, call: Callable[[], Any]) -> BaseResponse:
    """Do one console action; a refusal comes back to the console as a message."""
    try:
        call()
    except CoordinationError as exc:
        _flash_error(exc)
    return _back(run_id)


def _float(name: str, default: float) -> float:
    try:
        return float(request.form.get(name, default))
    except ValueError:
        raise ValidationFailed(_("%(f)s must be a number.", f=name)) from None


# --- pages -----------------------------------------------------------------------------


@bp.route("/drills")
@page(Permission.JOIN_DRILLS)
def index() -> str:
    return render_template("drills/index.html", runs=drills.list_runs(),
                           scenarios=catalogue.scenarios(_root()),
                           current=ctx.current_drill(), **labels.for_pages())


@bp.route("/drills/runs", methods=["POST"])
@page(Permission.RUN_DRILLS)
def create() -> BaseResponse:
    try:
        run = drills.create_run(path=catalogue.resolve(_root(), request.form.get("scenario", "")),
                                root=_root(), speed=_float("speed", 10.0),
                                actor=principal().actor)
    except CoordinationError as exc:
        _flash_error(exc)
        return redirect(url_for("drills.index"))
    return _back(run["id"])


@bp.route("/drills/runs/<int:run_id>")
@page(Permission.RUN_DRILLS)
def console(run_id: int) -> str:
    run = drills.get_run(run_id=run_id)
    names = labels.for_pages()
    config = {
        "run": {k: run[k] for k in ("id", "status", "speed", "sim_now")},
        "api": url_for("drills_api.api_run", run_id=run_id),
        "timezone": current_app.config["COORDINATION"].timezone,
        "labels": {"run": names["drill_states"], "inject": names["inject_states"]},
    }
    return render_template("drills/console.html", run=run, console_config=config,
                           evaluation=reports.evaluate(run_id=run_id),
                           today=date.today().isoformat(), **labels.for_pages())


_CONTROLS = {
    "start": drills.start_run, "pause": drills.pause_run, "resume": drills.resume_run,
    "jump": drills.jump_ahead, "end": drills.end_run,
}


@bp.route("/drills/runs/<int:run_id>/<any(start, pause, resume, jump, end):action>",
          methods=["POST"])
@page(Permission.RUN_DRILLS)
def control(run_id: int, action: str) -> BaseResponse:
    me = principal()
    return _console_action(run_id, lambda: _CONTROLS[action](run_id=run_id, actor=me.actor))


@bp.route("/drills/runs/<int:run_id>/speed", methods=["POST"])
@page(Permission.RUN_DRILLS)
def speed(run_id: int) -> BaseResponse:
    me = principal()
    return _console_action(run_id, lambda: drills.set_speed(
        run_id=run_id, speed=_float("speed", 1.0), actor=me.actor))


@bp.route("/drills/runs/<int:run_id>/delete", methods=["POST"])
@page(Permission.RUN_DRILLS)
def delete(run_id: int) -> BaseResponse:
    try:
        drills.delete_run(run_id=run_id, actor=principal().actor)
    except CoordinationError as exc:
        _flash_error(exc)
        return _back(run_id)
    flash(_("The drill run and all its data were deleted."), "ok")
    return redirect(url_for("drills.index"))


@bp.route("/drills/runs/<int:run_id>/injects/<int:inject_id>/fire", methods=["POST"])
@page(Permission.RUN_DRILLS)
def fire(run_id: int, inject_id: int) -> BaseResponse:
    me = principal()
    return _console_action(run_id, lambda: drills.fire_now(
        run_id=run_id, inject_id=inject_id, actor=me.actor))


def _adhoc_inject(form: Any) -> Inject:
    """An ad-hoc inject from the console form: a message to a player, or any kind with JSON."""
    import json

    try:
        payload = json.loads(form.get("payload") or "{}")
    except ValueError:
        raise ValidationFailed(_("The payload is not valid JSON.")) from None
    text = form.get("message", "").strip()
    try:
        return Inject.model_validate({
            "number": form.get("number", "").strip(), "offset": form.get("offset") or 0,
            "type": form.get("type", "message"), "to": form.get("to", "").strip(),
            "from": {"source": "real", "name": principal().display_name},
            "message": {"zh": text, "en": text}, "payload": payload,
            "controller": principal().display_name, "delivery": form.get("delivery", "phone"),
        })
    except ValidationError as exc:
        raise ValidationFailed(_("The inject is not valid."),
                               details=messages.problems(exc)) from None


@bp.route("/drills/runs/<int:run_id>/injects", methods=["POST"])
@page(Permission.RUN_DRILLS)
def add_inject(run_id: int) -> BaseResponse:
    me, form = principal(), request.form
    return _console_action(run_id, lambda: drills.add_inject(
        run_id=run_id, data=_adhoc_inject(form), fire=form.get("when") != "offset",
        actor=me.actor))


@bp.route("/drills/runs/<int:run_id>/observations", methods=["POST"])
@page(Permission.RUN_DRILLS)
def observe(run_id: int) -> BaseResponse:
    me, form = principal(), request.form
    return _console_action(run_id, lambda: drills.add_observation(
        run_id=run_id, player=form.get("player", ""), text=form.get("text", ""),
        inject_number=form.get("inject") or None, actor=me.actor))


@bp.route("/drills/runs/<int:run_id>/ratings", methods=["POST"])
@page(Permission.RUN_DRILLS)
def rate(run_id: int) -> BaseResponse:
    try:
        rating = Rating(request.form.get("rating", ""))
    except ValueError:
        flash(_("Choose a rating: P, S, M or U."), "error")
        return _back(run_id)
    return _console_action(run_id, lambda: drills.rate_task(run_id=run_id,
                                                            task_id=request.form.get("task", ""),
                                                            rating=rating,
                                                            notes=request.form.get("notes", ""),
                                                            actor=principal().actor))


@bp.route("/drills/runs/<int:run_id>/improvements", methods=["POST"])
@page(Permission.RUN_DRILLS)
def improve(run_id: int) -> BaseResponse:
    f = request.form
    try:
        element = Capability(f.get("element", ""))
        start, end = date.fromisoformat(f.get("start", "")), date.fromisoformat(f.get("end", ""))
    except ValueError:
        flash(_("Choose a capability element and give both dates."), "error")
        return _back(run_id)
    return _console_action(run_id, lambda: drills.add_improvement(run_id=run_id,
                                                                  issue=f.get("issue", ""),
                                                                  action=f.get("action", ""),
                                                                  element=element,
                                                                  agency=f.get("agency", ""),
                                                                  owner=f.get("owner", ""),
                                                                  start=start, end=end,
                                                                  actor=principal().actor))


@bp.route("/drills/runs/<int:run_id>/join", methods=["POST"])
@page(Permission.JOIN_DRILLS)
def join(run_id: int) -> BaseResponse:
    try:
        ctx.join(run_id, principal())
    except CoordinationError as exc:
        _flash_error(exc)
        return redirect(url_for("drills.index"))
    flash(_("You are now in the drill. Every page shows the exercise banner until you leave."),
          "ok")
    return redirect(url_for("pages.home"))


@bp.route("/drills/leave", methods=["POST"])
@page(Permission.JOIN_DRILLS)
def leave() -> BaseResponse:
    ctx.leave(principal())
    flash(_("You are back in live work."), "ok")
    return redirect(url_for("pages.home"))


@bp.route("/drills/runs/<int:run_id>/report")
@page(Permission.JOIN_DRILLS)
def report(run_id: int) -> str:
    ctx.authorize_run(run_id)
    return web_reports.drill_report_html(run_id=run_id)


@bp.route("/drills/runs/<int:run_id>/report.pdf")
@page(Permission.JOIN_DRILLS)
def report_pdf(run_id: int) -> BaseResponse:
    ctx.authorize_run(run_id)
    pdf = web_reports.drill_report_pdf(run_id=run_id, base_url=request.url_root)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="drill-{run_id}-after-action.pdf"'})
