"""Administration: accounts, API tokens and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from ..audit import service as audit
from ..auth import service as auth_service
from ..auth.roles import Permission, Role
from ..errors import CoordinationError, ValidationFailed
from .access import page, principal

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@page(Permission.MANAGE_USERS)
def users() -> str | BaseResponse | tuple[str, int]:
    status = 200
    if request.method == "POST":
        try:
            auth_service.create_user(
                username=request.form.get("username", ""),
                display_name=request.form.get("display_name", ""),
                password=request.form.get("password", ""),
                roles=request.form.getlist("roles"),
                actor=principal().actor,
            )
            flash(_("Account created."), "info")
            return redirect(url_for("admin.users"))
        except CoordinationError as exc:
            flash(str(exc.message), "error")
            status = exc.status
    page_html = render_template(
        "admin/users.html", users=auth_service.list_users(), roles=list(Role)
    )
    return page_html, status


@bp.route("/users/<int:user_id>", methods=["POST"])
@page(Permission.MANAGE_USERS)
def update_user(user_id: int) -> BaseResponse:
    try:
        auth_service.update_user(
            user_id=user_id,
            roles=request.form.getlist("roles"),
            active=request.form.get("active") == "on",
            display_name=request.form.get("display_name", ""),
            actor=principal().actor,
        )
        flash(_("Account saved."), "info")
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("admin.users"))


@bp.route("/tokens", methods=["GET", "POST"])
@page(Permission.MANAGE_TOKENS)
def tokens() -> str | tuple[str, int]:
    secret = None
    status = 200
    if request.method == "POST":
        try:
            _token, secret = auth_service.create_token(
                name=request.form.get("name", ""),
                roles=request.form.getlist("roles"),
                actor=principal().actor,
            )
        except CoordinationError as exc:
            flash(str(exc.message), "error")
            status = exc.status
    return render_template(
        "admin/tokens.html", tokens=auth_service.list_tokens(), roles=list(Role), secret=secret
    ), status


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@page(Permission.MANAGE_TOKENS)
def revoke_token(token_id: int) -> BaseResponse:
    try:
        auth_service.revoke_token(token_id=token_id, actor=principal().actor)
        flash(_("Token revoked."), "info")
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("admin.tokens"))


def _filter() -> audit.AuditFilter:
    try:
        return audit.AuditFilter.model_validate(request.args.to_dict())
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ValidationFailed(_("Invalid filter %(field)s.", field=field)) from None


@bp.route("/audit")
@page(Permission.VIEW_AUDIT)
def audit_log() -> str:
    f = _filter()
    found = audit.search(f)
    query = {k: v for k, v in request.args.to_dict().items() if k != "page" and v}
    return render_template(
        "admin/audit.html", rows=found.rows, total=found.total, capped=found.capped, f=f,
        types=audit.event_types(), actors=audit.actor_names(), query=query,
        newer=query | {"page": f.page - 1} if f.page > 1 else None,
        older=query | {"page": f.page + 1} if found.has_older else None,
    )


@bp.route("/audit.csv")
@page(Permission.VIEW_AUDIT)
def audit_csv() -> Response:
    f = _filter()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        audit.export_csv(f),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=audit-{stamp}.csv"},
    )
