"""Who is where at a mass-casualty incident: the boards per incident and per hospital,
the command room's triage counts and the family-liaison desk's search (names masked)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..facilities.models import Facility
from ..units.models import Unit
from .common import incident_row
from .models import Assignment
from .patient_models import (
    EN_ROUTE,
    TRIAGE_ORDER,
    Patient,
    PatientStatus,
    Triage,
)

# Minutes within which a category should reach hospital (a preference, not a refusal).
from .patients import free_beds, patient_body


def _natural(tag: str) -> list[Any]:
    """WG-8 before WG-10: digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", tag) if part]


def _rows(s: Session, q: Any) -> list[dict[str, Any]]:
    rows = list(s.execute(
        q.outerjoin(Unit, Unit.id == Patient.unit_id)
        .outerjoin(Facility, Facility.id == Patient.destination_id)
        .add_columns(Unit.call_sign, Facility.name)))
    out = [patient_body(p, unit=sign, destination=dest) for p, sign, dest in rows]
    out.sort(key=lambda r: (TRIAGE_ORDER[Triage(r["triage"])], _natural(r["tag"])))
    return out


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total": len(rows),
            "triage": dict(Counter(r["triage"] for r in rows)),
            "status": dict(Counter(r["status"] for r in rows))}


def incident_board(*, context: str = LIVE, incident_id: int) -> dict[str, Any]:
    """Every patient of the incident (masked), counts, and how many each hospital has."""
    with db.reading() as s:
        i = incident_row(s, incident_id, context)
        rows = _rows(s, select(Patient).where(Patient.incident_id == i.id))
        units = [{"unit_id": a.unit_id, "call_sign": sign} for a, sign in s.execute(
            select(Assignment, Unit.call_sign).join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.incident_id == i.id, Assignment.active.is_(True))
            .order_by(Unit.call_sign))]
        per: dict[int, dict[str, Any]] = {}
        for r in rows:
            if r["destination_id"] is None:
                continue
            h = per.setdefault(r["destination_id"], {"facility_id": r["destination_id"],
                                                     "name": r["destination"], "total": 0,
                                                     "triage": Counter()})
            h["total"] += 1
            h["triage"][r["triage"]] += 1
        hospitals = sorted(per.values(), key=lambda h: -h["total"])
        for h in hospitals:
            h["triage"] = dict(h["triage"])
        return {"incident_id": i.id, "open": i.status not in ("closed", "cancelled"),
                "patients": rows, "counts": _counts(rows), "hospitals": hospitals,
                "units": units}


def hospital_board(*, context: str = LIVE, facility_id: int) -> dict[str, Any]:
    """A hospital's MCI patients: on their way (to prepare for) and handed over."""
    with db.reading() as s:
        f = s.get(Facility, facility_id)
        if f is None or f.context != context:
            raise NotFound(_l("No such facility."))
        rows = _rows(s, select(Patient).where(Patient.destination_id == f.id,
                                              Patient.context == context))
        incoming = [r for r in rows if r["status"] in EN_ROUTE]
        arrived = [r for r in rows if r["status"] == PatientStatus.HANDED_OVER.value]
        return {"facility_id": f.id, "name": f.name, "incoming": incoming,
                "handed_over": arrived, "counts": _counts(incoming + arrived),
                "free": free_beds(f)}


def triage_counts(s: Session, incident_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per incident: patients by category, and how many are handed over (the command room)."""
    out: dict[int, dict[str, int]] = {}
    if not incident_ids:
        return out
    rows = s.execute(select(Patient.incident_id, Patient.triage, Patient.status, func.count())
                     .where(Patient.incident_id.in_(list(incident_ids)))
                     .group_by(Patient.incident_id, Patient.triage, Patient.status))
    for iid, triage, status, n in rows:
        c = out.setdefault(iid, {})
        c[triage] = c.get(triage, 0) + n
        c["total"] = c.get("total", 0) + n
        if status == PatientStatus.HANDED_OVER.value:
            c["handed_over"] = c.get("handed_over", 0) + n
    return out


def find_patients(*, context: str = LIVE, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """The family-liaison desk: patients whose full name, ID number or tag matches (masked).

    The caller types what the family says; the answer shows the masked name,
    the incident, the hospital and the status, never the stored name in full.
    """
    text = query.strip()
    if len(text) < 2:
        raise ValidationFailed(str(_l("Type at least two characters.")))
    with db.reading() as s:
        return _rows(s, select(Patient).where(
            Patient.context == context,
            or_(Patient.name.contains(text, autoescape=True), Patient.id_number == text,
                Patient.tag == text))
            .order_by(Patient.id).limit(limit))
