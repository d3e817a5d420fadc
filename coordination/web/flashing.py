"""A page form's one service call, its outcome said as a flash message on the next page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash

from ..errors import CoordinationError


def flashed(call: Callable[[], Any], done: str) -> bool:
    """Run ``call``; a refusal is flashed as an error (nothing was changed), success as
    ``done``. Returns whether it went through."""
    try:
        call()
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        return False
    flash(done, "info")
    return True
