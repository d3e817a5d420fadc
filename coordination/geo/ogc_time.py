"""The ``datetime`` parameter of OGC API – Features items (Part 1, Requirements 14/15).

An instant (``2026-12-02T08:00:00Z``), a day (``2026-12-02``: that whole UTC
day) or an interval, bounded or half-bounded (``start/end``, ``../end``,
``start/..``; an empty side is open too). Collections with a time filter on
it: ambulances (``units``) by their last position fix, facilities by their
last capacity report, incidents by the time they were found. Collections
without one (places, boundaries) accept it and ignore it, as the standard
allows; a malformed value is a 400 everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_

from ..errors import ValidationFailed

OPEN = ("", "..")


@dataclass(frozen=True)
class Interval:
    """Inclusive bounds in UTC; None is open."""

    start: datetime | None
    end: datetime | None
    text: str

    def condition(self, column: Any) -> Any:
        """SQL: the column's time inside the interval (a row without a time never is)."""
        parts = [column.is_not(None)]
        if self.start is not None:
            parts.append(column >= self.start)
        if self.end is not None:
            parts.append(column <= self.end)
        return and_(*parts)


def _instant(raw: str, *, end: bool) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) - timedelta(microseconds=1) if end else start
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(_(
            "datetime %(value)s is not an RFC 3339 date-time or date, e.g. "
            "2026-12-02T08:00:00Z or 2026-12-01/2026-12-02.", value=raw)) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(raw: str | None) -> Interval | None:
    """The parameter as an interval, or None when it is absent; 400 when malformed."""
    if raw is None:
        return None
    if "/" not in raw:
        if raw.strip() in OPEN:
            raise ValidationFailed(_("datetime needs a date-time or an interval."))
        if len(raw.strip()) == 10:  # a day: all of it
            return Interval(_instant(raw, end=False), _instant(raw, end=True), raw)
        at = _instant(raw, end=False)
        return Interval(at, at, raw)
    first, _sep, second = raw.partition("/")
    if "/" in second:
        raise ValidationFailed(_("datetime has at most one '/'."))
    start = None if first.strip() in OPEN else _instant(first, end=False)
    end = None if second.strip() in OPEN else _instant(second, end=True)
    if start is None and end is None:
        raise ValidationFailed(_("datetime cannot be open at both ends."))
    if start is not None and end is not None and start > end:
        raise ValidationFailed(_("datetime: the interval ends before it starts."))
    return Interval(start, end, raw)
