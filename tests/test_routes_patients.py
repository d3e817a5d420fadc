"""Every route of the mass-casualty patient boards, API and pages, requested as a user would.

The scenario tests (test_mci_patients.py) drive the service; here each route is asked
once with a literal URL, so the route check (test_route_coverage.py) sees it.
"""

from __future__ import annotations

from . import map_factories as mf
from .support import csrf_from
from .test_incidents import dispatch, log
from .test_mci_patients import hospital


def _board(auth, incident_id):
    return auth.client.get(f"/api/incidents/{incident_id}/patients").get_json()


def test_the_patient_api_from_registration_to_release(app, auth, make_user):
    h = hospital("市中心医院", 5, 113.13, 41.0)
    other = hospital("第二医院", 5, 113.2, 41.05)
    unit = mf.unit(call_sign="乌120-R1")
    inc = log(type="mass_casualty", disease=None, patients=2)
    dispatch(inc["id"], unit.id)
    make_user("operator", username="op")
    auth.login("op")
    iid = inc["id"]
    r = auth.post_json(f"/api/incidents/{iid}/patients", {"tag": "R-1", "triage": "delayed"})
    assert r.status_code == 201, r.text
    auth.post_json(f"/api/incidents/{iid}/patients", {"tag": "R-2", "triage": "minor"})
    board = _board(auth, iid)
    assert [p["tag"] for p in board["patients"]] == ["R-1", "R-2"]
    first, second = board["patients"]
    r = auth.post_json(f"/api/patients/{first['id']}/triage",
                       {"triage": "immediate", "version": first["version"]})
    assert r.status_code == 200 and r.get_json()["triage"] == "immediate"
    assert auth.post_json(f"/api/incidents/{iid}/patients/distribute", {}).status_code == 200
    first = next(p for p in _board(auth, iid)["patients"] if p["tag"] == "R-1")
    r = auth.post_json(f"/api/patients/{first['id']}/destination",
                       {"facility_id": other.id, "version": first["version"]})
    assert r.status_code == 200 and r.get_json()["destination_id"] == other.id
    r = auth.post_json(f"/api/patients/{first['id']}/load",
                       {"unit_id": unit.id, "version": r.get_json()["version"]})
    assert r.status_code == 200 and r.get_json()["status"] == "transporting"
    arriving = auth.client.get(f"/api/facilities/{other.id}/patients").get_json()
    assert [p["tag"] for p in arriving["incoming"]] == ["R-1"]
    assert auth.client.get(f"/api/facilities/{h.id}/patients").status_code == 200
    second = next(p for p in _board(auth, iid)["patients"] if p["tag"] == "R-2")
    r = auth.post_json(f"/api/patients/{second['id']}/release",
                       {"version": second["version"]})
    assert r.status_code == 200 and r.get_json()["status"] == "released"
    assert auth.post_json(f"/api/patients/{second['id']}/release",
                          {"version": second["version"]}).status_code == 409


def test_the_patient_pages_post_their_forms(app, auth, make_user):
    hospital("市中心医院", 5, 113.13, 41.0)
    unit = mf.unit(call_sign="乌120-R2")
    inc = log(type="mass_casualty", disease=None, patients=1)
    dispatch(inc["id"], unit.id)
    make_user("operator", username="op")
    auth.login("op")
    iid = inc["id"]
    html = auth.client.get(f"/incidents/{iid}/patients").get_data(as_text=True)
    token = csrf_from(html)
    assert auth.client.post(f"/incidents/{iid}/patients", data={
        "csrf_token": token, "tag": "P-1", "triage": "delayed"}).status_code == 302
    p = _board(auth, iid)["patients"][0]
    assert auth.client.post(f"/patients/{p['id']}/triage", data={
        "csrf_token": token, "triage": "immediate",
        "version": p["version"]}).status_code == 302
    assert auth.client.post(f"/incidents/{iid}/patients/distribute",
                            data={"csrf_token": token}).status_code == 302
    p = _board(auth, iid)["patients"][0]
    assert p["triage"] == "immediate" and p["status"] == "assigned"
    assert auth.client.post(f"/patients/{p['id']}/load", data={
        "csrf_token": token, "unit_id": unit.id, "version": p["version"]}).status_code == 302
    p = _board(auth, iid)["patients"][0]
    assert p["status"] == "transporting"
    assert auth.client.post(f"/patients/{p['id']}/hand-over", data={
        "csrf_token": token, "version": p["version"]}).status_code == 302
    assert _board(auth, iid)["patients"][0]["status"] == "handed_over"
    # Without the form's token nothing changes.
    assert auth.client.post(f"/incidents/{iid}/patients",
                            data={"tag": "P-2", "triage": "minor"}).status_code == 400
