"""Faults that pass: a dropped database connection, a locked SQLite file, a full disk.

They used to answer 500 "internal error", which a client rightly treats as a bug and
gives up on. The transaction they interrupted rolled back (``db.unit_of_work``), so the
honest answer is 503 with ``Retry-After``: nothing was written, send it again. The
JSON client (``static/js/live.js``) and the phone's acknowledgement queue
(``static/js/mytasks.js``) retry on exactly this answer (its ``code`` is ``retry``).
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, DBAPIError

from ..errors import ValidationFailed

log = logging.getLogger(__name__)

#: SQLite reports its passing conditions only in the message text.
_SQLITE_PASSING = ("database is locked", "database table is locked")
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def retry_after(exc: BaseException) -> tuple[int, str] | None:
    """``(seconds, message)`` when ``exc`` is worth retrying, else ``None``."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return 30, _("The server's disk is full; nothing was saved. Try again in a minute.")
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig).lower()
    if "disk is full" in text or "no space left" in text or "disk i/o error" in text:
        return 30, _("The server could not write to its disk; nothing was saved. "
                     "Try again in a minute.")
    if exc.connection_invalidated or _driver_says_transient(exc):
        if "locked" in text:
            return 2, _("The database is busy; nothing was saved. Try again in a moment.")
        return 2, _("The connection to the database was lost; nothing was saved. "
                    "Try again in a moment.")
    return None


def _driver_says_transient(exc: DBAPIError) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(exc.orig, psycopg.OperationalError):
        return True  # connection lost, admin shutdown, serialization failure, lock timeout
    text = str(exc.orig).lower()
    return any(marker in text for marker in _SQLITE_PASSING)


def _number_out_of_range(exc: Exception) -> bool:
    """SQLSTATE 22003 (numeric_value_out_of_range), as PostgreSQL reports it."""
    return isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) == "22003"


def register(app: Flask, crash: Any) -> None:
    """503 for what passes; anything else of these types is still ``crash`` (a 500)."""

    def _answer(exc: Exception) -> Any:
        try:
            found = retry_after(exc)
        except DBAPIError:  # the user's locale is looked up in the database that failed
            with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
                found = retry_after(exc)
        if found is None and _number_out_of_range(exc):
            # A number the column cannot hold (an id past 32 bits on PostgreSQL): bad input.
            return app.handle_user_exception(ValidationFailed(_("A number is out of range.")))
        if found is None:
            return crash(exc)
        seconds, message = found
        log.warning("retryable fault on %s %s: %s", request.method, request.path, exc)
        if request.path.startswith("/api/"):
            resp = jsonify({"error": message, "code": "retry", "status": 503,
                            "retry_after": seconds})
        else:
            try:
                page = render_template("errors/error.html", status=503, message=message)
            except DBAPIError:  # the page's header needs the signed-in user: plain text
                page = message
            resp = app.make_response((page, 503))
        resp.status_code = 503
        resp.headers["Retry-After"] = str(seconds)
        return resp

    app.register_error_handler(DBAPIError, _answer)
    app.register_error_handler(OSError, _answer)
