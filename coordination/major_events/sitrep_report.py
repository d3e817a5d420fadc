"""What the daily situation report shows, ready for its template.

The web layer renders it (coordination/web/reports.py) for the screen, the
browser's print and the PDF; this module only gathers the figures and the
words for the codes, so the core stays free of Flask.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..contexts import LIVE
from ..incidents.models import PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS
from .sitrep import sitrep


def _labels() -> dict[str, Any]:
    return {"types": {k.value: str(v) for k, v in TYPE_LABELS.items()},
            "priorities": {k.value: str(v) for k, v in PRIORITY_LABELS.items()},
            "statuses": {k.value: str(v) for k, v in STATUS_LABELS.items()}}


def view_model(*, event_id: str, day: date | None, context: str = LIVE) -> dict[str, Any]:
    """The template's arguments: the day's report, whether it is a drill, the labels."""
    return {"r": sitrep(event_id=event_id, day=day, context=context),
            "drill": context != LIVE, "labels": _labels()}
