"""An officer's own shifts as an iCalendar feed a phone calendar can subscribe to.

The feed URL carries a secret per-officer token instead of a session (calendar
apps cannot sign in); the token is random, shown only to the admin and the
officer, and replaced by "new link" when it leaks.

What a calendar app relies on, and how it is kept:

* ``UID`` is the same whichever host name the phone subscribed through (by IP
  and by name, a phone would otherwise show every shift twice): its domain is
  the configured ``site_domain``, never the request's host.
* ``DTSTAMP`` changes only when the shift's rotation or override was last
  changed (the event log's time of that change), so fetching the feed again
  does not make every event look revised.
* Summaries and descriptions are in one language: the officer's own (the
  locale of the user account linked to them), else the installation's default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import func, select

from .. import runtime
from ..auth.models import User
from ..auth.roles import ROLE_LABELS, Role
from ..events import Event as LogEvent
from ..extensions import db
from .models import LAYER_LABELS, Agency, Layer, Officer
from .queries import officer_shifts

PRODID = "-//coordination//roster//EN"


def _settings() -> Any:
    return runtime.settings()


def _locale(officer: Officer) -> str:
    settings = _settings()
    default = settings.default_locale if settings is not None else "zh_CN"
    if officer.user_id is None:
        return default
    with db.reading() as s:
        user = s.get(User, officer.user_id)
        return (user.locale if user is not None and user.locale else default)


def _revised(context: str) -> dict[tuple[str, str], datetime]:
    """When each rotation and override was last changed, from the event log."""
    with db.reading() as s:
        rows = s.execute(select(LogEvent.subject_type, LogEvent.subject_id,
                                func.max(LogEvent.recorded_at))
                         .where(LogEvent.context == context,
                                LogEvent.type.like("roster.%"),
                                LogEvent.subject_type.in_(("rotation", "override")))
                         .group_by(LogEvent.subject_type, LogEvent.subject_id))
        return {(str(kind), str(ident)): at for kind, ident, at in rows}


def _role(code: str) -> str:
    """An account role's label (liaison → 联络员); other position names as written."""
    label = ROLE_LABELS.get(Role(code)) if code in set(Role) else None
    return str(label) if label is not None else code


def _agency_name(agency: Agency, locale: str) -> str:
    return agency.name_zh if locale.startswith("zh") else (agency.name_en or agency.name_zh)


def officer_calendar(*, token: str, domain: str | None = None) -> bytes:
    """The officer's shifts from a week ago to two months ahead, as text/calendar."""
    officer, agency, segments = officer_shifts(token=token)
    settings = _settings()
    domain = domain or (settings.site_domain if settings is not None else "coordination.local")
    locale = _locale(officer)
    revised = _revised(officer.context)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    name = _agency_name(agency, locale)
    cal.add("x-wr-calname", f"{name}: {officer.name}")
    cal.add("refresh-interval;value=duration", "PT1H")
    with force_locale(locale):
        for seg in segments:
            ev = Event()
            ev.add("uid", f"roster-{seg.rotation_id}-{officer.id}-{int(seg.start.timestamp())}"
                          f"@{domain}")
            key = ("override", str(seg.override_id)) if seg.override_id else \
                ("rotation", str(seg.rotation_id))
            ev.add("dtstamp", revised.get(key) or revised.get(("rotation", str(seg.rotation_id)))
                   or seg.start)
            ev.add("dtstart", seg.start)
            ev.add("dtend", seg.end)
            layer = LAYER_LABELS.get(Layer(seg.layer)) if seg.layer in set(Layer) else None
            layer_text = str(layer) if layer is not None else seg.layer
            ev.add("summary", _("%(agency)s: %(layer)s duty", agency=name, layer=layer_text))
            ev.add("description", _("%(agency)s, %(layer)s duty; role: %(role)s",
                                    agency=name, layer=layer_text, role=_role(seg.role)))
            cal.add_component(ev)
    return cal.to_ical()
