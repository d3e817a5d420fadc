"""The short code a task SMS carries, so a reply "1 <code>" names its task.

Base-36 task id plus three HMAC check characters keyed by the SMS channel's inbound
secret: short enough to type on a phone, and a guessed code fails its check. Kept apart
from the inbound webhook so the outbound senders (``notify.py``) can use it without
importing the task service.
"""

from __future__ import annotations

import hashlib
import hmac

BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Appended to every task SMS when replies are configured (the worker has no reader locale).
REPLY_HINT = ("回复“1 {code}”确认，“2 {code} 原因”拒绝 / "
              "Reply 1 {code} to acknowledge, 2 {code} reason to decline")


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = BASE36[r] + out
        if n == 0:
            return out


def _check(secret: str, task_id: int) -> str:
    mac = hmac.new(secret.encode(), f"task:{task_id}".encode(), hashlib.sha256).hexdigest()
    return mac[:3].upper()


def short_code(task_id: int, secret: str) -> str:
    """The code an SMS about this task carries: base-36 id + 3 check characters."""
    return _base36(task_id) + _check(secret, task_id)


def task_of(code: str, secret: str) -> int | None:
    """The task a code names, or None when its check characters are wrong."""
    code = code.strip().upper()
    if len(code) < 4 or any(c not in BASE36 for c in code):
        return None
    task_id = int(code[:-3], 36)
    return task_id if hmac.compare_digest(_check(secret, task_id), code[-3:]) else None


__all__ = ["REPLY_HINT", "short_code", "task_of"]
