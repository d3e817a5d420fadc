"""Patients at a mass-casualty incident: 40 patients spread over three hospitals by capacity.

Through the real service, database, event log, pages and API: registration by
triage tag, distribution so no hospital is flooded, loading into an ambulance
working the incident, hand-over taking a bed, the boards and the desk showing
names and ID numbers masked, the command room's counts.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select

from coordination.errors import Conflict, ValidationFailed
from coordination.events import Event
from coordination.extensions import db
from coordination.facilities.capabilities import parse_capabilities
from coordination.facilities.models import CapacityReport, Facility
from coordination.incidents import patient_boards, patients
from coordination.incidents.patient_models import Patient
from coordination.incidents.patients import PatientIn, Slot, plan
from coordination.ops.panels import incidents_panel

from . import map_factories as mf
from .support import csrf_from
from .test_incidents import ACTOR, dispatch, events_of, log, to

MIX = ["immediate"] * 8 + ["delayed"] * 12 + ["minor"] * 16 + ["expectant"] * 4


def hospital(name, free, lon, lat, services=None):
    return mf.facility(name=name, kind="designated_hospital", lon=lon, lat=lat,
                       initial={"figures": {"general_bed": {"capacity": free + 10,
                                                            "occupied": 10}}},
                       capabilities=parse_capabilities(services) if services else None)


def register(incident_id, n, triage, **kw):
    return patients.register_patient(
        incident_id=incident_id, actor=ACTOR,
        data=PatientIn(tag=f"T-{n:03d}", triage=triage, **kw))


def test_the_plan_spreads_in_proportion_to_capacity_immediate_first():
    slots = [Slot(1, "A", 300, 40, True), Slot(2, "B", 600, 24, False),
             Slot(3, "C", 900, 16, True)]
    chosen = plan(list(enumerate(MIX, start=1)), slots)
    assert Counter(chosen.values()) == {1: 20, 2: 12, 3: 8}
    # The eight immediate patients went to trauma centres only (A and C).
    assert {chosen[p] for p in range(1, 9)} <= {1, 3}
    # Capacity is never exceeded; with more patients than beds the rest are unplaced.
    small = [Slot(1, "A", 300, 3, False), Slot(2, "B", 600, 2, False)]
    chosen = plan([(n, "delayed") for n in range(10)], small)
    assert Counter(chosen.values()) == {1: 3, 2: 2} and len(chosen) == 5


def test_forty_patient_mci_is_distributed_across_three_hospitals_by_capacity(app):
    big = hospital("市中心医院", 20, 113.13, 41.0, "创伤:1")
    mid = hospital("第二医院", 12, 113.2, 41.05, "创伤:2")
    small = hospital("县医院", 8, 113.3, 41.1)
    hospital("分流医院", 50, 113.125, 41.0)  # diverting: never chosen
    with db.unit_of_work() as s:
        s.scalars(select(Facility).where(Facility.name == "分流医院")).one().status = \
            "diverting"
    inc = log(type="mass_casualty", disease=None, patients=40)
    for n, triage in enumerate(MIX, start=1):
        register(inc["id"], n, triage, name=f"王{n}号", id_number=f"15090219900101{n:04d}")
    out = patients.distribute(incident_id=inc["id"], actor=ACTOR, use_network=False)
    assert out["assigned"] == 40 and out["unplaced"] == 0
    got = {h["facility_id"]: h["count"] for h in out["hospitals"]}
    assert got == {big.id: 20, mid.id: 12, small.id: 8}
    board = patient_boards.incident_board(incident_id=inc["id"])
    assert board["counts"]["total"] == 40 and board["counts"]["status"] == {"assigned": 40}
    immediate_at = {p["destination_id"] for p in board["patients"] if p["triage"] == "immediate"}
    assert immediate_at <= {big.id, mid.id}  # the trauma centres
    assert [p["triage"] for p in board["patients"]][:8] == ["immediate"] * 8
    [ev] = events_of("incident.patients_distributed")
    assert ev.payload["assigned"] == 40 and ev.subject_id == str(inc["id"])
    # Nothing is left waiting: a second distribution is refused and changes nothing.
    with pytest.raises(Conflict):
        patients.distribute(incident_id=inc["id"], actor=ACTOR, use_network=False)
    # Patients on their way count against the beds: a second incident finds them full.
    other = log(type="mass_casualty", disease=None, patients=2)
    register(other["id"], 1, "delayed")
    again = patients.distribute(incident_id=other["id"], actor=ACTOR, use_network=False)
    assert again["assigned"] == 0 and again["unplaced"] == 1


def test_load_and_hand_over_take_a_bed_and_are_logged(app):
    h = hospital("市中心医院", 5, 113.13, 41.0)
    unit = mf.unit(call_sign="乌120-MCI")
    spare = mf.unit(call_sign="乌120-other")
    inc = log(type="mass_casualty", disease=None, patients=1)
    p = register(inc["id"], 1, "immediate", name="李四")
    with pytest.raises(Conflict):  # no destination yet
        patients.load(patient_id=p["id"], unit_id=unit.id, version=p["version"], actor=ACTOR)
    patients.distribute(incident_id=inc["id"], actor=ACTOR, use_network=False)
    p = patient_boards.incident_board(incident_id=inc["id"])["patients"][0]
    assert p["destination_id"] == h.id and p["status"] == "assigned"
    dispatch(inc["id"], unit.id)
    with pytest.raises(ValidationFailed):  # not working this incident
        patients.load(patient_id=p["id"], unit_id=spare.id, version=p["version"], actor=ACTOR)
    loaded = patients.load(patient_id=p["id"], unit_id=unit.id, version=p["version"],
                           actor=ACTOR)
    assert loaded["status"] == "transporting" and loaded["unit"] == "乌120-MCI"
    with pytest.raises(Conflict):  # stale version
        patients.hand_over(patient_id=p["id"], version=p["version"], actor=ACTOR)
    before = mf.get(Facility, h.id).figures["general_bed"]["occupied"]
    done = patients.hand_over(patient_id=p["id"], version=loaded["version"], actor=ACTOR)
    assert done["status"] == "handed_over" and done["handed_over_at"]
    assert mf.get(Facility, h.id).figures["general_bed"]["occupied"] == before + 1
    with db.reading() as s:
        report = s.scalars(select(CapacityReport).order_by(CapacityReport.id.desc())).first()
        assert "T-001" in report.note
    hb = patient_boards.hospital_board(facility_id=h.id)
    assert [r["tag"] for r in hb["handed_over"]] == ["T-001"] and hb["incoming"] == []
    types = [e.type for e in events_of("incident.patient_loaded")
             + events_of("incident.patient_handed_over")]
    assert types == ["incident.patient_loaded", "incident.patient_handed_over"]


def test_tags_are_unique_per_incident_and_a_closed_incident_refuses(app):
    inc = log(type="mass_casualty", disease=None, patients=3)
    register(inc["id"], 1, "minor")
    with pytest.raises(Conflict):
        register(inc["id"], 1, "delayed")
    other = log(type="mass_casualty", disease=None, patients=1)
    register(other["id"], 1, "minor")  # the same tag on another incident is fine
    p = patient_boards.incident_board(incident_id=inc["id"])["patients"][0]
    released = patients.release(patient_id=p["id"], version=p["version"], actor=ACTOR)
    assert released["status"] == "released"
    to(inc["id"], "cancelled")
    with pytest.raises(Conflict):
        register(inc["id"], 2, "minor")
    with db.reading() as s:
        assert len(list(s.scalars(select(Patient).where(Patient.incident_id == inc["id"])))) \
            == 1


def test_names_and_id_numbers_are_masked_and_never_logged(app):
    inc = log(type="mass_casualty", disease=None, patients=1)
    register(inc["id"], 7, "delayed", name="欧阳娜娜", id_number="150902199001011234")
    row = patient_boards.incident_board(incident_id=inc["id"])["patients"][0]
    assert row["name"] == "欧***" and row["id_number"] == "150***********1234"
    found = patient_boards.find_patients(query="娜娜")
    assert [r["tag"] for r in found] == ["T-007"] and found[0]["name"] == "欧***"
    assert patient_boards.find_patients(query="150902199001011234")[0]["tag"] == "T-007"
    assert patient_boards.find_patients(query="%%") == []  # a wildcard is text, not "everyone"
    with pytest.raises(ValidationFailed):
        patient_boards.find_patients(query="欧")
    with db.reading() as s:
        logged = json.dumps([e.payload for e in s.scalars(select(Event))], ensure_ascii=False)
    assert "娜娜" not in logged and "199001011234" not in logged


def test_command_room_counts(app):
    inc = log(type="mass_casualty", disease=None, patients=3)
    for n, t in enumerate(["immediate", "immediate", "minor"], start=1):
        register(inc["id"], n, t)
    [row] = [r for r in incidents_panel("live")["rows"] if r["id"] == inc["id"]]
    assert row["triage"] == {"immediate": 2, "minor": 1, "total": 3}


def test_pages_and_api_are_role_checked_escaped_and_refuse_bad_input(app, auth, make_user):
    hospital("市中心医院", 5, 113.13, 41.0)
    inc = log(type="mass_casualty", disease=None, patients=2)
    make_user("trainer", username="tr")
    auth.login("tr")
    url = f"/api/incidents/{inc['id']}/patients"
    assert auth.post_json(url, {"tag": "A", "triage": "minor"}).status_code == 403
    auth.client.get("/logout")
    make_user("operator", username="op")
    auth.login("op")
    r = auth.post_json(url, {"tag": "A-1", "triage": "immediate", "name": "<script>x</script>"})
    assert r.status_code == 201, r.text
    for bad in ({"tag": "", "triage": "minor"}, {"tag": "B", "triage": "purple"},
                {"tag": "B", "triage": "minor", "age": 400}, {"tag": "A-1", "triage": "minor"}):
        assert auth.post_json(url, bad).status_code in (400, 409, 422), bad
    assert auth.post_json(f"/api/incidents/{inc['id']}/patients/distribute",
                          {}).status_code == 200
    board = auth.client.get(url).get_json()
    assert board["counts"]["status"] == {"assigned": 1}
    pid = board["patients"][0]["id"]
    assert auth.post_json(f"/api/patients/{pid}/hand-over", {"version": 99}).status_code == 409
    assert auth.post_json(f"/api/patients/{pid}/hand-over", {}).status_code in (400, 422)
    assert auth.client.get("/api/patients?q=x").status_code == 400
    # The page: the form registers, the name is masked and escaped, CSRF is required.
    html = auth.client.get(f"/incidents/{inc['id']}/patients").get_data(as_text=True)
    assert 'id="patient-form"' in html and "<script>x" not in html
    token = csrf_from(html)
    r = auth.client.post(f"/incidents/{inc['id']}/patients",
                         data={"csrf_token": token, "tag": "B-2", "triage": "minor",
                               "name": "张三", "age": "30"})
    assert r.status_code == 302
    r = auth.client.post(f"/incidents/{inc['id']}/patients",
                         data={"csrf_token": token, "tag": "B-3", "triage": "nope"},
                         follow_redirects=True)
    assert 'class="flash flash-error"' in r.get_data(as_text=True)
    assert auth.client.post(f"/incidents/{inc['id']}/patients",
                            data={"tag": "B-4", "triage": "minor"}).status_code == 400
    html = auth.client.get(f"/incidents/{inc['id']}/patients").get_data(as_text=True)
    assert "张*" in html and "张三" not in html
    p = next(x for x in patient_boards.incident_board(incident_id=inc["id"])["patients"]
             if x["tag"] == "B-2")
    r = auth.client.post(f"/patients/{p['id']}/release",
                         data={"csrf_token": token, "version": p["version"],
                               "incident_id": inc["id"]})
    assert r.status_code == 302 and f"/incidents/{inc['id']}/patients" in r.headers["Location"]
    r = auth.client.post(f"/patients/{p['id']}/release",
                         data={"csrf_token": token, "version": "x", "incident_id": inc["id"]},
                         follow_redirects=True)
    assert 'class="flash flash-error"' in r.get_data(as_text=True)
    f = mf.get(Facility, board["patients"][0]["destination_id"])
    page = auth.client.get(f"/facilities/{f.id}/patients").get_data(as_text=True)
    assert 'id="incoming"' in page and "A-1" in page and "&lt;*" in page
    desk = auth.client.get("/patients/find?q=张三").get_data(as_text=True)
    assert "B-2" in desk and "张三" not in desk.split('name="q"')[1].split("</form>")[1]
