"""What a public-health incident must hold before it is closed (the closing guard).

早发现、早报告、早诊断、早隔离、早治疗: the five clocks are how the response is
judged afterwards, so a case closed with them empty leaves a hole in the record
that nobody notices until the after-action review. Closing such an incident
asks for the empty clocks, or for a reason (the patient was transferred out of
the region, the case was discarded after the report…); the reason and the
clocks that stayed empty go on the incident's timeline as their own event.

What is required:

- every incident that names a disease and has a reporting deadline: the
  time it was reported to the higher level (早报告);
- a class-A disease, or one managed as class A (diseases.py ``class_a``):
  also diagnosed, isolated and treated.

Cancelling is not closing: a call that turned out to be nothing needs no clocks.
"""

from __future__ import annotations

from typing import Any

from babel.lists import format_list
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed
from . import diseases
from .models import CLOCK_LABELS, Clock, Incident

CLASS_A_CLOCKS = (Clock.DIAGNOSED, Clock.ISOLATED, Clock.TREATED)


def required_clocks(i: Incident) -> list[Clock]:
    """The clocks this incident must have set before it closes, in the documents' order."""
    if not i.disease:
        return []
    wanted: list[Clock] = []
    if i.report_deadline is not None:
        wanted.append(Clock.REPORTED)
    if diseases.is_class_a(i.disease):
        wanted += CLASS_A_CLOCKS
    return wanted


def missing_clocks(i: Incident) -> list[Clock]:
    return [c for c in required_clocks(i) if getattr(i, c.value) is None]


def clock_names(clocks: list[Clock]) -> str:
    """The clocks by their display names, as a list in the current language."""
    locale = get_locale()
    return format_list([str(CLOCK_LABELS[c]) for c in clocks],
                       locale=str(locale) if locale else "en")


def _both(clocks: list[Clock]) -> dict[str, str]:
    out = {}
    for key, locale in (("zh", "zh_CN"), ("en", "en")):
        with force_locale(locale):
            out[key] = clock_names(clocks)
    return out


def describe_gaps(i: Incident) -> list[dict[str, str]]:
    """The empty required clocks as the incident page and the /ops drawer show them."""
    return [{"clock": c.name.lower(), "label": str(CLOCK_LABELS[c])} for c in missing_clocks(i)]


def check_close(i: Incident, reason: str) -> dict[str, Any] | None:
    """Refuse a close with empty required clocks and no reason (400, the clocks named).

    Returns the payload of the ``incident.closed_incomplete`` event when a reason
    covers empty clocks, ``None`` when nothing is missing.
    """
    missing = missing_clocks(i)
    if not missing:
        return None
    if not reason.strip():
        raise ValidationFailed(
            _l("Before closing, fill in %(clocks)s, or give a reason for closing without them.",
               clocks=clock_names(missing)),
            details={"missing": [{"clock": c.name.lower(), "label": str(CLOCK_LABELS[c])}
                                 for c in missing], "needs": "reason"})
    return {"id": i.id, "reason": reason.strip(),
            "missing": [c.name.lower() for c in missing], "missing_names": _both(missing)}
