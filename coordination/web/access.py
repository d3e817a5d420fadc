"""Decorators that put the one permission check in front of every route.

The check is ``permit()`` over the role and the context the request works in
(live, a drill joined, a drill not joined, an ended drill), through
``context.authorize``.

Each decorated view records what it requires, so the access test can walk the
URL map and fail on any route that forgot to declare it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import redirect, request, url_for
from flask_babel import gettext as _

from ..auth.identity import current_principal, via_token
from ..auth.principal import Principal
from ..auth.roles import Permission
from ..errors import NotAuthenticated
from ..extensions import csrf
from .context import authorize

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def public(view: F) -> F:
    view.required_permission = PUBLIC  # type: ignore[attr-defined]
    return view


def page(permission: Permission) -> Callable[[F], F]:
    """An HTML page: anonymous users go to the login page, others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None or principal.kind != "user":
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            authorize(principal, permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def api(permission: Permission) -> Callable[[F], F]:
    """A JSON route: bearer token or session; session writes must carry the CSRF token."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise NotAuthenticated(_("Sign in or send a valid API token."))
            if not via_token() and request.method in UNSAFE:
                csrf.protect()
            authorize(principal, permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def principal() -> Principal:
    """The caller of a decorated view (never None there)."""
    found = current_principal()
    if found is None:
        raise NotAuthenticated(_("Sign in first."))
    return found
