"""Wiring of blueprints, login, error pages and response headers."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .. import vocab
from ..auth import service as auth_service
from ..auth.identity import challenges, current_principal
from ..auth.principal import Principal, allowed
from ..auth.roles import ROLE_LABELS, Permission, Role
from ..errors import CoordinationError
from ..extensions import csrf, login_manager
from . import retryable
from .context import current_context, current_drill
from .converters import Int64Converter, refuse_nul
from .jsonbody import BoundedRequest

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, message: str) -> tuple[Any, int]:
    if _wants_json():
        return jsonify({"error": message, "status": status}), status
    return render_template("errors/error.html", status=status, message=message), status


def register_web(app: Flask) -> None:
    # Before any blueprint: rules pick their converter when they are added.
    app.url_map.converters["int"] = Int64Converter
    app.request_class = BoundedRequest
    app.before_request(refuse_nul)
    from . import (
        admin,
        api,
        auth_views,
        drill_api,
        drill_pages,
        map_api,
        map_pages,
        ogcapi,
        pages,
        plan_api,
        plan_pages,
        stock_api,
        stock_pages,
    )
    from .coverage_views import bp as coverage_bp
    from .favicon import bp as favicon_bp

    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(ident: str) -> Principal | None:
        return auth_service.load_principal(ident) if ident.startswith("user:") else None

    for bp in (auth_views.bp, pages.bp, admin.bp, api.bp, map_api.bp, map_pages.bp, stock_api.bp,
               drill_pages.bp, drill_api.bp):
        app.register_blueprint(bp)
    app.register_blueprint(coverage_bp)
    app.register_blueprint(favicon_bp)
    app.register_blueprint(stock_pages.bp)
    app.register_blueprint(ogcapi.bp)
    from . import incident_api, incident_pages, incident_steps

    app.register_blueprint(incident_api.bp)
    app.register_blueprint(incident_pages.bp)
    app.register_blueprint(incident_steps.bp)
    csrf.exempt(incident_api.bp)
    from . import patient_views

    app.register_blueprint(patient_views.api_bp)
    app.register_blueprint(patient_views.pages_bp)
    csrf.exempt(patient_views.api_bp)
    from . import cap_api, zone_api, zone_pages

    for extra in (cap_api.bp, zone_api.bp, zone_pages.bp):
        app.register_blueprint(extra)
    csrf.exempt(cap_api.bp)
    csrf.exempt(zone_api.bp)
    # The API checks CSRF itself, only for session-authenticated writes (access.api):
    # a bearer token is no ambient credential a foreign page could ride on.
    csrf.exempt(api.bp)
    csrf.exempt(map_api.bp)
    csrf.exempt(stock_api.bp)
    csrf.exempt(drill_api.bp)
    from . import layers  # GIS layer import and GeoJSON export

    layers.register(app)
    app.register_blueprint(plan_pages.bp)
    app.register_blueprint(plan_api.bp)
    csrf.exempt(plan_api.bp)
    from . import report_api, report_pages  # the reports upward (issue 21)

    app.register_blueprint(report_api.bp)
    app.register_blueprint(report_pages.bp)
    csrf.exempt(report_api.bp)
    from . import roster_api, roster_pages  # roster

    app.register_blueprint(roster_pages.bp)
    app.register_blueprint(roster_api.bp)
    csrf.exempt(roster_api.bp)
    from . import ops_api  # the command room's panels, search and alerts

    app.register_blueprint(ops_api.bp)
    csrf.exempt(ops_api.bp)

    @app.errorhandler(CoordinationError)
    def _domain(exc: CoordinationError) -> Any:
        if _wants_json():
            resp = jsonify(exc.to_dict() | {"error": str(exc.message)})
            resp.status_code = exc.status
        else:
            resp = app.make_response(_error(exc.status, str(exc.message)))
        if exc.status == 401:
            for value in challenges(request.path):
                resp.headers.add("WWW-Authenticate", value)
        return resp

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Any, int]:
        return _error(400, _("The form expired or came from elsewhere; reload the page and "
                             "try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Any, int]:
        messages = {
            400: _("The request was not understood."),
            401: _("Sign in first."),
            403: _("Your role does not allow this."),
            404: _("Not found."),
            405: _("This method is not allowed here."),
            413: _("The upload is too large."),
        }
        status = exc.code or 500
        return _error(status, messages.get(status, exc.description or ""))

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> tuple[Any, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, _("Internal error; the request changed nothing."))

    retryable.register(app, _crash)

    @app.template_filter("local_time")
    def _local_time(value: str | datetime, fmt: str = "HH:mm") -> str:
        """Times are stored in UTC and shown in the command room's zone, on the 24-hour
        clock the live list uses too (the locale's "short" is "4:11 PM" in English)."""
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_time(when, fmt)

    @app.template_filter("local_datetime")
    def _local_datetime(value: str | datetime, fmt: str = "short") -> str:
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_datetime(when, fmt)

    def _label(kind: str, code: str | None) -> str:
        return vocab.label(kind, code, context=current_context())

    def _with_code(kind: str, code: str | None) -> str:
        return vocab.with_code(kind, code, context=current_context())

    def _names(kind: str) -> dict[str, str]:
        return vocab.names(kind, context=current_context())

    # Globals, not context: macros imported without context see them too.
    app.jinja_env.globals.update(label=_label, with_code=_with_code, names=_names,
                                 localized=vocab.localized)

    @app.before_request
    def _nonce() -> None:
        # Inline blocks (folium's map script) run only with this per-response nonce.
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        principal = current_principal()
        return {
            "csp_nonce": g.get("csp_nonce", ""),
            "principal": principal,
            "can": lambda perm: allowed(principal, perm),
            "Permission": Permission,
            "Role": Role,
            "role_labels": ROLE_LABELS,
            "drill": current_drill() if principal is not None else None,
        }

    @app.after_request
    def _headers(resp: Response) -> Response:
        settings = app.config["COORDINATION"]
        img = "'self' data:"
        if settings.map_tile_url:
            from urllib.parse import urlsplit

            parts = urlsplit(settings.map_tile_url.replace("{s}", "*"))
            if parts.netloc:
                img += f" {parts.scheme}://{parts.netloc}"
        nonce = g.get("csp_nonce")
        inline = f" 'nonce-{nonce}'" if nonce else ""
        resp.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self'{inline}; style-src 'self'{inline}; "
            f"img-src {img}; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            # Pages and JSON carry names, phone and ID numbers: no browser or proxy keeps
            # them (a shared command-room PC, the back button after sign-out). Routes that
            # choose their own caching (the favicon) keep it.
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
