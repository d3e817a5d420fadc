"""Incidents: the only place their rows change, from the first call to the closed case.

The work is split by concern into modules of their own (lifecycle, dispatch,
cases, contacts, queries); this module is the one name adapters import, so
routes, socket handlers, the CLI and drills all call the same functions.

Lock order, to keep concurrent changes free of deadlocks: the incident row,
then unit rows, then facility rows, then (through ``events.append``) the
context's counter row, which is always taken last.
"""

from __future__ import annotations

from .board import BoardQuery, BoardSort, page_incidents
from .cases import add_case, list_cases, record_case
from .common import AUDIENCE, SUBJECT, incident_props, mask_id
from .contacts import (
    DEFAULT_OBSERVATION_DAYS,
    add_contact,
    get_contact,
    isolate_contact,
    list_contacts,
    release_contact,
    suggest_isolation,
)
from .dispatch import dispatch_unit, release_unit
from .lifecycle import (
    UNIT_FOLLOWS,
    WITH_UNITS,
    change_status,
    create_incident,
    set_clock,
    set_condition,
    set_destination,
)
from .queries import (
    get_incident,
    incidents_geojson,
    list_incidents,
    location_choices,
    timeline,
    timeline_window,
)
from .settings import (
    default_priority,
    needs_negative_pressure,
    negative_pressure_diseases,
    report_deadline,
)

__all__ = [
    "AUDIENCE", "DEFAULT_OBSERVATION_DAYS", "SUBJECT", "UNIT_FOLLOWS", "WITH_UNITS", "add_case",
    "add_contact", "change_status", "create_incident", "default_priority", "dispatch_unit",
    "get_contact", "get_incident", "incident_props", "incidents_geojson", "isolate_contact",
    "BoardQuery", "BoardSort", "list_cases", "list_contacts", "list_incidents", "page_incidents",
    "location_choices", "mask_id", "timeline_window",
    "needs_negative_pressure", "negative_pressure_diseases", "record_case", "release_contact",
    "release_unit", "report_deadline", "set_clock", "set_condition", "set_destination",
    "suggest_isolation", "timeline",
]
