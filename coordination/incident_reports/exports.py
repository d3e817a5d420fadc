"""A report as a Word document (DOCX) and as a CAP 1.2 message, from its stored version.

Both are built from the stored body only, so an issued report exports exactly
as it was issued, whatever has happened to the incident since. The PDF is the
web layer's (the report template through WeasyPrint, web/reports.py).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from ..contexts import LIVE
from ..incidents import cap_export
from ..incidents.cap_updates import site_sender
from . import labels
from .models import ReportKind, ReportStatus

_SAFE = re.compile(r"[^0-9A-Za-z._:@-]")


def docx(r: dict[str, Any], *, when: Callable[[str], str], lang: str) -> bytes:
    """The report as a DOCX: heading, who drafted/reviewed/issued it, figures, texts."""
    from docx import Document  # python-docx

    doc = Document()
    doc.core_properties.title = labels.title(r)
    doc.core_properties.author = r.get("issued_by") or r.get("drafted_by") or ""
    doc.add_heading(labels.title(r), level=1)
    inc = r.get("incident") or {}
    doc.add_paragraph(str(_l("Incident #%(id)s — %(place)s", id=r["incident_id"],
                             place=inc.get("address") or "")))
    people = doc.add_table(rows=0, cols=2)
    people.style = "Table Grid"
    for label, value in (
            (_l("Status"), labels.status_label(r["status"])),
            (_l("Drafted"), f"{r['drafted_by']} · {when(r['drafted_at'])}"),
            (_l("Reviewed"), f"{r['reviewed_by']} · {when(r['reviewed_at'])}"
             if r.get("reviewed_at") else "—"),
            (_l("Issued by"), f"{r['issued_by']} ({r['issued_role']}) · {when(r['issued_at'])}"
             if r.get("issued_at") else "—")):
        cells = people.add_row().cells
        cells[0].text, cells[1].text = str(label), value
    doc.add_heading(str(_l("Figures")), level=2)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in labels.rows(r, when=when):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    plans = labels.plan_rows(r, lang=lang)
    if plans:
        doc.add_heading(str(_l("Plans activated")), level=2)
        for line in plans:
            doc.add_paragraph(line, style="List Bullet")
    changed = labels.change_rows(r, when=when)
    if r["kind"] != ReportKind.INITIAL.value:
        doc.add_heading(str(_l("What changed since the last report")), level=2)
        if not changed:
            doc.add_paragraph(str(_l("No figure changed.")))
        else:
            t = doc.add_table(rows=1, cols=3)
            t.style = "Table Grid"
            head = t.rows[0].cells
            head[0].text, head[1].text, head[2].text = (
                str(_l("Figure")), str(_l("Before")), str(_l("Now")))
            for what, before, after in changed:
                cells = t.add_row().cells
                cells[0].text, cells[1].text, cells[2].text = what, before, after
    for key, label in labels.TEXTS.items():
        doc.add_heading(str(label), level=2)
        doc.add_paragraph(str(r["body"].get(key) or "—"))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def cap_identifier(sender: str, context: str, r: dict[str, Any]) -> str:
    return _SAFE.sub("-", f"{sender}.{context}.incident.{r['incident_id']}.report."
                          f"{r['kind']}.{r['number']}.v{r['version']}")


def cap_xml(r: dict[str, Any], *, context: str = LIVE, lang: str = "zh-CN",
            sender: str | None = None) -> bytes:
    """The report as a CAP 1.2 alert for systems that take it; schema-valid.

    An issued report is ``Actual`` (``Exercise`` in a drill); anything not issued
    is a ``Draft``. The initial report is an Alert; progress, final and corrected
    versions are Updates that reference the reports before them.
    """
    sender = _SAFE.sub("-", sender or site_sender()) or "coordination.local"
    inc = r.get("incident") or {}
    f = r["body"].get("figures", {})
    issued = r["status"] == ReportStatus.ISSUED.value
    status = ("Actual" if context == LIVE else "Exercise") if issued else "Draft"
    sent = datetime.fromisoformat(r.get("issued_at") or r["drafted_at"])
    refs = []
    for v in r.get("previous", []):
        refs.append((sender, cap_identifier(sender, context, v),
                     cap_export.cap_time(
                         datetime.fromisoformat(v["issued_at"] or v["drafted_at"]))))
    event = labels.value_text("disease", f.get("disease")) if f.get("disease") else \
        labels.value_text("type", f.get("type"))
    texts = [str(r["body"].get(k) or "") for k in ("summary", "measures", "next_steps")]
    description = "\n\n".join(t for t in texts if t) or labels.title(r)
    params = {"report_kind": r["kind"], "report_number": str(r["number"]),
              "report_version": str(r["version"]),
              "patients": str(f.get("patients", 0)),
              "cases_confirmed": str(f.get("cases_confirmed", 0)),
              "cases_suspected": str(f.get("cases_suspected", 0)),
              "contacts": str(f.get("contacts", 0)),
              "incident_status": str(f.get("status", ""))}
    if f.get("plan_level"):
        params["response_level"] = str(f["plan_level"])
    codes = {"incident_type": str(f.get("type") or inc.get("type") or "")}
    if f.get("disease"):
        codes["disease"] = str(f["disease"])
    final = r["kind"] == ReportKind.FINAL.value
    export = cap_export.CapExport(
        identifier=cap_identifier(sender, context, r), sender=sender, sent=sent,
        status=status, msg_type="Update" if refs else "Alert", event=event,
        headline=f"#{r['incident_id']} {labels.title(r)}", description=description,
        urgency="Past" if final else "Immediate", severity="Severe",
        certainty="Observed" if f.get("cases_confirmed") else "Likely",
        area_description=str(f.get("address") or inc.get("address") or ""),
        lon=float(f["lon"] if f.get("lon") is not None else inc.get("lon", 0.0)),
        lat=float(f["lat"] if f.get("lat") is not None else inc.get("lat", 0.0)),
        effective=datetime.fromisoformat(f["found_at"]) if f.get("found_at") else None,
        note=labels.status_label(r["status"]), references=refs,
        sender_name=r.get("issued_by") or r.get("drafted_by") or "", language=lang,
        event_codes=codes, parameters=params)
    return cap_export.build_cap(export)
