"""The incident page's step buttons: plain forms with CSRF, one service call each.

Confirm the case (so the epidemic point is drawn), take the patient to one of
the recommended hospitals, release a unit, put a decontaminated ambulance
back in service, activate a plan for this incident. Every route checks its
own permission and comes back to the incident page with the outcome flashed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from ..auth.principal import Principal, allowed
from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..facilities.capabilities import Condition, condition_labels
from ..i18n import pick
from ..incidents import confirm, steps
from ..incidents import service as incidents
from ..incidents.schemas import ConditionIn, DestinationIn
from ..plans import for_incident
from ..plans import service as plans
from ..plans.recipients import RecipientsNeeded
from ..plans.schemas import ActivationIn
from .access import page, principal
from .context import current_context
from .flashing import flashed
from .plan_recipients import choices_from, choose_page

bp = Blueprint("incident_steps", __name__)


def page_steps(body: dict[str, Any], me: Principal) -> dict[str, Any]:
    """What the incident page needs to offer each step to whoever may take it."""
    context = current_context()
    manage = allowed(me, Permission.MANAGE_INCIDENTS) and body["open"]
    offer = (steps.care_or_beds(context=context, incident_id=body["id"]) if manage
             else {"destinations": [], "care": None})
    out: dict[str, Any] = {
        "can_confirm": manage and confirm.can_confirm(body),
        "can_pick_condition": manage,
        "conditions": condition_labels(),
        "destinations": offer["destinations"],
        "care": offer["care"],
        "awaiting_service": steps.units_awaiting_service(context=context,
                                                         incident_id=body["id"])
        if allowed(me, Permission.UPDATE_UNIT_STATUS) else [],
        "zones": steps.zones_of(context=context,
                                case_ids=[c["id"] for c in body.get("cases", [])
                                          if c["confirmed"]]),
        "plan_offers": None,
    }
    if allowed(me, Permission.ACTIVATE_PLANS) and body["open"]:
        offers = for_incident.plans_for_incident(
            context=context, incident_id=body["id"], disease=body.get("disease"),
            incident_type=body["type"])
        for p in offers["plans"]:
            p["name"] = pick(p["title"])
        for a in offers["active"]:
            a["name"] = pick({"zh": a["title_zh"], "en": a["title_en"]})
        out["plan_offers"] = offers
    return out


def _back(incident_id: int, call: Callable[[], Any], done: str) -> Response:
    flashed(call, done)
    return redirect(url_for("incident_pages.incident", incident_id=incident_id))


def _note() -> str:
    return request.form.get("note", "")[:1000]


@bp.route("/incidents/<int:incident_id>/confirm", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def confirm_case(incident_id: int) -> Response:
    return _back(incident_id, lambda: confirm.confirm_case(
        context=current_context(), incident_id=incident_id, actor=principal().actor,
        note=_note()), _("Case confirmed; the epidemic point is drawn around it."))


@bp.route("/incidents/<int:incident_id>/destination", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def set_destination(incident_id: int) -> Response:
    raw = request.form.get("facility_id", "").strip()

    def call() -> None:
        if not raw.isdigit():
            raise ValidationFailed(_("Choose a destination."))
        incidents.set_destination(context=current_context(), incident_id=incident_id,
                                  data=DestinationIn(facility_id=int(raw)),
                                  actor=principal().actor)

    return _back(incident_id, call, _("Destination set."))


@bp.route("/incidents/<int:incident_id>/condition", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def set_condition(incident_id: int) -> Response:
    raw = request.form.get("condition", "").strip()

    def call() -> None:
        try:
            picked = Condition(raw) if raw else None
        except ValueError:
            raise ValidationFailed(_("Choose a condition.")) from None
        incidents.set_condition(context=current_context(), incident_id=incident_id,
                                data=ConditionIn(condition=picked), actor=principal().actor)

    return _back(incident_id, call, _("Condition recorded; destinations ranked for it."))


@bp.route("/incidents/<int:incident_id>/units/<int:unit_id>/release", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def release_unit(incident_id: int, unit_id: int) -> Response:
    return _back(incident_id, lambda: incidents.release_unit(
        context=current_context(), incident_id=incident_id, unit_id=unit_id,
        actor=principal().actor, note=_note()), _("Unit released."))


@bp.route("/incidents/<int:incident_id>/units/<int:unit_id>/in-service", methods=["POST"])
@page(Permission.UPDATE_UNIT_STATUS)
def back_in_service(incident_id: int, unit_id: int) -> Response:
    return _back(incident_id, lambda: steps.return_to_service(
        context=current_context(), incident_id=incident_id, unit_id=unit_id,
        actor=principal().actor, note=_note()), _("Back in service."))


@bp.route("/incidents/<int:incident_id>/activate-plan", methods=["POST"])
@page(Permission.ACTIVATE_PLANS)
def activate_plan(incident_id: int) -> Response | tuple[str, int]:
    """Activate a plan with this incident as its subject; on to the plan's checklist."""
    form = request.form
    try:
        incidents.get_incident(context=current_context(), incident_id=incident_id)
        plan_id = form.get("plan_id", "").strip()
        if not plan_id:
            raise ValidationFailed(_("Choose a plan."))
        try:
            data = ActivationIn.model_validate({
                "level": form.get("level", ""), "subject_kind": "incident",
                "subject_ref": for_incident.subject_ref(incident_id), "note": _note(),
                "recipients": choices_from(form)})
        except ValidationError:
            raise ValidationFailed(_("Choose a response level.")) from None
        body = plans.activate_plan(context=current_context(), plan_id=plan_id, data=data,
                                   actor=principal().actor)
    except RecipientsNeeded as exc:  # told before activating: choose per task
        return choose_page(exc, action=url_for("incident_steps.activate_plan",
                                               incident_id=incident_id),
                           form=form, cancel=url_for("incident_pages.incident",
                                                     incident_id=incident_id))
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("incident_pages.incident", incident_id=incident_id))
    flash(_("Plan activated."), "info")
    return redirect(url_for("plan_pages.activation", activation_id=body["id"]))
