"""The command room's JSON: its panels, its search, and the alerts an operator acknowledges.

Thin: each route parses input and calls one function of coordination/ops or
coordination/alerts.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from ..alerts import early_warning
from ..alerts import service as alerts
from ..auth.roles import Permission
from ..errors import ValidationFailed
from ..ops import panels
from ..ops.search import search
from .access import api, principal
from .context import current_context
from .jsonbody import body as _body
from .params import flag_arg

bp = Blueprint("ops_api", __name__, url_prefix="/api")


@bp.route("/ops/panels")
@api(Permission.VIEW_OPS)
def ops_panels() -> Any:
    """Every panel the caller may see, or ``?only=alerts,tasks``; a failed one carries ``error``."""
    only = request.args.get("only")
    names = [n for n in only.split(",") if n] if only else None
    if names is not None and (unknown := set(names) - set(panels.PANELS)):
        raise ValidationFailed(_("Unknown panel %(name)s.", name=", ".join(sorted(unknown))))
    return jsonify(panels.build(principal(), current_context(), names))


@bp.route("/ops/search")
@api(Permission.VIEW_OPS)
def ops_search() -> Any:
    q = request.args.get("q", "")
    if len(q) > 100:
        raise ValidationFailed(_("The search text is too long (at most 100 characters)."))
    return jsonify({"hits": search(q=q, context=current_context())})


@bp.route("/alerts")
@api(Permission.VIEW_OPS)
def list_alerts() -> Any:
    everything = flag_arg("all")
    return jsonify({"alerts": alerts.list_alerts(context=current_context(),
                                                 open_only=not everything)})


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@api(Permission.ACK_ALERTS)
def acknowledge(alert_id: int) -> Any:
    return jsonify(alerts.acknowledge(alert_id=alert_id, actor=principal().actor,
                                      context=current_context()))


@bp.route("/alerts/<int:alert_id>/activate", methods=["POST"])
@api(Permission.ACTIVATE_PLANS)
def activate_from_alert(alert_id: int) -> Any:
    """One click on an early-warning alert: its suggested plan, with its incidents."""
    data = _body(early_warning.ActivateIn)
    return jsonify(early_warning.activate(alert_id=alert_id, actor=principal().actor,
                                          context=current_context(), level=data.level,
                                          note=data.note, recipients=data.recipients)), 201
