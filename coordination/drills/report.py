"""The after-action report: the evaluation laid out for people, as HTML and as PDF.

One template serves the screen, the browser's print and the PDF, so what the
trainer hands out is what they reviewed. Charts are plain SVG bars computed
here (no script, nothing to load), so the PDF and an offline screen show them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from ..errors import CoordinationError
from ..i18n import pick as _pick
from .evaluate import evaluate

__all__ = ["evaluate", "render_html", "render_pdf"]

CSS = Path(__file__).resolve().parent.parent.parent / "static" / "css" / "report.css"


class PdfUnavailable(CoordinationError):
    status = 503
    code = "pdf_unavailable"


def _bars(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Time taken against target per expected action, as percentages of the widest bar."""
    widest = max([a["target_s"] for a in actions] +
                 [a["taken_s"] or 0 for a in actions] + [1.0])
    return [{
        "label": f"{a['inject']} · {_pick(a['text'])}",
        "target_pct": round(100 * a["target_s"] / widest, 1),
        "taken_pct": round(100 * (a["taken_s"] or 0) / widest, 1),
        "taken_min": None if a["taken_s"] is None else round(a["taken_s"] / 60, 1),
        "target_min": round(a["target_s"] / 60, 1),
        "state": a["state"],
    } for a in actions]


def view_model(run_id: int) -> dict[str, Any]:
    ev = evaluate(run_id=run_id)
    ev["title"] = _pick(ev["run"]["title"])
    ev["bars"] = _bars(ev["actions"])
    for a in ev["actions"]:
        a["text_local"] = _pick(a["text"])
        a["ahead_min"] = None if a["ahead_s"] is None else round(a["ahead_s"] / 60, 1)
    for o in ev["objectives"]:
        o["text_local"] = _pick(o.get("text"))
    for t in ev["critical_tasks"]:
        t["text_local"] = _pick(t.get("text"))
    for i in ev["injects"]:
        i["message_local"] = _pick(i.get("message"))
    return ev


def render_html(*, run_id: int, for_pdf: bool = False) -> str:
    css = CSS.read_text("utf-8") if CSS.exists() else ""
    from .labels import for_pages

    return render_template("drills/report.html", r=view_model(run_id), css=css, for_pdf=for_pdf,
                           **for_pages())


def render_pdf(*, run_id: int, base_url: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # Pango missing on this machine
        raise PdfUnavailable(_l("PDF export needs WeasyPrint and the Pango library on the "
                                "server (Debian: apt install libpango-1.0-0); the HTML report "
                                "prints to PDF from the browser too.")) from exc
    html = render_html(run_id=run_id, for_pdf=True)
    return HTML(string=html, base_url=base_url, url_fetcher=_no_fetch).write_pdf()


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report is self-contained; it must never make the server fetch a URL."""
    raise ValueError(f"refusing to fetch {url}")
