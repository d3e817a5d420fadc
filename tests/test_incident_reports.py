"""Reports upward: the initial report's figures, review → issue, immutability, the clock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordination.errors import Conflict
from coordination.events import Event
from coordination.extensions import db
from coordination.incident_reports import service as reports
from coordination.incident_reports.models import ReportKind
from coordination.incidents import service
from coordination.incidents.models import Incident
from coordination.incidents.schemas import IncidentIn

from . import map_factories as mf

ACTOR = mf.ACTOR


def log(**kw):
    data = {"type": "suspected_case", "disease": "fever", "lon": mf.JINING[0] + 0.05,
            "lat": mf.JINING[1] + 0.02, "patients": 3, "reporter": "张伟",
            "address": "任城区 某小学", "phone": "13800000000", "notes": "发热"}
    data.update(kw)
    return service.create_incident(context="live", data=IncidentIn.model_validate(data),
                                   actor=ACTOR, region=mf.REGION)


def incident(incident_id):
    with db.unit_of_work() as s:
        i = s.get(Incident, incident_id)
        s.expunge(i)
        return i


def initial(incident_id):
    """The initial report drafted when the incident was logged."""
    return next(r for r in reports.reports_for(incident_id=incident_id)
                if r["kind"] == "initial")


def test_initial_report_figures_match_the_incident(app):
    inc = log()
    r = initial(inc["id"])
    r = reports.edit(report_id=r["id"], changes={"measures": "隔离观察"}, actor=ACTOR)
    i = incident(inc["id"])
    f = r["body"]["figures"]
    assert f["patients"] == i.patients == 3
    assert f["address"] == i.address == "任城区 某小学"
    assert f["found_at"] == i.found_at.isoformat()
    assert f["disease"] == i.disease
    assert f["report_deadline"] == (i.report_deadline.isoformat() if i.report_deadline else None)
    assert r["body"]["measures"] == "隔离观察"
    assert r["status"] == "draft" and r["version"] == 1
    with pytest.raises(Conflict):
        reports.draft(incident_id=inc["id"], kind=ReportKind.INITIAL, actor=ACTOR)


def test_issue_needs_review_and_stops_the_deadline_clock(app):
    inc = log()
    assert incident(inc["id"]).reported_up_at is None
    r = initial(inc["id"])
    with pytest.raises(Conflict):
        reports.issue(report_id=r["id"], actor=ACTOR, role="operator")
    reports.review(report_id=r["id"], actor=ACTOR)
    issued = reports.issue(report_id=r["id"], actor=ACTOR, role="operator")
    assert issued["status"] == "issued" and issued["issued_by"] == ACTOR.shown
    assert issued["issued_role"] == "operator"
    assert incident(inc["id"]).reported_up_at is not None
    with db.unit_of_work() as s:
        types = s.scalars(select(Event.type).where(Event.type.like("incident_report.%"))
                          .order_by(Event.seq)).all()
    assert types == ["incident_report.drafted", "incident_report.reviewed",
                     "incident_report.issued"]


def test_issued_report_is_immutable_and_corrected_by_a_new_version(app):
    inc = log()
    r = initial(inc["id"])
    reports.edit(report_id=r["id"], changes={"summary": "初稿"}, actor=ACTOR)
    reports.review(report_id=r["id"], actor=ACTOR)
    reports.issue(report_id=r["id"], actor=ACTOR, role="operator")
    with pytest.raises(Conflict):
        reports.edit(report_id=r["id"], changes={"summary": "改过"}, actor=ACTOR)
    v2 = reports.correct(report_id=r["id"], actor=ACTOR)
    assert v2["version"] == 2 and v2["supersedes_id"] == r["id"] and v2["status"] == "draft"
    with pytest.raises(Conflict):
        reports.correct(report_id=r["id"], actor=ACTOR)
    reports.edit(report_id=v2["id"], changes={"summary": "更正"}, actor=ACTOR)
    all_ = [x for x in reports.reports_for(incident_id=inc["id"]) if x["kind"] == "initial"]
    assert [(x["version"], x["body"]["summary"]) for x in all_] == [(1, "初稿"), (2, "更正")]


def test_progress_reports_are_numbered(app):
    inc = log()
    a = reports.draft(incident_id=inc["id"], kind=ReportKind.PROGRESS, actor=ACTOR)
    b = reports.draft(incident_id=inc["id"], kind=ReportKind.PROGRESS, actor=ACTOR)
    assert (a["number"], b["number"]) == (1, 2)
