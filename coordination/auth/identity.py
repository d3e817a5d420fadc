"""Who is calling: a bearer token or the login session, for HTTP and sockets alike."""

from __future__ import annotations

from flask import g, request
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


def current_principal(auth: object = None) -> Principal | None:
    """Resolve once per request; a presented but bad token never falls back to the session."""
    if "principal" in g:
        return g.principal
    token = bearer_token(auth)
    principal: Principal | None
    if token is not None:
        principal = service.resolve_token(token)
        g.via_token = True
    else:
        principal = current_user if current_user.is_authenticated else None
        g.via_token = False
    g.principal = principal
    return principal


def via_token() -> bool:
    return bool(g.get("via_token"))
