"""Domain errors that carry their user message and HTTP status once.

Routes, socket handlers and the CLI all translate the same exception, so a
service never needs to know which adapter called it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CoordinationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationFailed(CoordinationError):
    status = 400
    code = "invalid"


class NotAuthenticated(CoordinationError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(CoordinationError):
    status = 403
    code = "forbidden"


class NotFound(CoordinationError):
    status = 404
    code = "not_found"


class Conflict(CoordinationError):
    status = 409
    code = "conflict"


class TooManyAttempts(CoordinationError):
    status = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class RowError:
    """One bad row of an imported file: every one is reported, none is written."""

    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}
