"""Codes inside event sentences, read by their display names.

An event's payload carries codes (``reported``, ``decontaminating``,
``found_at``): the log stays language-neutral and old events read right after
a relabelling. The feed, the incident timeline and the after-action report
turn a code placeholder into its display name in the reader's language, so a
sentence says "由 已报告 变为 已核实", never "由 reported 变为 verified".
"""

from __future__ import annotations

from typing import Any

from .facilities.capabilities import condition_labels
from .facilities.models import STATUS_LABELS as FACILITY_STATUS
from .incidents import diseases
from .incidents.models import CLOCK_LABELS, STATUS_LABELS, TYPE_LABELS, Clock
from .incidents.patient_models import TRIAGE_LABELS
from .roster.models import OVERRIDE_LABELS, STEP_LABELS
from .stock.models import REASON_LABELS, TARGET_MODE_LABELS
from .units.models import STATUS_LABELS as UNIT_STATUS

# event type -> placeholder -> vocabulary name
CODED: dict[str, dict[str, str]] = {
    "incident.status_changed": {"payload.previous": "incident_status",
                                "payload.status": "incident_status",
                                "payload.type": "incident_type"},
    "incident.unit_dispatched": {"payload.type": "incident_type"},
    "incident.reported": {"payload.type": "incident_type"},
    "incident.clock_set": {"payload.clock": "clock"},
    "incident.condition_set": {"payload.condition": "condition"},
    "incident.patient_registered": {"payload.triage": "triage"},
    "incident.patient_retriaged": {"payload.triage": "triage", "payload.previous": "triage"},
    "incident.case_confirmed": {"payload.disease": "disease"},
    "unit.status_changed": {"payload.previous": "unit_status", "payload.status": "unit_status"},
    "facility.capacity_reported": {"payload.status": "facility_status"},
    "task.escalated": {"payload.step.target": "escalation_step"},
    "roster.override_added": {"payload.kind": "override_kind"},
    "stock.adjusted": {"payload.reason": "stock_reason"},
    "stock.target_set": {"payload.mode": "target_mode"},
    "zone.updated": {"payload.disease": "disease"},
    "zone.lifted": {"payload.disease": "disease"},
}


def _str(labels: dict[Any, Any]) -> dict[str, str]:
    return {str(getattr(k, "value", k)): str(v) for k, v in labels.items()}


def vocabularies() -> dict[str, dict[str, str]]:
    """Every vocabulary a coded placeholder names, translated for the current locale."""
    return {
        "incident_status": _str(STATUS_LABELS),
        "incident_type": _str(TYPE_LABELS),
        # the payload says ``found``, ``reported`` … (Clock name, lower case)
        "clock": {c.name.lower(): str(CLOCK_LABELS[c]) for c in Clock},
        "unit_status": _str(UNIT_STATUS),
        "disease": diseases.labels(),
        "escalation_step": _str(STEP_LABELS),
        "override_kind": _str(OVERRIDE_LABELS),
        "stock_reason": _str(REASON_LABELS),
        "target_mode": _str(TARGET_MODE_LABELS),
        "facility_status": _str(FACILITY_STATUS),
        "condition": condition_labels(),
        "triage": _str(TRIAGE_LABELS),
    }


def bootstrap() -> dict[str, Any]:
    """What a page's client needs to name codes: which placeholders, which words."""
    return {"coded": CODED, "vocab": vocabularies()}


def display(event_type: str, placeholder: str, value: str) -> str:
    """The display name of one code in a sentence; an unknown code reads as itself."""
    vocab = CODED.get(event_type, {}).get(placeholder)
    if vocab is None:
        return value
    return vocabularies()[vocab].get(value, value)
