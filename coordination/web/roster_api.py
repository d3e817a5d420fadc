"""The roster and task JSON API: thin — parse, call one service function, return its result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from ..auth.roles import Permission
from ..errors import ValidationFailed
from ..roster import ical, manage, notify, positions, queries
from ..roster import service as roster
from ..roster.photos import path_of
from ..timefields import parse_time
from .access import api, principal, public
from .api import int_arg as _int_arg
from .context import current_context as _context  # the one resolver, never ?context=
from .jsonbody import json_object as _json
from .params import flag_arg

bp = Blueprint("roster_api", __name__)


# ------------------------------------------------------------------ who is on duty

@bp.get("/api/roster/board")
@api(Permission.VIEW_ROSTER)
def board() -> Any:
    return jsonify(queries.board(context=_context(), at=parse_time(request.args.get("at"))))


@bp.get("/api/roster/on-duty")
@api(Permission.VIEW_ROSTER)
def on_duty() -> Any:
    agency = request.args.get("agency", "")
    if not agency:
        raise ValidationFailed(_("The parameter %(name)s is required.", name="agency"))
    return jsonify(queries.on_duty_view(context=_context(), agency_code=agency,
                                        at=parse_time(request.args.get("at"))))


@bp.get("/api/roster/gaps")
@api(Permission.VIEW_ROSTER)
def gaps() -> Any:
    days = _int_arg("days", 7, lo=1, hi=60)
    return jsonify({"gaps": queries.upcoming_gaps(context=_context(), days=days)})


@bp.get("/roster/calendar/<token>.ics")
@public
def calendar(token: str) -> Response:
    body = ical.officer_calendar(token=token)
    # content_type, not mimetype: Flask would append its own charset a second time.
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


@bp.post("/api/sms/inbound")
@public
def sms_inbound() -> Any:
    """A reply forwarded by the SMS gateway: authenticated by its signature, not a session.

    Live context only: drills do not send SMS. A wrong signature or a stale
    timestamp is 401; the outcome (acknowledged, declined, repeated, …) is 200
    so the gateway does not retry an answer already taken.
    """
    from ..roster import sms_inbound

    return jsonify(sms_inbound.receive(
        body=request.get_data(cache=False),
        timestamp=request.headers.get(notify.TIMESTAMP_HEADER, ""),
        signature=request.headers.get(notify.SIGNATURE_HEADER, "")))


# ----------------------------------------------------------------------- admin

@bp.get("/api/roster")
@api(Permission.MANAGE_ROSTER)
def overview() -> Any:
    return jsonify(manage.overview(context=_context()))


@bp.post("/api/roster/agencies")
@api(Permission.MANAGE_ROSTER)
def save_agency() -> Any:
    return jsonify(manage.save_agency(context=_context(), data=_json(),
                                      actor=principal().actor)), 201


@bp.post("/api/roster/officers")
@api(Permission.MANAGE_ROSTER)
def save_officer() -> Any:
    return jsonify(manage.save_officer(context=_context(), data=_json(),
                                       actor=principal().actor)), 201


@bp.post("/api/roster/rotations")
@api(Permission.MANAGE_ROSTER)
def save_rotation() -> Any:
    return jsonify(manage.save_rotation(context=_context(), data=_json(),
                                        actor=principal().actor)), 201


@bp.post("/api/roster/rotations/<int:rotation_id>/delete")
@api(Permission.MANAGE_ROSTER)
def delete_rotation(rotation_id: int) -> Any:
    manage.delete_rotation(context=_context(), rotation_id=rotation_id, actor=principal().actor)
    return jsonify({"ok": True})


@bp.get("/api/roster/positions")
@api(Permission.VIEW_ROSTER)
def list_positions() -> Any:
    return jsonify({"positions": positions.positions_overview(context=_context())})


@bp.post("/api/roster/positions")
@api(Permission.MANAGE_ROSTER)
def save_position() -> Any:
    """Who holds an agency's position in turn: a rotation's fields plus ``position``."""
    return jsonify(positions.save_position_shift(context=_context(), data=_json(),
                                                 actor=principal().actor)), 201


@bp.post("/api/roster/positions/remove")
@api(Permission.MANAGE_ROSTER)
def remove_position_holder() -> Any:
    """``{"agency_code", "position", "officer_id"}``: that officer no longer holds it."""
    body = _json()
    try:
        officer_id = int(body["officer_id"])
        agency, position = str(body["agency_code"]), str(body["position"])
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed(_("Give agency_code, position and officer_id.")) from None
    return jsonify({"shift": positions.remove_holder(
        context=_context(), agency_code=agency, position=position, officer_id=officer_id,
        actor=principal().actor)})


@bp.post("/api/roster/overrides")
@api(Permission.MANAGE_ROSTER)
def add_override() -> Any:
    return jsonify(manage.add_override(context=_context(), data=_json(),
                                       actor=principal().actor)), 201


@bp.post("/api/roster/overrides/<int:override_id>/delete")
@api(Permission.MANAGE_ROSTER)
def delete_override(override_id: int) -> Any:
    manage.delete_override(context=_context(), override_id=override_id, actor=principal().actor)
    return jsonify({"ok": True})


@bp.post("/api/roster/agencies/<code>/chain")
@api(Permission.MANAGE_ROSTER)
def set_chain(code: str) -> Any:
    return jsonify({"steps": manage.set_chain(context=_context(), agency_code=code,
                                              data=_json(), actor=principal().actor)})


@bp.post("/api/roster/channels/<kind>")
@api(Permission.MANAGE_ROSTER)
def set_channel(kind: str) -> Any:
    data = _json()
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ValidationFailed(_("The body must be a JSON object."))
    return jsonify(manage.set_channel(context=_context(), kind=kind, config=config,
                                      enabled=bool(data.get("enabled", True)),
                                      actor=principal().actor))


# ----------------------------------------------------------------------- tasks

@bp.get("/api/tasks")
@api(Permission.VIEW_TASKS)
def list_tasks() -> Any:
    return jsonify({"tasks": roster.list_tasks(
        context=_context(), open_only=flag_arg("open"),
        agency_code=request.args.get("agency") or None)})


@bp.post("/api/tasks")
@api(Permission.MANAGE_TASKS)
def create_task() -> Any:
    data = _json()
    body = roster.create_task(
        context=_context(), agency_code=str(data.get("agency_code", "")),
        role=data.get("role") or None, title=str(data.get("title", "")),
        details=str(data.get("details", "")),
        due_at=data.get("due_at"), ack_deadline=data.get("ack_deadline"),
        source=str(data.get("source", "manual")), source_ref=data.get("source_ref"),
        incident_ref=data.get("incident_ref") or None, actor=principal().actor,
        ack_mode=str(data.get("ack_mode", "single")), quorum=data.get("quorum", 1),
        ack_expiry_minutes=data.get("ack_expiry_minutes"),
    )
    return jsonify(body), 201


@bp.get("/api/tasks/stats")
@api(Permission.VIEW_TASKS)
def stats() -> Any:
    return jsonify(queries.stats(context=_context(),
                                 incident_ref=request.args.get("incident") or None,
                                 days=_int_arg("days", 30, lo=1, hi=365)))


@bp.get("/api/tasks/<int:task_id>")
@api(Permission.VIEW_TASKS)
def get_task(task_id: int) -> Any:
    return jsonify(roster.get_task(context=_context(), task_id=task_id))


@bp.get("/api/tasks/<int:task_id>/deliveries")
@api(Permission.VIEW_TASKS)
def deliveries(task_id: int) -> Any:
    return jsonify({"deliveries": notify.deliveries(context=_context(), task_id=task_id)})


@bp.post("/api/tasks/<int:task_id>/jump")
@api(Permission.MANAGE_TASKS)
def jump(task_id: int) -> Any:
    step = _json().get("step")
    if not isinstance(step, int):
        raise ValidationFailed(_("The parameter %(name)s must be a whole number.", name="step"))
    return jsonify(roster.jump_task(context=_context(), task_id=task_id, step=step,
                                    actor=principal().actor))


@bp.post("/api/tasks/<int:task_id>/cancel")
@api(Permission.MANAGE_TASKS)
def cancel(task_id: int) -> Any:
    return jsonify(roster.cancel_task(context=_context(), task_id=task_id,
                                      actor=principal().actor))


@bp.get("/api/my/tasks")
@api(Permission.OWN_TASKS)
def my_tasks() -> Any:
    return jsonify(roster.my_tasks(context=_context(), actor=principal().actor,
                                   include_closed=flag_arg("closed")))


@bp.post("/api/tasks/<int:task_id>/ack")
@api(Permission.OWN_TASKS)
def acknowledge(task_id: int) -> Any:
    return jsonify(roster.acknowledge_task(context=_context(), task_id=task_id,
                                           key=str(_json().get("key", "")),
                                           actor=principal().actor))


@bp.post("/api/tasks/<int:task_id>/decline")
@api(Permission.OWN_TASKS)
def decline(task_id: int) -> Any:
    return jsonify(roster.decline_task(context=_context(), task_id=task_id,
                                       reason=str(_json().get("reason", "")),
                                       actor=principal().actor))


@bp.post("/api/tasks/<int:task_id>/done")
@api(Permission.OWN_TASKS)
def done(task_id: int) -> Any:
    return jsonify(roster.complete_task(context=_context(), task_id=task_id,
                                        actor=principal().actor))


@bp.post("/api/tasks/<int:task_id>/notes")
@api(Permission.OWN_TASKS)
def add_note(task_id: int) -> Any:
    """A progress note as JSON ``{"text": ...}`` or a form with an optional photo."""
    photo = None
    if request.files.get("photo"):
        photo = request.files["photo"].read(8 * 1024 * 1024 + 1)
        text = request.form.get("text", "")
    elif request.is_json:
        text = str(_json().get("text", ""))
    else:
        text = request.form.get("text", "")
    return jsonify(roster.add_note(context=_context(), task_id=task_id, text=text,
                                   photo_data=photo, photo_dir=photo_dir(),
                                   actor=principal().actor)), 201


def photo_dir() -> Path:
    return Path(current_app.instance_path) / "task_photos"


@bp.get("/api/tasks/photos/<name>")
@api(Permission.READ_EVENTS)
def photo(name: str) -> Any:
    """A progress photo; names are random and unguessable, readers must be signed in.

    Photos show officers and patients: personal data, so no browser or proxy keeps a
    copy (a shared command-room PC, the back button after sign-out), as for every page.
    """
    from flask import abort, send_file

    found = path_of(photo_dir(), name)
    if found is None:
        abort(404)
    resp = send_file(found, max_age=0, conditional=False, etag=False)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers.pop("Expires", None)
    return resp
