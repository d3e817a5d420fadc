"""The pages a signed-in user works in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth import service as auth_service
from ..auth.roles import Permission
from ..dutylog import service as dutylog
from ..dutylog.models import CATEGORY_LABELS
from ..errors import CoordinationError
from ..feed import feed_bootstrap
from ..geo import service as geo
from .access import page, principal
from .context import current_context
from .ops_page import ops_view

bp = Blueprint("pages", __name__)


@bp.route("/")
@page(Permission.OWN_SETTINGS)
def home() -> str | Response:
    """Operators land in the command room; every other role on its own overview."""
    me = principal()
    from ..auth.principal import allowed

    if allowed(me, Permission.VIEW_OPS):
        return redirect(url_for("pages.ops"))
    return render_template("home.html", feed=feed_bootstrap(me, context=current_context()))


@bp.route("/ops")
@page(Permission.VIEW_OPS)
def ops() -> str:
    me = principal()
    return render_template(
        "ops.html",
        view=ops_view(me),
        feed=feed_bootstrap(me, context=current_context(), limit=80),
        entries=dutylog.recent_entries(limit=30, context=current_context()),
        areas=geo.list_areas(),
        categories={k.value: str(v) for k, v in CATEGORY_LABELS.items()},
    )


@bp.route("/me", methods=["GET", "POST"])
@page(Permission.OWN_SETTINGS)
def me() -> str | Response | tuple[str, int]:
    user = principal()
    if request.method == "POST":
        try:
            auth_service.change_password(
                user_id=user.id,
                current=request.form.get("current", ""),
                new=request.form.get("new", ""),
                actor=user.actor,
            )
        except CoordinationError as exc:
            flash(str(exc.message), "error")
            return render_template("me.html"), exc.status
        flash(_("Your password has been changed."), "info")
        return redirect(url_for("pages.me"))
    return render_template("me.html")
