"""An officer's own shifts as an iCalendar feed a phone calendar can subscribe to.

The feed URL carries a secret per-officer token instead of a session (calendar
apps cannot sign in); the token is random, shown only to the admin and the
officer, and replaced by "new link" when it leaks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from .queries import officer_shifts

PRODID = "-//coordination//roster//EN"


def officer_calendar(*, token: str, domain: str = "coordination.local") -> bytes:
    """The officer's shifts from a week ago to two months ahead, as text/calendar."""
    officer, agency, segments = officer_shifts(token=token)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{agency.name_zh} / {agency.name_en}: {officer.name}")
    cal.add("refresh-interval;value=duration", "PT1H")
    stamp = datetime.now(UTC)
    for seg in segments:
        ev = Event()
        ev.add("uid", f"roster-{seg.rotation_id}-{officer.id}-{int(seg.start.timestamp())}"
                      f"@{domain}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", seg.start)
        ev.add("dtend", seg.end)
        ev.add("summary", f"{agency.name_zh} {seg.layer} ({seg.role})")
        ev.add("description", f"{agency.name_en}: {seg.layer} duty, role {seg.role}")
        cal.add_component(ev)
    return cal.to_ical()
