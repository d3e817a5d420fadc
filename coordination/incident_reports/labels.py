"""The words a report is shown and exported with: one table for the page, PDF, DOCX, CAP.

Stored values are codes (``initial``, ``cases_confirmed``); people never see them.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ..incidents import diseases
from ..incidents.models import STATUS_LABELS, TYPE_LABELS
from .models import ReportKind, ReportStatus

KIND_LABELS = {
    ReportKind.INITIAL: _l("Initial report (初次报告)"),
    ReportKind.PROGRESS: _l("Progress report (进程报告)"),
    ReportKind.FINAL: _l("Final report (结案报告)"),
}
STATUS = {
    ReportStatus.DRAFT: _l("Draft"),
    ReportStatus.REVIEWED: _l("Reviewed"),
    ReportStatus.ISSUED: _l("Issued"),
}
TRIGGERS = {
    "logged": _l("drafted when the incident was logged"),
    "schedule": _l("drafted on the plan's reporting schedule"),
    "on_demand": _l("drafted on demand"),
    "closed": _l("drafted when the incident was closed"),
    "stood_down": _l("drafted when the plan was stood down"),
}
FIELDS = {
    "type": _l("What"), "disease": _l("Disease"), "address": _l("Where"),
    "found_at": _l("Found at"), "logged_at": _l("Logged at"), "patients": _l("Patients"),
    "cases_confirmed": _l("Confirmed cases"), "cases_suspected": _l("Suspected cases"),
    "status": _l("Incident status"), "report_deadline": _l("Reporting deadline"),
    "diagnosed_at": _l("Diagnosed at"), "isolated_at": _l("Isolated at"),
    "treated_at": _l("Treated at"), "reported_up_at": _l("Reported upward at"),
    "contacts": _l("Close contacts traced"), "contacts_isolated": _l("Contacts isolated"),
    "contacts_released": _l("Contacts released"), "units_dispatched": _l("Units dispatched"),
    "plan_level": _l("Response level"),
}
TEXTS = {"summary": _l("Summary"), "measures": _l("Measures taken"),
         "next_steps": _l("Next steps")}
# The order the figures are shown in (what, where, when found, cases, measures).
SHOWN = ("type", "disease", "address", "found_at", "logged_at", "patients", "cases_confirmed",
         "cases_suspected", "contacts", "contacts_isolated", "contacts_released",
         "units_dispatched", "plan_level", "status", "report_deadline", "reported_up_at",
         "diagnosed_at", "isolated_at", "treated_at")
TIMES = frozenset({"found_at", "logged_at", "report_deadline", "diagnosed_at", "isolated_at",
                   "treated_at", "reported_up_at"})


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(ReportKind(kind), kind)) if kind in set(ReportKind) else kind


def status_label(status: str) -> str:
    return str(STATUS.get(ReportStatus(status), status)) if status in set(ReportStatus) else status


def value_text(field: str, value: Any, *, when: Any = None) -> str:
    """A figure as a reader sees it; ``when`` formats times (the caller's locale and zone)."""
    if value is None or value == "":
        return "—"
    if field == "type":
        return str(TYPE_LABELS.get(value, value))  # type: ignore[call-overload]
    if field == "status":
        return str(STATUS_LABELS.get(value, value))  # type: ignore[call-overload]
    if field == "disease":
        d = diseases.get(value)
        return str(d.label) if d else str(value)
    if field in TIMES and when is not None:
        return str(when(value))
    return str(value)


def title(r: dict[str, Any]) -> str:
    """“Progress report (进程报告) no. 2, version 1” for headings, files and CAP."""
    text = kind_label(r["kind"])
    if r["kind"] == ReportKind.PROGRESS.value:
        return str(_l("%(kind)s no. %(n)s, version %(v)s", kind=text, n=r["number"],
                      v=r["version"]))
    return str(_l("%(kind)s, version %(v)s", kind=text, v=r["version"]))


def rows(r: dict[str, Any], *, when: Any = None) -> list[tuple[str, str]]:
    """(label, value) for every figure the report carries, in the order shown."""
    f = r["body"].get("figures", {})
    out = []
    for key in SHOWN:
        if key not in f:
            continue
        value = f.get(key)
        if key == "disease" and f.get("disease_name"):
            value = f"{value_text('disease', value)} ({f['disease_name']})"
            out.append((str(FIELDS[key]), value))
            continue
        out.append((str(FIELDS[key]), value_text(key, value, when=when)))
    return out


def change_rows(r: dict[str, Any], *, when: Any = None) -> list[tuple[str, str, str]]:
    """(what, before, after) for a progress or final report's changes since the last."""
    return [(str(FIELDS.get(c["field"], c["field"])),
             value_text(c["field"], c["before"], when=when),
             value_text(c["field"], c["after"], when=when))
            for c in r["body"].get("changes", [])]


def plan_rows(r: dict[str, Any], *, lang: str) -> list[str]:
    out = []
    for p in r["body"].get("figures", {}).get("plans", []):
        name = p["title_zh"] if lang.startswith("zh") else p["title_en"]
        out.append(str(_l("%(plan)s at level %(level)s", plan=name, level=p["level"])))
    return out
