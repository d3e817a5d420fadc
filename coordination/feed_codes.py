"""Codes inside event sentences, read by their display names.

An event's payload carries codes (``reported``, ``decontaminating``,
``found_at``): the log stays language-neutral and old events read right after
a relabelling. The feed, the incident timeline and the after-action report
turn a code placeholder into its display name in the reader's language, so a
sentence says "由 已报告 变为 已核实", never "由 reported 变为 verified".

Depots and items are vocabularies too, but kept in the database per context
(an administrator adds them): a stock sentence names "福州市应急物资储备库", not
``FZ``. Those two are read from the context's rows when a page is built.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .contexts import LIVE
from .extensions import db, request_memo
from .facilities.capabilities import condition_labels
from .facilities.models import STATUS_LABELS as FACILITY_STATUS
from .i18n import current_code, pick
from .incident_reports.labels import KIND_LABELS as REPORT_KINDS
from .incidents import diseases
from .incidents.models import CLOCK_LABELS, STATUS_LABELS, TYPE_LABELS, Clock
from .incidents.patient_models import TRIAGE_LABELS
from .roster.models import OVERRIDE_LABELS, STEP_LABELS
from .stock.models import REASON_LABELS, TARGET_MODE_LABELS, Depot, Item
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
_DEPOT_ITEM = {"payload.depot": "depot", "payload.item": "item"}
for _type in ("stock.received", "stock.issued", "stock.adjusted", "stock.counted",
              "stock.target_set", "stock.reserved", "stock.reservation_released",
              "stock.request_approved", "stock.request_shipped"):
    CODED[_type] = {**CODED.get(_type, {}), **_DEPOT_ITEM}
for _type in ("incident_report.drafted", "incident_report.edited", "incident_report.reviewed",
              "incident_report.issued"):
    CODED[_type] = {"payload.kind": "report_kind"}
for _type in ("stock.transfer_sent", "stock.transfer_received"):
    CODED[_type] = {"payload.item": "item", "payload.from_depot": "depot",
                    "payload.to_depot": "depot"}
DB_VOCABS = frozenset({"depot", "item"})


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
        "report_kind": _str(REPORT_KINDS),
    }


def stock_names(context: str = LIVE) -> dict[str, dict[str, str]]:
    """The context's depots and items by code, in the reader's language.

    Two small catalogue tables, read once per page; a code the catalogue no
    longer holds reads as itself.
    """
    with db.reading() as s:
        depots = s.execute(select(Depot.code, Depot.name_zh, Depot.name_en)
                           .where(Depot.context == context)).all()
        items = s.execute(select(Item.code, Item.name_zh, Item.name_en)
                          .where(Item.context == context)).all()
    return {"depot": {c: pick({"zh": zh, "en": en}) for c, zh, en in depots},
            "item": {c: pick({"zh": zh, "en": en}) for c, zh, en in items}}


def _stock_names_once(context: str) -> dict[str, dict[str, str]]:
    """``stock_names`` kept for the rest of the request (a report describes many events)."""
    return request_memo(("stock_names", context, current_code()), lambda: stock_names(context))


def bootstrap(context: str = LIVE) -> dict[str, Any]:
    """What a page's client needs to name codes: which placeholders, which words."""
    return {"coded": CODED, "vocab": vocabularies() | stock_names(context)}


def display(event_type: str, placeholder: str, value: str, *,
            context: str | None = None) -> str:
    """The display name of one code in a sentence; an unknown code reads as itself.

    ``context`` is the event's own: depot and item names are looked up there.
    """
    vocab = CODED.get(event_type, {}).get(placeholder)
    if vocab is None:
        return value
    if vocab in DB_VOCABS:
        return _stock_names_once(context or LIVE)[vocab].get(value, value)
    return vocabularies()[vocab].get(value, value)
