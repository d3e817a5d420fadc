"""MCI patients over the JSON API and on pages: the incident's board, a hospital's, the desk.

Thin: each route parses input, calls one function of incidents.patients and
returns its result (API) or comes back to the board with the outcome flashed
(pages). Viewing needs the incident viewer's permission, every change the
incident manager's; forms carry CSRF tokens, the API checks CSRF itself for
session callers (access.api).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.wrappers import Response

from ..auth.principal import allowed
from ..auth.roles import Permission
from ..errors import CoordinationError, ValidationFailed
from ..incidents import patient_boards, patients
from ..incidents import service as incidents
from ..incidents.patient_models import PATIENT_STATUS_LABELS, TRIAGE_LABELS, Triage
from .access import api, page, principal
from .context import current_context
from .flashing import flashed
from .jsonbody import body as _body

api_bp = Blueprint("patient_api", __name__, url_prefix="/api")
pages_bp = Blueprint("patient_pages", __name__)


class Versioned(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


class TriageIn(Versioned):
    triage: Triage


class PatientDestinationIn(Versioned):
    facility_id: int


class LoadIn(Versioned):
    unit_id: int


def labels() -> dict[str, Any]:
    return {"triage": {t.value: str(v) for t, v in TRIAGE_LABELS.items()},
            "status": {s.value: str(v) for s, v in PATIENT_STATUS_LABELS.items()},
            "sex": {"": "—", "female": _("female"), "male": _("male")}}


# --- API ----------------------------------------------------------------------------------


@api_bp.route("/incidents/<int:incident_id>/patients")
@api(Permission.VIEW_INCIDENTS)
def board(incident_id: int) -> Any:
    return jsonify(patient_boards.incident_board(context=current_context(),
                                                 incident_id=incident_id))


@api_bp.route("/incidents/<int:incident_id>/patients", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def register(incident_id: int) -> Any:
    body = patients.register_patient(context=current_context(), incident_id=incident_id,
                                     data=_body(patients.PatientIn), actor=principal().actor)
    return jsonify(body), 201


@api_bp.route("/incidents/<int:incident_id>/patients/distribute", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def distribute(incident_id: int) -> Any:
    return jsonify(patients.distribute(context=current_context(), incident_id=incident_id,
                                       actor=principal().actor))


@api_bp.route("/patients/<int:patient_id>/triage", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def retriage(patient_id: int) -> Any:
    data = _body(TriageIn)
    return jsonify(patients.retriage(context=current_context(), patient_id=patient_id,
                                     triage=data.triage, version=data.version,
                                     actor=principal().actor))


@api_bp.route("/patients/<int:patient_id>/destination", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def destination(patient_id: int) -> Any:
    data = _body(PatientDestinationIn)
    return jsonify(patients.set_destination(context=current_context(), patient_id=patient_id,
                                            facility_id=data.facility_id,
                                            version=data.version, actor=principal().actor))


@api_bp.route("/patients/<int:patient_id>/load", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def load(patient_id: int) -> Any:
    data = _body(LoadIn)
    return jsonify(patients.load(context=current_context(), patient_id=patient_id,
                                 unit_id=data.unit_id, version=data.version,
                                 actor=principal().actor))


@api_bp.route("/patients/<int:patient_id>/hand-over", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def hand_over(patient_id: int) -> Any:
    data = _body(Versioned)
    return jsonify(patients.hand_over(context=current_context(), patient_id=patient_id,
                                      version=data.version, actor=principal().actor))


@api_bp.route("/patients/<int:patient_id>/release", methods=["POST"])
@api(Permission.MANAGE_INCIDENTS)
def release(patient_id: int) -> Any:
    data = _body(Versioned)
    return jsonify(patients.release(context=current_context(), patient_id=patient_id,
                                    version=data.version, actor=principal().actor))


@api_bp.route("/facilities/<int:facility_id>/patients")
@api(Permission.VIEW_INCIDENTS)
def hospital(facility_id: int) -> Any:
    return jsonify(patient_boards.hospital_board(context=current_context(),
                                                 facility_id=facility_id))


@api_bp.route("/patients")
@api(Permission.VIEW_INCIDENTS)
def find() -> Any:
    """``?q=`` a name (part), an ID number or a tag: the family-liaison desk's question."""
    return jsonify({"patients": patient_boards.find_patients(context=current_context(),
                                                       query=request.args.get("q", ""))})


# --- pages --------------------------------------------------------------------------------


def _back(incident_id: int, call: Callable[[], Any], done: str) -> Response:
    flashed(call, done)
    return redirect(url_for("patient_pages.incident_board", incident_id=incident_id))


def _version() -> int:
    raw = request.form.get("version", "")
    if not raw.isdigit():
        raise ValidationFailed(_("The form is out of date; reload the page."))
    return int(raw)


@pages_bp.route("/incidents/<int:incident_id>/patients")
@page(Permission.VIEW_INCIDENTS)
def incident_board(incident_id: int) -> str:
    context = current_context()
    inc = incidents.get_incident(context=context, incident_id=incident_id)
    body = patient_boards.incident_board(context=context, incident_id=incident_id)
    return render_template(
        "incidents/patients.html", i=inc, board=body, labels=labels(),
        can_manage=allowed(principal(), Permission.MANAGE_INCIDENTS) and body["open"],
        triages=list(Triage))


@pages_bp.route("/incidents/<int:incident_id>/patients", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def register_form(incident_id: int) -> Response:
    form = request.form

    def call() -> None:
        age = form.get("age", "").strip()
        try:
            data = patients.PatientIn.model_validate({
                "tag": form.get("tag", ""), "triage": form.get("triage", ""),
                "name": form.get("name", ""), "id_number": form.get("id_number", ""),
                "sex": form.get("sex", ""), "age": int(age) if age.isdigit() else None,
                "note": form.get("note", "")})
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0])
            names = {"tag": _("Tag number"), "triage": _("Triage (START)"),
                     "name": _("Patient name"), "id_number": _("ID number"), "sex": _("Sex"),
                     "age": _("Age (years)"), "note": _("Note")}
            raise ValidationFailed(_("Check the patient's %(field)s.",
                                     field=names.get(field, _("details")))) from None
        patients.register_patient(context=current_context(), incident_id=incident_id,
                                  data=data, actor=principal().actor)

    return _back(incident_id, call, _("Patient registered."))


@pages_bp.route("/incidents/<int:incident_id>/patients/distribute", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def distribute_form(incident_id: int) -> Response:
    out: dict[str, Any] = {}

    def call() -> None:
        out.update(patients.distribute(context=current_context(), incident_id=incident_id,
                                       actor=principal().actor))

    response = _back(incident_id, call, _("Patients distributed to hospitals."))
    if out.get("unplaced"):
        flash(_("%(n)s patients found no hospital with a free bed.", n=out["unplaced"]),
              "error")
    return response


def _patient_action(patient_id: int, action: Callable[[int], Any], done: str) -> Response:
    """Run one patient step and come back to that patient's incident board."""
    raw = request.form.get("incident_id", "")
    try:
        body = action(_version())
    except CoordinationError as exc:
        flash(str(exc.message), "error")
        if not raw.isdigit():
            return redirect(url_for("incident_pages.board"))
        return redirect(url_for("patient_pages.incident_board", incident_id=int(raw)))
    flash(done, "info")
    return redirect(url_for("patient_pages.incident_board", incident_id=body["incident_id"]))


@pages_bp.route("/patients/<int:patient_id>/load", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def load_form(patient_id: int) -> Response:
    raw = request.form.get("unit_id", "")

    def act(version: int) -> Any:
        if not raw.isdigit():
            raise ValidationFailed(_("Choose an ambulance."))
        return patients.load(context=current_context(), patient_id=patient_id,
                             unit_id=int(raw), version=version, actor=principal().actor)

    return _patient_action(patient_id, act, _("Patient loaded."))


@pages_bp.route("/patients/<int:patient_id>/hand-over", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def hand_over_form(patient_id: int) -> Response:
    return _patient_action(patient_id, lambda v: patients.hand_over(
        context=current_context(), patient_id=patient_id, version=v,
        actor=principal().actor), _("Patient handed over."))


@pages_bp.route("/patients/<int:patient_id>/release", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def release_form(patient_id: int) -> Response:
    return _patient_action(patient_id, lambda v: patients.release(
        context=current_context(), patient_id=patient_id, version=v,
        actor=principal().actor), _("Patient released at the scene."))


@pages_bp.route("/patients/<int:patient_id>/triage", methods=["POST"])
@page(Permission.MANAGE_INCIDENTS)
def triage_form(patient_id: int) -> Response:
    raw = request.form.get("triage", "")

    def act(version: int) -> Any:
        try:
            triage = Triage(raw)
        except ValueError:
            raise ValidationFailed(_("Choose a triage category.")) from None
        return patients.retriage(context=current_context(), patient_id=patient_id,
                                 triage=triage, version=version, actor=principal().actor)

    return _patient_action(patient_id, act, _("Patient re-triaged."))


@pages_bp.route("/facilities/<int:facility_id>/patients")
@page(Permission.VIEW_INCIDENTS)
def hospital_board(facility_id: int) -> str:
    body = patient_boards.hospital_board(context=current_context(), facility_id=facility_id)
    return render_template("incidents/hospital_patients.html", board=body, labels=labels())


@pages_bp.route("/patients/find")
@page(Permission.VIEW_INCIDENTS)
def find_page() -> tuple[str, int] | str:
    """The family-liaison desk: who was taken where, answered from the masked list."""
    q = request.args.get("q", "")
    rows: list[dict[str, Any]] = []
    status = 200
    if q:
        try:
            rows = patient_boards.find_patients(context=current_context(), query=q)
        except CoordinationError as exc:
            flash(str(exc.message), "error")
            status = exc.status
    return render_template("incidents/find_patients.html", q=q, rows=rows,
                           labels=labels()), status
