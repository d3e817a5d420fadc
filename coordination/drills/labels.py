"""Every word the drill pages show for a code, translated once here."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from .models import InjectOrigin, InjectStatus, RunStatus
from .scenario import Capability, Delivery, InjectType, Rating

RUN_STATES = {
    RunStatus.READY: _l("Ready"), RunStatus.RUNNING: _l("Running"),
    RunStatus.PAUSED: _l("Paused"), RunStatus.ENDED: _l("Ended"),
}
INJECT_STATES = {
    InjectStatus.PENDING: _l("Pending"), InjectStatus.FIRING: _l("Firing"),
    InjectStatus.FIRED: _l("Fired"), InjectStatus.FAILED: _l("Failed"),
    InjectStatus.CANCELLED: _l("Not needed"),
}
ORIGINS = {
    InjectOrigin.SCENARIO: _l("Scenario"), InjectOrigin.CONTINGENCY: _l("Contingency"),
    InjectOrigin.ADHOC: _l("Ad hoc"),
}
INJECT_TYPES = {
    InjectType.MESSAGE: _l("Message or phone call to a player"),
    InjectType.INCIDENT_REPORTED: _l("Incident reported"),
    InjectType.CASE_CONFIRMED: _l("Case confirmed"),
    InjectType.UNIT_BREAKDOWN: _l("Unit breaks down"),
    InjectType.FACILITY_FULL: _l("Facility full"),
    InjectType.STOCK_LOST: _l("Stock lost"),
    InjectType.DELIVERY_LATE: _l("Delivery late"),
    InjectType.LIAISON_UNREACHABLE: _l("Liaison unreachable"),
}
DELIVERIES = {
    Delivery.SYSTEM: _l("System"), Delivery.PHONE: _l("Phone"), Delivery.RADIO: _l("Radio"),
    Delivery.EMAIL: _l("Email"), Delivery.SMS: _l("SMS"), Delivery.IN_PERSON: _l("In person"),
}
RATINGS = {
    Rating.P: _l("P: performed without challenges"),
    Rating.S: _l("S: performed with some challenges"),
    Rating.M: _l("M: performed with major challenges"),
    Rating.U: _l("U: unable to be performed"),
}
CAPABILITY_ELEMENTS = {
    Capability.PLANNING: _l("Planning"), Capability.ORGANISATION: _l("Organisation"),
    Capability.EQUIPMENT: _l("Equipment"), Capability.TRAINING: _l("Training"),
    Capability.EXERCISE: _l("Exercise"),
}


def _strs(labels: dict[Any, Any]) -> dict[str, str]:
    return {str(k.value): str(v) for k, v in labels.items()}


def for_pages() -> dict[str, dict[str, str]]:
    return {
        "drill_states": _strs(RUN_STATES), "inject_states": _strs(INJECT_STATES),
        "origins": _strs(ORIGINS), "inject_types": _strs(INJECT_TYPES),
        "deliveries": _strs(DELIVERIES), "rating_labels": _strs(RATINGS),
        "capability_labels": _strs(CAPABILITY_ELEMENTS),
    }
