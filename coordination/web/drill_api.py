"""The drills JSON API: scripted players, integrations and tests drive runs with it.

CSRF is checked by the ``api`` decorator for session writes; bearer tokens
carry no ambient credential, so the blueprint is exempt from the form check.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify
from flask_babel import gettext as _

from ..auth.roles import Permission
from ..drills import catalogue
from ..drills import report as reports
from ..drills import service as drills
from ..errors import ValidationFailed
from . import context as ctx
from .access import api, principal
from .jsonbody import optional_object

bp = Blueprint("drills_api", __name__)

_CONTROLS = {
    "start": drills.start_run, "pause": drills.pause_run, "resume": drills.resume_run,
    "jump": drills.jump_ahead, "end": drills.end_run,
}


def _root() -> Path:
    return Path(current_app.config["COORDINATION"].plans_path)



@bp.route("/api/drills/runs")
@api(Permission.JOIN_DRILLS)
def api_runs() -> Response:
    return jsonify(drills.list_runs())


@bp.route("/api/drills/runs", methods=["POST"])
@api(Permission.RUN_DRILLS)
def api_create() -> tuple[Response, int]:
    body = optional_object()
    speed = body.get("speed", 10)
    if not isinstance(speed, int | float) or isinstance(speed, bool):
        raise ValidationFailed(_("The speed must be between 1× and 60×."))
    run = drills.create_run(path=catalogue.resolve(_root(), str(body.get("scenario", ""))),
                            root=_root(), speed=float(speed), actor=principal().actor)
    if body.get("start"):
        run = drills.start_run(run_id=run["id"], actor=principal().actor)
    return jsonify(run), 201


@bp.route("/api/drills/runs/<int:run_id>")
@api(Permission.RUN_DRILLS)
def api_run(run_id: int) -> Response:
    return jsonify(drills.get_run(run_id=run_id))


@bp.route("/api/drills/runs/<int:run_id>/<any(start, pause, resume, jump, end):action>",
          methods=["POST"])
@api(Permission.RUN_DRILLS)
def api_control(run_id: int, action: str) -> Response:
    return jsonify(_CONTROLS[action](run_id=run_id, actor=principal().actor))


@bp.route("/api/drills/runs/<int:run_id>/speed", methods=["POST"])
@api(Permission.RUN_DRILLS)
def api_speed(run_id: int) -> Response:
    speed = optional_object().get("speed")
    if not isinstance(speed, int | float) or isinstance(speed, bool):
        raise ValidationFailed(_("The speed must be between 1× and 60×."))
    return jsonify(drills.set_speed(run_id=run_id, speed=float(speed), actor=principal().actor))


@bp.route("/api/drills/runs/<int:run_id>/join", methods=["POST"])
@api(Permission.JOIN_DRILLS)
def api_join(run_id: int) -> tuple[Response, int]:
    """Join as a player; a token is then bound to the run and names it in the header."""
    return jsonify(ctx.join(run_id, principal())), 201


@bp.route("/api/drills/runs/<int:run_id>/leave", methods=["POST"])
@api(Permission.JOIN_DRILLS)
def api_leave(run_id: int) -> Response:
    run = drills.get_run(run_id=run_id)
    ctx.leave(principal(), run["context"])
    return jsonify({"left": run["id"]})


@bp.route("/api/drills/runs/<int:run_id>/evaluation")
@api(Permission.JOIN_DRILLS)
def api_evaluation(run_id: int) -> Response:
    ctx.authorize_run(run_id)
    return jsonify(reports.evaluate(run_id=run_id))
