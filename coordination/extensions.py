"""Extension objects, created unbound and bound by ``create_app``.

One app is bound per process at a time (tests build a fresh one per test).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from flask_babel import Babel
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from .db import Database

T = TypeVar("T")

db = Database()
socketio = SocketIO()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()


def request_memo(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` kept for the rest of the request (or app context), computed on each
    call outside one: the request-scoped cache core modules use without touching Flask."""
    from flask import g, has_app_context

    if not has_app_context():
        return compute()
    kept: dict[Hashable, Any] = g.setdefault("_request_memo", {})
    if key not in kept:
        kept[key] = compute()
    return cast(T, kept[key])
