"""Who is calling: a bearer token or the login session, for HTTP and sockets alike."""

from __future__ import annotations

import base64
import binascii

from flask import request
from flask_login import current_user

from . import service
from .principal import Principal

BEARER = "bearer "
BASIC = "basic "
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(auth: object = None) -> str | None:
    """The token from ``Authorization: Bearer``, a Basic password or a socket's ``auth``."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    header = request.headers.get("Authorization", "")
    if header.lower().startswith(BEARER):
        return header[len(BEARER):].strip() or None
    if header.lower().startswith(BASIC) and request.method in SAFE_METHODS:
        return basic_password(header[len(BASIC):])
    return None


def basic_password(encoded: str) -> str | None:
    """The password of HTTP Basic credentials (RFC 7617): the token; the user name is free.

    QGIS 3.22 (Debian 12) and ArcGIS can send Basic authentication but no
    custom header to an OGC API service. Basic is taken for reading only: a
    browser replays cached Basic credentials on its own, so on a write it
    would bypass the CSRF check a session must pass.
    """
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, sep, password = decoded.partition(":")
    return password.strip() or None if sep else None


def challenges(path: str) -> list[str]:
    """The ``WWW-Authenticate`` challenges of a 401 (RFC 7235 §3.1), one per scheme.

    OGC API clients (QGIS, ArcGIS, GDAL) are offered Basic too; elsewhere only
    Bearer, so that a browser whose session expired gets the JSON error, not
    its own password dialog.
    """
    bearer = 'Bearer realm="coordination"'
    if path.startswith("/api/ogc"):
        return ['Basic realm="coordination", charset="UTF-8"', bearer]
    return [bearer]


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
