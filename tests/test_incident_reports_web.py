"""Reports upward through the API and pages: the initial draft at logging, review and issue
by a named person stopping the countdown, escaping, roles, PDF/DOCX/CAP exports, and the
progress schedule driven by a drill clock; the final report at close."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document
from sqlalchemy import select

from coordination.extensions import db
from coordination.incident_reports import schedule
from coordination.incident_reports import service as reports
from coordination.incident_reports.models import IncidentReport, ReportKind
from coordination.incidents import cap
from coordination.incidents import service as incidents
from coordination.incidents.cases import add_case
from coordination.incidents.models import Incident, IncidentStatus
from coordination.incidents.schemas import CaseIn, IncidentIn, StatusChangeIn
from coordination.plans import service as plans
from coordination.plans.schemas import ActivationIn, StandDownIn

from . import map_factories as mf
from .roster_factories import crew, drill_context, set_drill_time

PLAGUE = {"type": "suspected_case", "disease": "plague", "lon": 113.15, "lat": 41.02,
          "patients": 2, "reporter": "张伟", "phone": "13800000000", "address": "集宁区某村"}
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def operator(make_user, auth):
    make_user("operator", username="op1", display_name="王值班")
    auth.login("op1")
    return auth


def post_form(auth, url, data=None):
    return auth.client.post(url, data={"csrf_token": auth.csrf, **(data or {})})


def _initial(incident_id):
    rows = reports.reports_for(incident_id=incident_id)
    return next(r for r in rows if r["kind"] == "initial")


def test_the_initial_report_is_drafted_at_logging_with_the_incidents_figures(operator):
    inc = operator.post_json("/api/incidents", PLAGUE).get_json()
    listed = operator.client.get(f"/api/incidents/{inc['id']}/reports").get_json()
    assert [(r["kind"], r["status"]) for r in listed["reports"]] == [("initial", "draft")]
    f = listed["reports"][0]["body"]["figures"]
    with db.reading() as s:
        i = s.get(Incident, inc["id"])
        assert f["patients"] == i.patients == 2 and f["address"] == i.address
        assert f["found_at"] == i.found_at.isoformat()
        assert f["report_deadline"] == i.report_deadline.isoformat()
        assert f["disease"] == "plague" and f["cases_confirmed"] == 0
    assert listed["reports"][0]["body"]["trigger"] == "logged"
    # A second initial report is refused (409), nothing written.
    again = operator.post_json(f"/api/incidents/{inc['id']}/reports", {"kind": "initial"})
    assert again.status_code == 409


def test_review_issue_by_a_named_person_stops_the_countdown(operator):
    inc = operator.post_json("/api/incidents", PLAGUE).get_json()
    r = _initial(inc["id"])
    page = operator.client.get(f"/incidents/{inc['id']}")
    assert "初次报告" in page.text or "Initial report" in page.text
    evil = "<script>alert(1)</script>"
    resp = post_form(operator, f"/reports/{r['id']}/edit",
                 {"summary": evil, "measures": "隔离患者，封锁疫点", "next_steps": ""})
    assert resp.status_code == 302
    html = operator.client.get(f"/reports/{r['id']}").text
    assert evil not in html and "&lt;script&gt;" in html
    # Issue before review is refused; the page says so and nothing changes.
    post_form(operator, f"/reports/{r['id']}/issue")
    assert reports.get_report(report_id=r["id"])["status"] == "draft"
    post_form(operator, f"/reports/{r['id']}/review")
    post_form(operator, f"/reports/{r['id']}/issue", {"position": "应急办值班长"})
    issued = reports.get_report(report_id=r["id"])
    assert issued["status"] == "issued" and issued["issued_by"] == "王值班"
    assert issued["issued_role"] == "应急办值班长"
    one = operator.client.get(f"/api/incidents/{inc['id']}").get_json()
    assert one["clocks"]["reported"] == issued["issued_at"]
    assert one["deadline_missed"] is False
    # Immutable: editing the issued version is a 409 over the API.
    assert operator.client.post(f"/api/reports/{r['id']}/edit", json={"summary": "x"},
                                 headers={"X-CSRFToken": operator.csrf}).status_code == 409
    page = operator.client.get(f"/reports/{r['id']}").text
    assert "应急办值班长" in page and "王值班" in page


def test_exports_parse(operator):
    inc = operator.post_json("/api/incidents", PLAGUE).get_json()
    r = _initial(inc["id"])
    operator.client.post(f"/api/reports/{r['id']}/edit", json={"measures": "隔离 <b>患者</b>"},
                          headers={"X-CSRFToken": operator.csrf})
    operator.post_json(f"/api/reports/{r['id']}/review", {})
    operator.post_json(f"/api/reports/{r['id']}/issue", {"position": "值班长"})
    pdf = operator.client.get(f"/reports/{r['id']}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    docx = operator.client.get(f"/reports/{r['id']}.docx")
    assert docx.status_code == 200
    doc = Document(io.BytesIO(docx.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "隔离 <b>患者</b>" in text and "集宁区某村" in cells and "2" in cells
    xml = operator.client.get(f"/api/reports/{r['id']}/cap")
    assert xml.status_code == 200 and xml.mimetype == "application/cap+xml"
    tree = cap.parse_xml(xml.data)
    assert cap.validate_schema(tree) == []
    alert = cap.parse_cap(xml.data)
    assert alert.status == "Actual" and alert.msg_type == "Alert"
    # A progress report is an Update referencing the issued initial report.
    p = operator.post_json(f"/api/incidents/{inc['id']}/reports", {"kind": "progress"})
    assert p.status_code == 201
    px = operator.client.get(f"/api/reports/{p.get_json()['id']}/cap").data
    palert = cap.parse_cap(px)
    assert palert.status == "Draft" and palert.msg_type == "Update"
    assert alert.identifier in px.decode()


def test_roles_and_bad_input(operator, make_user, auth, client):
    inc = operator.post_json("/api/incidents", PLAGUE).get_json()
    r = _initial(inc["id"])
    bad = operator.post_json(f"/api/incidents/{inc['id']}/reports", {"kind": "weekly"})
    assert bad.status_code == 400
    bad = operator.client.post(f"/api/reports/{r['id']}/edit", json={"title": "x"},
                                headers={"X-CSRFToken": operator.csrf})
    assert bad.status_code == 400
    assert operator.client.get("/api/reports/999999").status_code == 404
    # Without the CSRF token a session write is refused.
    assert operator.client.post(f"/api/reports/{r['id']}/review", json={}).status_code in (400, 403)
    make_user("liaison", username="li1")
    auth.login("li1")
    assert auth.client.get(f"/reports/{r['id']}").status_code == 403
    assert auth.post_json(f"/api/reports/{r['id']}/review", {}).status_code == 403
    assert reports.get_report(report_id=r["id"])["status"] == "draft"


def _drill_incident(context):
    return incidents.create_incident(context=context, data=IncidentIn.model_validate(PLAGUE),
                                     actor=mf.ACTOR, region=mf.REGION)


def test_progress_reports_follow_the_plans_schedule_on_the_drill_clock(app):
    ctx = drill_context("drill-reports", T0)
    for code in ("health_commission", "cdc", "fever_clinic", "ems", "designated_hospital",
                 "disinfection", "public_security", "railway", "civil_aviation", "customs",
                 "army"):
        crew(ctx, code, users=False)
    inc = _drill_incident(ctx)
    init = _initial_in(ctx, inc["id"])
    act = plans.activate_plan(plan_id="plague-human-case", actor=mf.ACTOR, context=ctx,
                              data=ActivationIn(level="III", subject_ref=str(inc["id"])))
    # Level III: every 24 h, counted from the initial report's issue; none before it.
    set_drill_time(ctx, T0 + timedelta(days=2))
    assert schedule.run_due(ctx) == []
    reports.review(context=ctx, report_id=init, actor=mf.ACTOR)
    reports.issue(context=ctx, report_id=init, actor=mf.ACTOR, role="operator")
    issued_at = T0 + timedelta(days=2)
    due = schedule.next_due(context=ctx, incident_id=inc["id"])
    assert due["every_minutes"] == 24 * 60 and due["level"] == "III"
    assert datetime.fromisoformat(due["due_at"]) == issued_at + timedelta(hours=24)
    set_drill_time(ctx, issued_at + timedelta(hours=23, minutes=59))
    assert schedule.run_due(ctx) == []
    add_case(context=ctx, incident_id=inc["id"], actor=mf.ACTOR, region=mf.REGION,
             data=CaseIn(lon=113.15, lat=41.02, confirmed=True, label="病例1"))
    set_drill_time(ctx, issued_at + timedelta(hours=24))
    first = schedule.run_due(ctx)
    assert len(first) == 1 and schedule.run_due(ctx) == []  # drafted once
    p1 = reports.get_report(context=ctx, report_id=first[0])
    assert p1["kind"] == "progress" and p1["number"] == 1
    assert p1["body"]["trigger"] == "schedule" and p1["body"]["since"]["kind"] == "initial"
    changed = {c["field"] for c in p1["body"]["changes"]}
    assert {"reported_up_at", "plan_level", "cases_confirmed"} <= changed
    set_drill_time(ctx, issued_at + timedelta(hours=48))
    second = schedule.run_due(ctx)
    assert [reports.get_report(context=ctx, report_id=x)["number"] for x in second] == [2]
    # Stand-down drafts the final report, and the schedule stops.
    plans.stand_down(activation_id=act["id"], context=ctx, actor=mf.ACTOR,
                     data=StandDownIn(reason="九天无新发病例"))
    kinds = [r["kind"] for r in reports.reports_for(context=ctx, incident_id=inc["id"])]
    assert kinds.count("final") == 1
    set_drill_time(ctx, issued_at + timedelta(hours=96))
    assert schedule.run_due(ctx) == []
    # Live never sees the drill's reports.
    with db.reading() as s:
        assert s.scalars(select(IncidentReport).where(IncidentReport.context == "live")).all() == []


def _initial_in(ctx, incident_id):
    rows = reports.reports_for(context=ctx, incident_id=incident_id)
    return next(r["id"] for r in rows if r["kind"] == "initial")


def test_closing_drafts_the_final_report_once(app):
    inc = incidents.create_incident(context="live", data=IncidentIn.model_validate(PLAGUE),
                                    actor=mf.ACTOR, region=mf.REGION)
    with db.unit_of_work() as s:  # walk it to closed without units (a test shortcut)
        i = s.get(Incident, inc["id"])
        i.status = IncidentStatus.AT_HOSPITAL.value
    incidents.change_status(context="live", incident_id=inc["id"], actor=mf.ACTOR,
                            data=StatusChangeIn(status=IncidentStatus.CLOSED, note="结案",
                                                reason="test: clocks kept on paper"))
    rows = reports.reports_for(incident_id=inc["id"])
    final = [r for r in rows if r["kind"] == ReportKind.FINAL.value]
    assert len(final) == 1 and final[0]["body"]["trigger"] == "closed"
    assert final[0]["body"]["changes"]  # status at least
    assert re.match(r"\d{4}-", final[0]["drafted_at"])


def test_a_correction_is_a_new_version_and_the_page_drafts_on_demand(operator):
    inc = operator.post_json("/api/incidents", PLAGUE).get_json()
    r = _initial(inc["id"])
    operator.post_json(f"/api/reports/{r['id']}/review", {})
    assert operator.post_json(f"/api/reports/{r['id']}/issue", {}).status_code == 200
    # Over the API: a new draft version that supersedes the issued one once issued.
    fixed = operator.post_json(f"/api/reports/{r['id']}/correct", {})
    assert fixed.status_code == 201
    body = fixed.get_json()
    assert body["status"] == "draft" and body["version"] == 2
    assert reports.get_report(report_id=r["id"])["status"] == "issued"  # kept as issued
    # Through the pages: a progress report drafted from the incident page's form.
    resp = post_form(operator, f"/incidents/{inc['id']}/reports", {"kind": "progress"})
    assert resp.status_code == 302
    kinds = [x["kind"] for x in reports.reports_for(incident_id=inc["id"])]
    assert "progress" in kinds
    assert post_form(operator, f"/incidents/{inc['id']}/reports",
                     {"kind": "nonsense"}).status_code == 302  # refused, nothing drafted
    assert [x["kind"] for x in reports.reports_for(incident_id=inc["id"])] == kinds
    # Correcting a draft from its page is refused with a message; nothing is added.
    before = len(reports.reports_for(incident_id=inc["id"]))
    page = post_form(operator, f"/reports/{body['id']}/correct")
    assert page.status_code == 302
    assert len(reports.reports_for(incident_id=inc["id"])) == before
