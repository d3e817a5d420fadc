"""The JSON API. Every route accepts the session or ``Authorization: Bearer``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from .. import events
from ..auth.principal import can_see
from ..auth.roles import Permission
from ..contexts import LIVE, Context
from ..dutylog import service as dutylog
from ..dutylog.schemas import NewEntry
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..geo import service as geo
from .access import api, principal, public
from .context import current_context
from .jsonbody import body as _body
from .params import flag_arg

bp = Blueprint("api", __name__, url_prefix="/api")


def int_arg(name: str, default: int | None, *, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValidationFailed(_("The parameter %(name)s is required.", name=name))
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            _("The parameter %(name)s must be a whole number.", name=name)
        ) from None
    if not lo <= value <= hi:
        raise ValidationFailed(
            _("The parameter %(name)s must be between %(lo)d and %(hi)d.", name=name, lo=lo, hi=hi)
        )
    return value




@bp.route("/health")
@public
def health() -> Any:
    with db.reading() as s:
        head = events.head(s, LIVE)
    return jsonify({"ok": True, "live_head": head})


@bp.route("/me")
@api(Permission.OWN_SETTINGS)
def me() -> Any:
    p = principal()
    return jsonify({
        "kind": p.kind, "id": p.id, "name": p.name, "display_name": p.display_name,
        "roles": sorted(r.value for r in p.roles), "locale": p.locale,
    })


@bp.route("/events")
@api(Permission.READ_EVENTS)
def list_events() -> Any:
    """Replay over HTTP: ``since`` is the last seq the client holds."""
    since = int_arg("since", None, lo=0, hi=2**62)
    settings = current_app.config["COORDINATION"]
    limit = int_arg("limit", settings.replay_page_size, lo=1, hi=10000)
    context = current_context()
    me = principal()
    with db.reading() as s:
        if s.get(Context, context) is None:
            raise NotFound(_("No such context."))
        page = events.replay(
            s, context=context, since=since, limit=limit,
            visible=lambda audience: can_see(me, audience),
        )
    return jsonify({"events": page.events, "head": page.head, "more": page.more})


@bp.route("/duty-log")
@api(Permission.READ_DUTY_LOG)
def duty_log() -> Any:
    limit = int_arg("limit", 50, lo=1, hi=500)
    return jsonify({"entries": dutylog.recent_entries(limit=limit, context=current_context())})


@bp.route("/duty-log", methods=["POST"])
@api(Permission.POST_DUTY_LOG)
def post_duty_log() -> Any:
    entry = dutylog.post_entry(data=_body(NewEntry), actor=principal().actor,
                               context=current_context())
    return jsonify(entry), 201


@bp.route("/areas")
@api(Permission.VIEW_AREAS)
def areas() -> Any:
    outlines = flag_arg("boundaries")
    return jsonify(geo.areas_geojson(boundaries=outlines))
