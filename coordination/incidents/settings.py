"""What the incident services read from the deployment's settings.

Kept apart so the rules that depend on configuration (negative-pressure
diseases, the reporting deadline before the first rule set, the region) are
read in one place, whichever service asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import runtime
from ..geo.region import BBox
from . import diseases
from .models import (
    IncidentType,
    Priority,
)
from .schemas import (
    IncidentIn,
)


def configured_settings() -> Any:
    return runtime.settings()


def configured_region(region: BBox | None) -> BBox | None:
    if region is not None:
        return region
    settings = configured_settings()
    return settings.region if settings is not None else None


def negative_pressure_diseases() -> frozenset[str] | None:
    settings = configured_settings()
    raw = getattr(settings, "negative_pressure_diseases", None)
    if not raw:
        return None
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def needs_negative_pressure(disease: str | None) -> bool:
    return diseases.needs_negative_pressure(disease, negative_pressure_diseases())


def report_deadline(*, disease: str | None, incident_type: str,
                    found_at: datetime) -> tuple[datetime | None, str]:
    """The deadline to report to the higher level, from the versioned rules.

    The rules (deadlines.py, data/reporting_rules.yaml) follow the law in force
    when the case was found; before the first rule set, the configured hours.
    """
    from . import deadlines

    try:
        return deadlines.report_deadline(disease=disease, incident_type=incident_type,
                                         found_at=found_at)
    except LookupError:
        settings = configured_settings()
        hours = getattr(settings, "report_deadline_hours", 2.0)
        return found_at + timedelta(hours=hours), "config"


def default_priority(data: IncidentIn) -> Priority:
    """Class-A-like diseases, outbreaks and mass casualties first; then crowds of patients."""
    severe = {"plague", "cholera", "pneumonic_anthrax", "sars", "hpai", "new_disease",
              "unexplained"}
    if data.disease in severe or data.type in (IncidentType.CLUSTER, IncidentType.MASS_CASUALTY):
        return Priority.CRITICAL
    if needs_negative_pressure(data.disease) or data.patients >= 3:
        return Priority.HIGH
    if data.type in (IncidentType.EVENT_MEDICAL, IncidentType.OTHER) and data.patients <= 1:
        return Priority.MEDIUM
    return Priority.MEDIUM if data.patients else Priority.LOW
