"""The daily situation report laid out for people, as HTML and as PDF.

One template serves the screen, the browser's print and the PDF (as the drill
after-action report does, coordination/drills/report.py): what the command
room hands the health commission is what it read on screen. The PDF renderer
is refused every URL, so the report can never make the server fetch anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from ..contexts import LIVE
from ..drills.report import CSS, PdfUnavailable, _no_fetch
from ..incidents.models import PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS
from .sitrep import sitrep


def _labels() -> dict[str, Any]:
    return {"types": {k.value: str(v) for k, v in TYPE_LABELS.items()},
            "priorities": {k.value: str(v) for k, v in PRIORITY_LABELS.items()},
            "statuses": {k.value: str(v) for k, v in STATUS_LABELS.items()}}


def render_html(*, event_id: str, day: date | None, context: str = LIVE,
                for_pdf: bool = False) -> str:
    data = sitrep(event_id=event_id, day=day, context=context)
    css = CSS.read_text("utf-8") if CSS.exists() else ""
    return render_template("plans/sitrep.html", r=data, css=css, for_pdf=for_pdf,
                           drill=context != LIVE, labels=_labels())


def render_pdf(*, event_id: str, day: date | None, base_url: str,
               context: str = LIVE) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # Pango missing on this machine
        raise PdfUnavailable(_l("PDF export needs WeasyPrint and the Pango library on the "
                                "server (Debian: apt install libpango-1.0-0); the HTML report "
                                "prints to PDF from the browser too.")) from exc
    html = render_html(event_id=event_id, day=day, context=context, for_pdf=True)
    return HTML(string=html, base_url=base_url, url_fetcher=_no_fetch).write_pdf()
