"""Time fields of input schemas: ISO text, in the command room's zone when it has none.

One pydantic type for every time a client sends (a task's due time and acknowledgement
deadline, an override's start and end, the ``?at=`` of the duty board), so the schema
validates them rather than each route by hand. A JSON number is refused: pydantic would
read ``12345`` (or the text ``"12345"``) as seconds since 1970, which nobody means.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError

from . import runtime
from .errors import ValidationFailed

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
                  r"(Z|[+-]\d{2}:?\d{2})?$")
DEFAULT_ZONE = "Asia/Shanghai"


def _not_a_time(value: Any) -> ValueError:
    return ValueError(gettext("%(value)s is not a time (use 2026-11-03T10:00+08:00).",
                              value=str(value)[:40]))


def _iso_text(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise _not_a_time(value)
    text = value.strip()
    if text == "":
        return None
    if not _ISO.match(text):
        raise _not_a_time(text)
    return text


def _room_zone(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        settings = runtime.settings()
        value = value.replace(tzinfo=ZoneInfo(settings.timezone if settings else DEFAULT_ZONE))
    return value


#: A time a client sent: ISO 8601 text; without an offset, the command room's zone.
RoomTime = Annotated[datetime | None, BeforeValidator(_iso_text), AfterValidator(_room_zone)]
#: The same, where a time is required.
RequiredRoomTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_room_zone)]

_ADAPTER: TypeAdapter[datetime | None] = TypeAdapter(RoomTime)


def parse_time(raw: Any) -> datetime | None:
    """A query or form value through the same type (for the few times outside a body)."""
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise ValidationFailed(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) \
            from None
