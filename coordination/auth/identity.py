"""Who is calling: a bearer token or the login session, for HTTP and sockets alike."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from . import service
from .principal import Principal

BEARER = "bearer "


def bearer_token(auth: object = None) -> str | None:
    """The token from ``Authorization: Bearer`` or a socket's ``auth`` payload."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    header = request.headers.get("Authorization", "")
    if header.lower().startswith(BEARER):
        return header[len(BEARER):].strip() or None
    return None


_CACHE = "_coordination_principal"


def current_principal(auth: object = None) -> Principal | None:
    """Resolve once per request; a presented but bad token never falls back to the session.

    Cached on the request object, not on ``g``: an app context (and its ``g``)
    can outlive one request, and a socket's events each get a fresh request.
    """
    cached = getattr(request, _CACHE, None)
    if cached is not None:
        return cached[0]
    token = bearer_token(auth)
    principal: Principal | None
    if token is not None:
        principal = service.resolve_token(token)
    else:
        # The user object, not the current_user proxy: after logout_user() the proxy
        # would turn into the anonymous user while this request still uses the cache.
        principal = current_user._get_current_object() if current_user.is_authenticated else None
    setattr(request, _CACHE, (principal, token is not None))
    return principal


def via_token() -> bool:
    cached = getattr(request, _CACHE, None)
    return bool(cached and cached[1])
