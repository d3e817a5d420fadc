"""The printable reports rendered for people: the drill after-action report and the
event's daily situation report, as HTML and as PDF.

Rendering is the web layer's job (templates, WeasyPrint); the figures come from
the core (``drills.report.view_model``, ``major_events.sitrep_report.view_model``), so
the services stay free of Flask. One template serves the screen, the browser's
print and the PDF: what is handed out is what was read on screen. The PDF
renderer is refused every URL, so a report can never make the server fetch
anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from ..config import ROOT
from ..contexts import LIVE
from ..drills import report as drill_report
from ..drills.labels import for_pages
from ..errors import CoordinationError
from ..major_events import sitrep_report

CSS = ROOT / "static" / "css" / "report.css"


class PdfUnavailable(CoordinationError):
    status = 503
    code = "pdf_unavailable"


def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report is self-contained; it must never make the server fetch a URL."""
    raise ValueError(f"refusing to fetch {url}")


def _css() -> str:
    return CSS.read_text("utf-8") if CSS.exists() else ""


def report_css() -> str:
    """The print style sheet, inlined into a PDF (the renderer fetches nothing)."""
    return _css()


def html_to_pdf(html: str, *, base_url: str) -> bytes:
    """A PDF of a report page; 503 with the fix when WeasyPrint cannot run here."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # Pango missing on this machine
        raise PdfUnavailable(_l("PDF export needs WeasyPrint and the Pango library on the "
                                "server (Debian: apt install libpango-1.0-0); the HTML report "
                                "prints to PDF from the browser too.")) from exc
    return HTML(string=html, base_url=base_url, url_fetcher=no_fetch).write_pdf()


def drill_report_html(*, run_id: int, for_pdf: bool = False) -> str:
    return render_template("drills/report.html", r=drill_report.view_model(run_id),
                           css=_css(), for_pdf=for_pdf, **for_pages())


def drill_report_pdf(*, run_id: int, base_url: str) -> bytes:
    return html_to_pdf(drill_report_html(run_id=run_id, for_pdf=True), base_url=base_url)


def sitrep_html(*, event_id: str, day: date | None, context: str = LIVE,
                for_pdf: bool = False) -> str:
    return render_template("plans/sitrep.html", css=_css(), for_pdf=for_pdf,
                           **sitrep_report.view_model(event_id=event_id, day=day,
                                                      context=context))


def sitrep_pdf(*, event_id: str, day: date | None, base_url: str,
               context: str = LIVE) -> bytes:
    html = sitrep_html(event_id=event_id, day=day, context=context, for_pdf=True)
    return html_to_pdf(html, base_url=base_url)


__all__ = ["CSS", "PdfUnavailable", "drill_report_html", "drill_report_pdf",
           "html_to_pdf", "no_fetch", "report_css", "sitrep_html", "sitrep_pdf"]
