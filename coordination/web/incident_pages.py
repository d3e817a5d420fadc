"""Pages of incidents: the board, one incident with its timeline and clocks, a contact.

The logging form itself sits on the command room's live map (``/ops``): the
``incident_panel`` template global hands it its choices and words, so the ops
view stays as it is. The board and the incident page are rendered whole by
the server and kept current by static/js/incidents.js through the live
channel; their forms are plain HTML forms with CSRF, each calling one service
function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from ..auth.identity import current_principal
from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..facilities.models import KIND_LABELS
from ..feed import feed_bootstrap
from ..incidents import diseases
from ..incidents import service as incidents
from ..incidents.models import (
    CLOCK_LABELS,
    CONTACT_STATUS_LABELS,
    LIFECYCLE,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Clock,
    IncidentStatus,
)
from ..incidents.schemas import ClockIn, ContactIn, IsolateIn, StatusChangeIn
from ..major_events.venues import tag_labels as event_tags
from ..units.models import STATUS_LABELS as UNIT_STATUS_LABELS
from .access import page, principal
from .context import current_context
from .incident_steps import page_steps
from .params import query_model
from .report_pages import report_section

bp = Blueprint("incident_pages", __name__)


def str_labels(labels: dict[Any, Any]) -> dict[str, str]:
    return {str(getattr(k, "value", k)): str(v) for k, v in labels.items()}


def labels() -> dict[str, Any]:
    """Every word static/js/incidents.js shows, translated here (inserted as text)."""
    return {
        "types": str_labels(TYPE_LABELS),
        "diseases": diseases.labels(),
        "status": str_labels(STATUS_LABELS),
        "priority": str_labels(PRIORITY_LABELS),
        "unit_status": str_labels(UNIT_STATUS_LABELS),
        "kinds": str_labels(KIND_LABELS),
        "patients": _("Patients"),
        "reporter": _("Reporter"),
        "units": _("Units"),
        "none": _("none"),
        "recommended": _("Recommended units"),
        "destinations": _("Destinations with a free bed"),
        "care_destinations": _("Centres that can take this patient, by road ETA"),
        "care_window": _("window: %(window)s", window="{window}"),
        "no_care": _("No hospital that can take this patient reports a free bed."),
        "within_window": _("within the window"),
        "beyond_window": _("%(min)s min beyond the window", min="{min}"),
        "skipped": _("Nearer hospitals skipped"),
        "no_units": _("No available unit fits this incident."),
        "no_destination": _("No designated hospital or fever clinic reports a free bed of "
                             "the needed kind."),
        "dispatch": _("Dispatch"),
        "dispatched": _("Dispatched %(unit)s.", unit="{unit}"),
        "eta": _("ETA %(min)s min", min="{min}"),
        "km": _("%(km)s km", km="{km}"),
        "np_required": _("Needs a negative-pressure ambulance (负压救护车)"),
        "logged": _("Incident #%(id)s logged.", id="{id}"),
        "pick_location": _("Click the map or type coordinates."),
        "open": _("Open the incident"),
        "overdue": _("Reporting deadline missed"),
        "deadline_alert": _("Reporting deadline missed for incident #%(id)s", id="{id}"),
        "due_in": _("due in %(t)s", t="{t}"),
        "overdue_by": _("overdue by %(t)s", t="{t}"),
        "reported_up": _("reported"),
        "no_deadline": _("no report required"),
        "failed": _("The request failed; nothing was changed."),
        "offline": _("Not sent: no connection. Try again."),
        "empty_board": _("No open incidents."),
        "earlier_none": _("No earlier events."),
        "count_one": _("%(num)s incident · page %(page)s of %(pages)s", num="{num}",
                       page="{page}", pages="{pages}"),
        "count_many": _("%(num)s incidents · page %(page)s of %(pages)s", num="{num}",
                        page="{page}", pages="{pages}"),
        "ago": _("%(t)s ago", t="{t}"),
        "events": event_tags(),  # issue 5: "event · venue" by "event/venue"
    }


def _urls() -> dict[str, str]:
    return {
        "timeline": url_for("incident_api.timeline", incident_id=0).replace("/0/", "/{id}/"),
        "create": url_for("incident_api.create_incident"),
        "list": url_for("incident_api.list_incidents"),
        "layer": url_for("incident_api.incidents_layer"),
        "recommend": url_for("incident_api.recommendation", incident_id=0).replace(
            "/0/", "/{id}/"),
        "dispatch": url_for("incident_api.dispatch", incident_id=0).replace("/0/", "/{id}/"),
        "page": url_for("incident_pages.incident", incident_id=0).replace("/0", "/{id}"),
        "places": url_for("incident_api.incident_places"),
    }


@bp.app_template_global("incident_panel")
def incident_panel() -> dict[str, Any]:
    """What the ops page's logging panel and incidents.js need."""
    who = current_principal()
    return {
        "types": str_labels(TYPE_LABELS),
        "diseases": diseases.labels(),
        "config": {
            "urls": _urls(),
            "labels": labels(),
            "can_manage": allowed(who, Permission.MANAGE_INCIDENTS),
        },
    }


@bp.route("/incidents")
@page(Permission.VIEW_INCIDENTS)
def board() -> str:
    me = principal()
    q = query_model(incidents.BoardQuery)
    found = incidents.page_incidents(context=current_context(), query=q)
    keep: dict[str, Any] = dict(q.filters())
    return render_template(
        "incidents/board.html", rows=found["incidents"], found=found, q=q,
        newer=url_for("incident_pages.board", **keep, page=q.page - 1) if q.page > 1 else None,
        older=(url_for("incident_pages.board", **keep, page=q.page + 1)
               if q.page < found["pages"] else None),
        sorts=[(s.value, SORT_LABELS[s]) for s in incidents.BoardSort],
        feed=feed_bootstrap(me, context=current_context()),
        config={"urls": _urls(), "labels": labels(),
                "can_manage": allowed(me, Permission.MANAGE_INCIDENTS)},
        labels=labels())


SORT_LABELS = {
    incidents.BoardSort.PRIORITY: _l("Priority, then oldest"),
    incidents.BoardSort.OLDEST: _l("Oldest first"),
    incidents.BoardSort.NEWEST: _l("Newest first"),
    incidents.BoardSort.CHANGED: _l("Last changed first"),
}


def _local(value: str, field: str) -> datetime | None:
    """A datetime-local form value in the command room's zone, as an aware time."""
    value = value.strip()
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("%(field)s: enter a date and time.", field=field)) from None
    zone = ZoneInfo(current_app.config["COORDINATION"].timezone)
    return naive.replace(tzinfo=zone) if naive.tzinfo is None else naive


def _input(value: str) -> str:
    """An aware time as a datetime-local value in the command room's zone."""
    if not value:
        return ""
    zone = ZoneInfo(current_app.config["COORDINATION"].timezone)
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@bp.route("/incidents/<int:incident_id>")
@page(Permission.VIEW_INCIDENTS)
def incident(incident_id: int) -> str:
    me = principal()
    body = incidents.get_incident(context=current_context(),
                                  incident_id=incident_id, with_timeline=True)
    current = IncidentStatus(body["status"])
    nxt = None
    if current in LIFECYCLE[:-1]:
        nxt = LIFECYCLE[LIFECYCLE.index(current) + 1]
    return render_template(
        "incidents/incident.html", i=body, feed=feed_bootstrap(me, context=current_context()),
        timeline=body["timeline"],
        clocks=[(c, CLOCK_LABELS[c], body["clocks"][c.name.lower()]) for c in Clock],
        to_input=_input, next_status=nxt, labels=labels(),
        contact_labels=str_labels(CONTACT_STATUS_LABELS), steps=page_steps(body, me),
        upward=report_section(incident_id),
        config={"urls": _urls(), "labels": labels(), "incident_id": incident_id,
                "can_manage": allowed(me, Permission.MANAGE_INCIDENTS)})


def _back(incident_id: int) -> Response:
    return redirect(url_for("incident_pages.incident", incident_id=incident_id))


def _run(incident_id: int, call: Any, done: str) -> Response:
    try:
        call()
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(done, "info")
    return _back(incident_id)


@bp.route("/incidents/<int:incident_id>/status", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def change_status(incident_id: int) -> Response:
    form = request.form

    def call() -> None:
        try:
            status = IncidentStatus(form.get("status", ""))
            version = int(form["version"]) if form.get("version") else None
        except ValueError:
            raise ValidationFailed(_("Choose a status.")) from None
        incidents.change_status(context=current_context(),
                                incident_id=incident_id, actor=principal().actor,
            data=StatusChangeIn(status=status, note=form.get("note", "")[:1000],
                                reason=form.get("reason", "")[:1000], version=version))

    return _run(incident_id, call, _("Status changed."))


@bp.route("/incidents/<int:incident_id>/clocks", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def set_clock(incident_id: int) -> Response:
    form = request.form

    def call() -> None:
        try:
            clock = Clock(form.get("clock", ""))
        except ValueError:
            raise ValidationFailed(_("Unknown clock.")) from None
        at = _local(form.get("at", ""), str(CLOCK_LABELS[clock]))
        incidents.set_clock(context=current_context(),
                            incident_id=incident_id, actor=principal().actor,
                            data=ClockIn(clock=clock, at=at))

    return _run(incident_id, call, _("Time saved."))


def _float(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationFailed(_("Coordinates must be numbers.")) from None


@bp.route("/incidents/<int:incident_id>/contacts", methods=["POST"])
@page(Permission.MANAGE_CONTACTS)
def add_contact(incident_id: int) -> Response:
    form = request.form

    def call() -> None:
        exposure = _local(form.get("last_exposure", ""), _("Last exposure"))
        if exposure is None:
            raise ValidationFailed(_("Give the time of the last exposure."))
        days = form.get("observation_days", "").strip()
        try:
            data = ContactIn(
                name=form.get("name", ""), phone=form.get("phone", ""),
                id_number=form.get("id_number", ""), address=form.get("address", ""),
                lon=_float(form.get("lon", "")), lat=_float(form.get("lat", "")),
                last_exposure=exposure, observation_days=int(days) if days else None,
                notes=form.get("notes", ""))
        except ValueError as exc:
            raise ValidationFailed(_("Check the contact's details: %(why)s",
                                     why=str(exc).splitlines()[-1])) from None
        incidents.add_contact(context=current_context(),
                              incident_id=incident_id, data=data, actor=principal().actor)

    return _run(incident_id, call, _("Close contact recorded."))


@bp.route("/contacts/<int:contact_id>")
@page(Permission.VIEW_CONTACTS)
def contact(contact_id: int) -> str:
    record = incidents.get_contact(context=current_context(),
                                   contact_id=contact_id, with_suggestions=True)
    return render_template(
        "incidents/contact.html", c=record, contact_labels=str_labels(CONTACT_STATUS_LABELS),
        suggestions=record["suggestions"])


@bp.route("/contacts/<int:contact_id>/isolate", methods=["POST"])
@page(Permission.MANAGE_CONTACTS)
def isolate(contact_id: int) -> Response:
    raw = request.form.get("facility_id", "").strip()
    try:
        record = incidents.isolate_contact(context=current_context(),
                                           contact_id=contact_id, actor=principal().actor,
            data=IsolateIn(facility_id=int(raw) if raw.isdigit() else None))
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("incident_pages.contact", contact_id=contact_id))
    flash(_("Sent to %(name)s.", name=record["isolation_name"]), "info")
    return redirect(url_for("incident_pages.contact", contact_id=contact_id))


@bp.route("/contacts/<int:contact_id>/release", methods=["POST"])
@page(Permission.MANAGE_CONTACTS)
def release_contact(contact_id: int) -> Response:
    try:
        incidents.release_contact(context=current_context(),
                                  contact_id=contact_id, actor=principal().actor)
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Released from observation."), "info")
    return redirect(url_for("incident_pages.contact", contact_id=contact_id))
