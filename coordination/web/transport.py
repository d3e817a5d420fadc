"""HTTPS behind a TLS-terminating proxy: Secure cookies and HSTS, plain HTTP untouched.

The README's layout puts nginx in front with ``X-Forwarded-Proto``; ProxyFix (trusted
only when ``COORDINATION_PROXY_COUNT`` says so) turns that into the request's scheme.
When the scheme is https every cookie the app or a library sets (the session, which
also carries the CSRF token, and any future one) gets ``Secure``, and every response,
static files and Socket.IO included, carries ``Strict-Transport-Security``. A laptop
serving plain http on 127.0.0.1 gets neither, so it keeps working.

This is WSGI middleware rather than an ``after_request`` hook because Flask writes the
session cookie after those hooks run, and static and Socket.IO responses never see them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

HSTS = ("Strict-Transport-Security", "max-age=31536000")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def secure_cookie(value: str) -> str:
    """A ``Set-Cookie`` value with the ``Secure`` attribute (added once)."""
    attributes = (part.strip().lower() for part in value.split(";")[1:])
    return value if "secure" in attributes else value + "; Secure"


class SecureTransport:
    """Wraps the app inside ProxyFix, so ``wsgi.url_scheme`` is the client's own scheme."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("wsgi.url_scheme") != "https":
            return self.app(environ, start_response)

        def secure_start(status: str, headers: list[tuple[str, str]],
                         exc_info: Any = None) -> Any:
            headers = [(k, secure_cookie(v) if k.lower() == "set-cookie" else v)
                       for k, v in headers]
            if not any(k.lower() == HSTS[0].lower() for k, _v in headers):
                headers.append(HSTS)
            return start_response(status, headers, exc_info)

        return self.app(environ, secure_start)
