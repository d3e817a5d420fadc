"""The after-action report's figures: the evaluation laid out for people.

The web layer renders it (coordination/web/reports.py) as HTML and as PDF from
one template, so what the trainer hands out is what they reviewed. Charts are
plain SVG bars computed here (no script, nothing to load), so the PDF and an
offline screen show them.
"""

from __future__ import annotations

from typing import Any

from ..i18n import pick as _pick
from .evaluate import evaluate

__all__ = ["evaluate", "view_model"]


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
