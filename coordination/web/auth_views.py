"""Sign in, sign out and the language switch (the routes open to everyone)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from ..auth import service
from ..auth.identity import current_principal
from ..config import SUPPORTED_LOCALES
from ..errors import NotAuthenticated, TooManyAttempts
from .access import public

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot bounce a user elsewhere."""
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    settings = current_app.config["COORDINATION"]
    try:
        principal = service.authenticate(
            username=request.form.get("username", ""),
            password=request.form.get("password", ""),
            ip=request.remote_addr or "unknown",
            max_failures=settings.login_max_failures,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            window_seconds=settings.login_window_seconds,
            delay_step_seconds=settings.login_delay_step_seconds,
        )
    except (NotAuthenticated, TooManyAttempts) as exc:
        flash(str(exc.message), "error")
        return render_template(
            "login.html", next=request.form.get("next", ""),
            username=request.form.get("username", ""),
        ), exc.status
    chosen = session.get("locale")
    if principal.locale is None and chosen in SUPPORTED_LOCALES:
        # A language picked on the sign-in page becomes the account's choice.
        service.set_locale(user_id=principal.id, locale=chosen, actor=principal.actor)
    elif principal.locale:
        session["locale"] = principal.locale  # so the sign-in page after sign-out matches
    login_user(principal)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    principal = current_principal()
    if principal is not None and principal.kind == "user":
        service.record_logout(principal)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/locale", methods=["POST"])
@public
def set_locale() -> Response:
    """Switch language from any page; saved on the account when signed in."""
    locale = request.form.get("locale", "")
    if locale not in SUPPORTED_LOCALES:
        flash(_("Unknown language."), "error")
    else:
        principal = current_principal()
        if principal is not None and principal.kind == "user":
            service.set_locale(user_id=principal.id, locale=locale, actor=principal.actor)
        session["locale"] = locale
    return redirect(_safe_next(request.form.get("next")))
