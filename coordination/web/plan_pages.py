"""Plan pages: the plans list (with invalid files for admins), a plan with its activation
form, the live checklist of an activation, and the readiness table.

Routes parse the form, call one service and render; the checklist page is kept
live by static/js/plans.js, which re-reads the activation's JSON whenever a
plan or task event arrives on the socket.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..feed import feed_bootstrap
from ..major_events import cover
from ..major_events.sitrep import parse_day
from ..plans import readiness as plan_readiness
from ..plans import service as plans
from ..plans.models import SUBJECT_LABELS, SubjectKind
from ..plans.recipients import RecipientsNeeded
from ..plans.schema import LEVEL_NAMES
from ..plans.schemas import ActivationIn, LevelChangeIn, StandDownIn
from ..roster.models import STATUS_LABELS as TASK_LABELS
from ..vocab import messages
from . import reports
from .access import page, principal
from .context import current_context
from .plan_recipients import choices_from, choose_page

bp = Blueprint("plan_pages", __name__, url_prefix="/plans")



def _lang() -> str:
    return "zh" if str(get_locale() or "zh").startswith("zh") else "en"


def _form(model: Any, **fields: Any) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise ValidationFailed(messages.problem(exc.errors()[0])) from None


def _common() -> dict[str, Any]:
    return {"lang": _lang(), "level_names": {k.value: v for k, v in LEVEL_NAMES.items()},
            "subject_labels": {k.value: str(v) for k, v in SUBJECT_LABELS.items()},
            "states": {k.value: str(v) for k, v in TASK_LABELS.items()}
            | {"unassigned": _("Unassigned (agency not on the roster)")}}


@bp.app_template_global("event_venues_map")
def event_venues_map() -> dict[str, Any]:
    """What static/js/event_venues.js needs on the live map: the layer URL and its words."""
    return {"url": url_for("plan_api.venues_layer"), "lang": _lang(),
            "layer_name": _("Event venues and medical posts"), "labels": {
        "venue": _("Event venue"), "medical_post": _("Medical post"),
        "standby": _("Standby ambulance position"), "event": _("Event"),
        "doctors": _("Doctors"), "nurses": _("Nurses"), "crew": _("Crew"),
        "held": _("Held"), "sessions": _("Sessions"), "no_sessions": _("No sessions"),
        "sitrep": _("Daily situation report"),
    }, "sitrep_url": url_for("plan_pages.sitrep", event_id="EVENT").replace("EVENT", "{id}"),
        "can_sitrep": allowed(principal(), Permission.VIEW_INCIDENTS)}


@bp.route("")
@page(Permission.VIEW_PLANS)
def index() -> str:
    body = plans.plans_overview(context=current_context())
    show_invalid = allowed(principal(), Permission.VIEW_PLAN_ERRORS)
    return render_template("plans/index.html", data=body, show_invalid=show_invalid,
                           recent=plans.list_activations(context=current_context()), **_common())


@bp.route("/readiness")
@page(Permission.VIEW_READINESS)
def readiness() -> str:
    return render_template("plans/readiness.html",
                           data=plan_readiness.readiness(context=current_context()), **_common())


@bp.route("/events")
@page(Permission.VIEW_PLANS)
def events() -> str:
    return render_template("plans/events.html", data=cover.events_overview(),
                           show_invalid=allowed(principal(), Permission.VIEW_PLAN_ERRORS),
                           **_common())


@bp.route("/events/<event_id>")
@page(Permission.VIEW_PLANS)
def event(event_id: str) -> str:
    return render_template("plans/event.html", ev=cover.event_view(event_id), **_common())


@bp.route("/events/<event_id>/sitrep")
@page(Permission.VIEW_INCIDENTS)
def sitrep(event_id: str) -> str:
    return reports.sitrep_html(event_id=event_id, context=current_context(),
                               day=parse_day(request.args.get("date")))


@bp.route("/events/<event_id>/sitrep.pdf")
@page(Permission.VIEW_INCIDENTS)
def sitrep_pdf(event_id: str) -> Response:
    day = parse_day(request.args.get("date"))
    pdf = reports.sitrep_pdf(event_id=event_id, day=day, context=current_context(),
                             base_url=request.url_root)
    name = f"sitrep-{event_id}-{day.isoformat() if day else 'today'}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.route("/<plan_id>")
@page(Permission.VIEW_PLANS)
def plan(plan_id: str) -> str:
    return render_template("plans/plan.html", plan=plans.plan_detail(context=current_context(),
                                                                     plan_id=plan_id),
                           subjects=list(SubjectKind), **_common())


@bp.route("/<plan_id>/activate", methods=["POST"])
@page(Permission.ACTIVATE_PLANS)
def activate(plan_id: str) -> Response | tuple[str, int]:
    try:
        data = _form(ActivationIn, level=request.form.get("level", ""),
                     subject_kind=request.form.get("subject_kind", "incident"),
                     subject_ref=request.form.get("subject_ref", ""),
                     note=request.form.get("note", ""),
                     recipients=choices_from(request.form))
        body = plans.activate_plan(context=current_context(),
                                   plan_id=plan_id, data=data, actor=principal().actor)
    except RecipientsNeeded as exc:
        return choose_page(exc, action=url_for("plan_pages.activate", plan_id=plan_id),
                           form=request.form, cancel=url_for("plan_pages.plan", plan_id=plan_id))
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        return render_template("plans/plan.html", plan=plans.plan_detail(context=current_context(),
                                                                         plan_id=plan_id),
                               subjects=list(SubjectKind), **_common()), exc.status
    flash(_("Plan activated."), "info")
    return redirect(url_for("plan_pages.activation", activation_id=body["id"]))


@bp.route("/activations/<int:activation_id>")
@page(Permission.VIEW_PLANS)
def activation(activation_id: int) -> str:
    view = plans.activation_view(context=current_context(), activation_id=activation_id)
    return render_template("plans/activation.html", a=view,
                           feed=feed_bootstrap(principal(), context=current_context()),
                           **_common())


@bp.route("/activations/<int:activation_id>/level", methods=["POST"])
@page(Permission.ACTIVATE_PLANS)
def change_level(activation_id: int) -> Response | tuple[str, int]:
    try:
        data = _form(LevelChangeIn, level=request.form.get("level", ""),
                     reason=request.form.get("reason", ""),
                     recipients=choices_from(request.form))
        plans.change_level(context=current_context(),
                           activation_id=activation_id, data=data, actor=principal().actor)
    except RecipientsNeeded as exc:
        back = url_for("plan_pages.activation", activation_id=activation_id)
        return choose_page(exc, action=url_for("plan_pages.change_level",
                                               activation_id=activation_id),
                           form=request.form, cancel=back)
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Level changed."), "info")
    return redirect(url_for("plan_pages.activation", activation_id=activation_id))


@bp.route("/activations/<int:activation_id>/stand-down", methods=["POST"])
@page(Permission.ACTIVATE_PLANS)
def stand_down(activation_id: int) -> Response:
    try:
        data = _form(StandDownIn, reason=request.form.get("reason", ""))
        plans.stand_down(context=current_context(),
                         activation_id=activation_id, data=data, actor=principal().actor)
    except CoordinationError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Stood down."), "info")
    return redirect(url_for("plan_pages.activation", activation_id=activation_id))
