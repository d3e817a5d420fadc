"""What /ops renders: the map, the logging dialog's choices, the panels and their words.

Built by the route (not by template globals), so a panel's failure is caught in
coordination/ops/panels.py and shown in that panel alone.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import pgettext

from .. import runtime
from ..alerts.models import KIND_LABELS as ALERT_KIND_LABELS
from ..auth.principal import Principal, allowed
from ..auth.roles import Permission
from ..facilities.models import KIND_LABELS as FACILITY_KIND_LABELS
from ..feed import CONFIG_TYPES
from ..incidents.models import CLOCK_LABELS, Clock
from ..incidents.patient_models import TRIAGE_SHORT
from ..ops import panels
from ..plans.schema import LEVEL_NAMES
from ..units.models import STATUS_LABELS as UNIT_STATUS_LABELS
from .context import current_context
from .incident_pages import incident_panel
from .incident_pages import str_labels as _str
from .map_pages import live_map
from .plan_pages import event_venues_map


def ops_labels() -> dict[str, Any]:
    """Every word static/js/ops.js shows (inserted as text)."""
    return {
        "unit_status": _str(UNIT_STATUS_LABELS),
        "facility_kinds": _str(FACILITY_KIND_LABELS),
        "alert_kinds": _str(ALERT_KIND_LABELS),
        "acknowledge": _("Acknowledge"),
        "acked_by": _("Acknowledged by %(who)s at %(at)s", who="{who}", at="{at}"),
        "no_alerts": _("Nothing needs you right now."),
        "no_incidents": _("No open incidents."),
        "no_units": _("No units."),
        "no_beds": _("No facilities report beds."),
        "no_tasks": _("No open tasks."),
        "no_stock": _("No critical item below target."),
        "free_of": _("%(free)s free of %(cap)s", free="{free}", cap="{cap}"),
        "beds_more": _("… and %(n)s more, with more free beds", n="{n}"),
        "full": _("Full"),
        "near_full": _("Nearly full"),
        "stale": _("No recent report"),
        "np": _("NP (负压)"),
        "open_tasks": pgettext("task count", "Open"),
        "overdue": _("Unacknowledged past ack time"),
        "escalated": _("Escalated to the command room"),
        "per_agency": _("Open tasks per agency"),
        "short": _("%(available)s of %(target)s (short %(short)s)", available="{available}",
                   target="{target}", short="{short}"),
        "since_change": _("changed %(t)s ago", t="{t}"),
        "age": _("age"),
        "deadline": _("report"),
        "panel_failed": _("This panel could not be loaded; the others still work."),
        "no_hits": _("Nothing found."),
        "triage": {t.value: str(v) for t, v in TRIAGE_SHORT.items()},
        "handed_over": _("%(n)s of %(total)s handed over", n="{n}", total="{total}"),
        "hit_kinds": {"incident": _("Incident"), "unit": _("Unit"), "facility": _("Facility"),
                      "area": _("Area"), "place": _("Place"), "person": _("Person")},
        "clocks": {c.name.lower(): str(CLOCK_LABELS[c]) for c in Clock},  # the five clocks
        "loading": _("Loading…"),
        "still_empty": _("Still empty:"),
        # Early-warning alerts: the figures that tripped the rule, the plan and level.
        "ew_figures": _("%(cases)s cases (%(confirmed)s confirmed) in %(incidents)s incidents",
                        cases="{cases}", confirmed="{confirmed}", incidents="{incidents}"),
        "ew_suggest": _("Suggested: %(plan)s, level %(level)s (%(name)s)", plan="{plan}",
                        level="{level}", name="{name}"),
        "ew_basis": _("%(cases)s counted of at least %(at_least)s within %(within)s: "
                      "%(criterion)s", cases="{cases}", at_least="{at_least}",
                      within="{within}", criterion="{criterion}"),
        "ew_no_basis": _("No level criterion is met by the counted cases; the plan's least "
                         "serious level is suggested."),
        "ew_no_plan": _("No plan covers this disease; choose one on the plans page."),
        "ew_activate": _("Activate the plan at level %(level)s", level="{level}"),
        "ew_activated": _("Plan activated (activation %(id)s).", id="{id}"),
        "ew_open_activation": _("Open the activation"),
        # The plans' level names are kept in both languages (plans/schema.py).
        "level_names": {lv.value: {"zh": names[0], "en": names[1]}
                        for lv, names in LEVEL_NAMES.items()},
        "closed": _("Incident closed."),
    }


def ops_view(me: Principal) -> dict[str, Any]:
    context = current_context()
    show_map = allowed(me, Permission.VIEW_MAP)
    show_incidents = allowed(me, Permission.VIEW_INCIDENTS)
    incident = incident_panel() if show_incidents else None
    return {
        "map": live_map() if show_map else None,
        "venues": event_venues_map() if show_map else None,
        "incident": incident,
        "can_log": bool(incident and incident["config"]["can_manage"] and show_map),
        "ops": {
            "panels": panels.build(me, context),
            "labels": ops_labels(),
            "config_types": CONFIG_TYPES,
            "can_ack": allowed(me, Permission.ACK_ALERTS),
            "timezone": runtime.current_settings().timezone,
            "can_activate": allowed(me, Permission.ACTIVATE_PLANS),
            "urls": {
                "panels": url_for("ops_api.ops_panels"),
                "search": url_for("ops_api.ops_search"),
                "ack": url_for("ops_api.acknowledge", alert_id=0).replace("/0/", "/{id}/"),
                "activate": url_for("ops_api.activate_from_alert", alert_id=0).replace(
                    "/0/", "/{id}/"),
                "activation": url_for("plan_pages.activation",
                                      activation_id=0).replace("/0", "/{id}"),
                "incident": url_for("incident_api.incident", incident_id=0).replace(
                    "/0", "/{id}"),
                "timeline": url_for("incident_api.timeline", incident_id=0).replace(
                    "/0/", "/{id}/"),
                "page": url_for("incident_pages.incident", incident_id=0).replace(
                    "/0", "/{id}"),
                "status": url_for("incident_api.change_status", incident_id=0).replace(
                    "/0/", "/{id}/"),
            },
        },
    }
