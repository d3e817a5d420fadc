"""CAP 1.2: XXE-safe parsing, schema then rules, geometry, and schema-valid export."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from lxml import etree
from shapely.geometry import shape

from coordination.incidents import cap
from coordination.incidents.cap import CapError, parse_cap
from coordination.incidents.cap_export import CapExport, build_cap, cap_time
from coordination.incidents.cap_location import alert_location

from .cap_samples import CIRCLE, POLYGON, VALID, alert, swap


def test_valid_alert_parses_with_its_fields():
    a = parse_cap(alert())
    assert a.identifier == "NMG-CDC-2026-0042"
    assert a.sent == datetime(2026, 11, 30, 1, 15, tzinfo=UTC)
    info = a.infos[0]
    assert info.event_codes == {"disease": "plague", "incident_type": "suspected_case"}
    assert info.parameters == {"patients": "2"}
    ring = info.areas[0].polygons[0]
    assert ring[0] == (113.10, 41.40)  # stored lon-first; CAP writes lat-first


def test_polygon_becomes_area_and_centroid():
    loc = alert_location(parse_cap(alert()))
    assert loc.lon == pytest.approx(113.15, abs=1e-3)
    assert loc.lat == pytest.approx(41.43, abs=1e-3)
    assert shape(loc.area).geom_type == "Polygon"
    assert loc.description == "察右后旗白音察干镇"


def test_circle_becomes_a_disc_of_its_radius():
    loc = alert_location(parse_cap(alert(CIRCLE)))
    assert (loc.lon, loc.lat) == pytest.approx((113.15, 41.43), abs=1e-4)
    import geopandas as gpd

    disc = gpd.GeoSeries([shape(loc.area)], crs="EPSG:4326").to_crs("EPSG:32649").iloc[0]
    assert disc.area == pytest.approx(3.14159 * 2500 ** 2, rel=0.01)


def test_zero_radius_circle_is_a_point():
    loc = alert_location(parse_cap(alert("<circle>41.43,113.15 0</circle>")))
    assert loc.area is None and loc.lat == pytest.approx(41.43)


def test_no_area_gives_no_location():
    start, end = VALID.index("<area>"), VALID.index("</area>") + len("</area>")
    body = VALID[:start] + VALID[end:]
    assert alert_location(parse_cap(body.encode())) is None


# --- layer one: the schema ---------------------------------------------------------


@pytest.mark.parametrize("old,new,why", [
    ("<status>Actual</status>", "<status>Real</status>", "status"),
    ("<sender>cdc.ulanqab.example</sender>", "", "sender"),
    ("<msgType>Alert</msgType>\n  <scope>Restricted</scope>",
     "<scope>Restricted</scope>\n  <msgType>Alert</msgType>", "scope"),  # order is fixed
    ("<sent>2026-11-30T09:15:00+08:00</sent>", "<sent>2026-11-30T01:15:00Z</sent>", "sent"),
    ("<sent>2026-11-30T09:15:00+08:00</sent>", "<sent>2026-11-30T09:15:00.5+08:00</sent>",
     "sent"),
    ("<sent>2026-11-30T09:15:00+08:00</sent>", "<sent>2026-11-30T09:15:00</sent>", "sent"),
    ("<urgency>Immediate</urgency>", "<urgency>Now</urgency>", "urgency"),
])
def test_schema_layer_rejects(old, new, why):
    with pytest.raises(CapError) as err:
        parse_cap(swap(VALID, old, new))
    text = str(err.value)
    assert "schema" in text and why in text


def test_not_cap_at_all():
    with pytest.raises(CapError, match="root element"):
        parse_cap(b"<alert xmlns='urn:example'/>")
    with pytest.raises(CapError, match="well-formed"):
        parse_cap(b"<alert")
    with pytest.raises(CapError, match="empty"):
        parse_cap(b"  ")


# --- layer two: the specification's rules ------------------------------------------------


@pytest.mark.parametrize("area,why", [
    ("<polygon>41.40,113.10 41.40,113.20 41.46,113.20 41.46,113.10</polygon>", "does not close"),
    ("<polygon>41.40,113.10 41.40,113.20 41.40,113.10</polygon>", "at least 4"),
    ("<polygon>113.10,41.40 113.20,41.40 113.20,41.46 113.10,41.46 113.10,41.40</polygon>",
     "out of range"),
    ("<polygon>41.40,113.10 41.46,113.20 41.40,113.20 41.46,113.10 41.40,113.10</polygon>",
     "crosses itself"),
    ("<polygon>41.40;113.10 41.40,113.20 41.46,113.20 41.40,113.10</polygon>", "lat,lon"),
    ("<circle>41.43,113.15</circle>", "radius in km"),
    ("<circle>41.43,113.15 -3</circle>", "out of range"),
    ("<circle>41.43,113.15 far</circle>", "not a number"),
])
def test_rules_layer_rejects_bad_geometry(area, why):
    with pytest.raises(CapError, match=why):
        parse_cap(alert(area))


def test_rules_layer_checks_references_identifiers_and_scope():
    update = swap(VALID, "<msgType>Alert</msgType>", "<msgType>Update</msgType>")
    with pytest.raises(CapError, match="references"):
        parse_cap(update)
    bad_refs = swap(VALID, "<restriction>Health authorities</restriction>",
                    "<restriction>Health authorities</restriction>\n"
                    "  <references>cdc.ulanqab.example,NMG-1 "
                    "other,2026-11-30T09:00:00Z</references>")
    with pytest.raises(CapError) as err:
        parse_cap(bad_refs)
    assert len(err.value.reasons) == 2  # a pair, and a triplet whose time has a Z
    assert "sender,identifier,sent" in err.value.reasons[0]
    good = swap(VALID, "<restriction>Health authorities</restriction>",
                "<restriction>Health authorities</restriction>\n  <references>"
                "cdc.ulanqab.example,NMG-1,2026-11-30T09:00:00+08:00</references>")
    assert parse_cap(good).references == [("cdc.ulanqab.example", "NMG-1",
                                           "2026-11-30T09:00:00+08:00")]
    with pytest.raises(CapError, match="identifier"):
        parse_cap(swap(VALID, "NMG-CDC-2026-0042", "NMG CDC,42"))
    with pytest.raises(CapError, match="restriction"):
        parse_cap(swap(VALID, "<restriction>Health authorities</restriction>", ""))


def test_every_reason_is_reported_at_once():
    body = swap(VALID, "NMG-CDC-2026-0042", "NMG 42",
                area="<circle>41.43,113.15</circle><circle>91,113 1</circle>")
    with pytest.raises(CapError) as err:
        parse_cap(body)
    assert len(err.value.reasons) == 3


# --- XXE and friends ----------------------------------------------------------------


def test_external_file_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD")
    payload = (f'<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
               + VALID.split("\n", 1)[1].replace("察右后旗疑似鼠疫病例", "&xxe;")
               .replace("{area}", POLYGON))
    with pytest.raises(CapError, match="DOCTYPE") as err:
        parse_cap(payload.encode())
    assert "TOP-SECRET" not in str(err.value)
    # Below the DOCTYPE refusal, the parser itself does not expand the entity either.
    root = etree.fromstring(payload.encode(), cap._parser())
    assert b"TOP-SECRET" not in etree.tostring(root)


def test_network_entity_and_dtd_are_never_fetched():
    hits: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(2)
    port = server.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = server.accept()
            hits.append(conn.recv(1024))
            conn.close()
        except OSError:
            pass

    t = threading.Thread(target=serve)
    t.start()
    payload = (f'<?xml version="1.0"?>\n<!DOCTYPE alert SYSTEM "http://127.0.0.1:{port}/cap.dtd" '
               f'[<!ENTITY net SYSTEM "http://127.0.0.1:{port}/x">]>\n'
               '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&net;</alert>')
    with pytest.raises(CapError, match="DOCTYPE"):
        parse_cap(payload.encode())
    etree.fromstring(payload.encode(), cap._parser())
    t.join()
    server.close()
    assert hits == []


def test_billion_laughs_is_refused_quickly():
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                     for i in range(1, 10))
           + ']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol9;</alert>')
    with pytest.raises(CapError):
        parse_cap(lol.encode())


def test_oversize_is_refused():
    with pytest.raises(CapError, match="larger"):
        parse_cap(b" " * (cap.MAX_BYTES + 1))


# --- export -----------------------------------------------------------------------------


def test_cap_time_writes_offsets_and_utc_as_minus_zero():
    assert cap_time(datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)) == \
        "2026-11-30T01:02:03-00:00"
    cst = timezone(timedelta(hours=8))
    assert cap_time(datetime(2026, 11, 30, 9, 2, 3, tzinfo=cst)) == "2026-11-30T09:02:03+08:00"
    with pytest.raises(ValueError):
        cap_time(datetime(2026, 1, 1))


def _export(**kw) -> CapExport:
    base = dict(identifier="coordination.live.incident.7", sender="coordination.test",
                sent=datetime(2026, 11, 30, 2, 0, 0, 123, tzinfo=UTC), status="Actual",
                event="Plague", headline="Suspected plague <&> case", description="a & b",
                urgency="Immediate", severity="Severe", certainty="Likely",
                area_description="Jining", lon=113.1, lat=41.0,
                effective=datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    base.update(kw)
    return CapExport(**base)


def test_export_validates_and_round_trips():
    xml = build_cap(_export(references=[("cdc.ulanqab.example", "NMG-1",
                                         "2026-11-30T09:00:00+08:00")]))
    tree = cap.parse_xml(xml)
    assert cap.validate_schema(tree) == []
    a = parse_cap(xml)
    assert a.sent.isoformat() == "2026-11-30T02:00:00+00:00"
    assert b"<sent>2026-11-30T02:00:00-00:00</sent>" in xml
    assert a.infos[0].headline == "Suspected plague <&> case"
    assert a.infos[0].areas[0].circles == [(113.1, 41.0, 0.0)]
    assert a.references[0][1] == "NMG-1"


def test_export_of_an_area_writes_lat_first_closed_polygons():
    ring = [[113.1, 41.4], [113.2, 41.4], [113.2, 41.46], [113.1, 41.46], [113.1, 41.4]]
    xml = build_cap(_export(area={"type": "Polygon", "coordinates": [ring]}))
    a = parse_cap(xml)
    assert a.infos[0].areas[0].polygons[0][0] == (113.1, 41.4)
    assert b"41.400000,113.100000" in xml


# --- import and export through the service, the API and the CLI -------------------------

CAP_TYPE = {"Content-Type": "application/cap+xml"}


def _operator(make_user, auth):
    make_user("operator", username="op")
    auth.login("op")
    return auth


def _post(auth, body: bytes):
    return auth.client.post("/api/incidents/cap", data=body,
                            headers=CAP_TYPE | {"X-CSRFToken": auth.csrf})


def _counts():
    from sqlalchemy import func, select

    from coordination.events import Event
    from coordination.extensions import db
    from coordination.incidents.cap_models import CapMessage
    from coordination.incidents.models import Incident

    with db.reading() as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (Incident, CapMessage, Event))


def test_api_import_creates_the_incident_and_export_validates(app, make_user, auth):
    _operator(make_user, auth)
    resp = _post(auth, alert())
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["type"], body["disease"], body["patients"]) == ("suspected_case", "plague", 2)
    assert body["lon"] == pytest.approx(113.15, abs=1e-3)
    assert body["source"] == "cap"
    assert body["external_ref"] == ("cdc.ulanqab.example,NMG-CDC-2026-0042,"
                                    "2026-11-30T09:15:00+08:00")
    assert body["deadline_rule"] == "notifiable-2026.class-a"  # 2 h from 08:40 +08:00
    assert datetime.fromisoformat(body["report_deadline"]) == datetime(2026, 11, 30, 2, 40,
                                                                       tzinfo=UTC)
    assert body["cap"]["area"]["type"] == "Polygon"

    out = auth.client.get(f"/api/incidents/{body['id']}/cap")
    assert out.status_code == 200 and out.mimetype == "application/cap+xml"
    tree = cap.parse_xml(out.data)
    assert cap.validate_schema(tree) == []
    exported = parse_cap(out.data)
    assert exported.status == "Actual"
    assert exported.references == [("cdc.ulanqab.example", "NMG-CDC-2026-0042",
                                    "2026-11-30T09:15:00+08:00")]
    assert exported.infos[0].event_codes["disease"] == "plague"
    ring = exported.infos[0].areas[0].polygons[0]
    assert (113.10, 41.40) in [(round(x, 2), round(y, 2)) for x, y in ring]
    assert b"-00:00</sent>" in out.data and b"Z<" not in out.data


def test_api_refuses_bad_cap_with_reasons_and_changes_nothing(app, make_user, auth):
    _operator(make_user, auth)
    before = _counts()
    bad = alert("<polygon>41.40,113.10 41.40,113.20 41.46,113.20 41.46,113.10</polygon>")
    with force_locale("en"):
        resp = _post(auth, bad)
    assert resp.status_code == 400
    assert "未闭合" in resp.get_json()["error"]  # the user's language (zh-CN), all of it
    assert "does not close" not in resp.get_json()["error"]
    assert resp.get_json()["details"]
    resp = _post(auth, b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x SYSTEM "
                       b"'file:///etc/passwd'>]><alert "
                       b"xmlns='urn:oasis:names:tc:emergency:cap:1.2'>&x;</alert>")
    assert resp.status_code == 400 and "root:" not in resp.get_data(as_text=True)
    outside = alert("<circle>30.0,113.15 1</circle>")  # south of Inner Mongolia
    assert _post(auth, outside).status_code == 400
    test = swap(VALID, "<status>Actual</status>", "<status>Test</status>")
    with force_locale("en"):
        assert "Actual" in _post(auth, test).get_json()["error"]
    assert _counts() == before


def test_the_same_alert_twice_is_a_conflict(app, make_user, auth):
    _operator(make_user, auth)
    first = _post(auth, alert(CIRCLE))
    assert first.status_code == 201
    before = _counts()
    again = _post(auth, alert(CIRCLE))
    assert again.status_code == 409
    assert str(first.get_json()["id"]) in again.get_json()["error"]
    assert _counts() == before


def test_only_operators_import_and_tokens_work(app, make_user, client):
    from coordination.auth import service
    from coordination.events import Actor

    _tok, secret = service.create_token(name="cdc-feed", roles=["operator"],
                                        actor=Actor.system("t"))
    resp = client.post("/api/incidents/cap", data=alert(),
                       headers=CAP_TYPE | {"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 201
    _tok, liaison = service.create_token(name="l", roles=["liaison"], actor=Actor.system("t"))
    resp = client.post("/api/incidents/cap", data=alert(CIRCLE),
                       headers=CAP_TYPE | {"Authorization": f"Bearer {liaison}"})
    assert resp.status_code == 403
    assert client.get("/api/incidents/999999/cap",
                      headers={"Authorization": f"Bearer {secret}"}).status_code == 404


def test_export_of_an_operator_logged_incident(app, make_user, auth):
    from coordination.events import Actor
    from coordination.incidents import cap_service
    from coordination.incidents import service as incidents
    from coordination.incidents.schemas import IncidentIn

    made = incidents.create_incident(data=IncidentIn(
        type="confirmed_case", disease="plague", lon=113.13, lat=41.03,
        address="集宁区 <b>x</b>", patients=1, notes="a & b"), actor=Actor.system("t"))
    xml = cap_service.export_cap(incident_id=made["id"], sender="ops.example")
    a = parse_cap(xml)
    assert a.sender == "ops.example" and a.references == []
    assert a.infos[0].certainty == "Observed"
    assert a.infos[0].areas[0].description == "集宁区 <b>x</b>"
    assert a.infos[0].areas[0].circles == [(113.13, 41.03, 0.0)]


def test_cli_import_cap(app, tmp_path, database_url):
    import os
    import subprocess
    import sys

    good, bad = tmp_path / "alert.xml", tmp_path / "bad.xml"
    good.write_bytes(alert(CIRCLE))
    bad.write_bytes(alert("<circle>41.43,113.15</circle>"))
    env = dict(os.environ, COORDINATION_DATABASE_URL=database_url,
               COORDINATION_INSTANCE_PATH=str(tmp_path / "instance"))
    env.pop("COORDINATION_REDIS_URL", None)
    ok = subprocess.run([sys.executable, "-m", "coordination.cli", "import-cap", str(good)],
                        env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Created incident #" in ok.stdout and "notifiable-2026.class-a" in ok.stdout
    no = subprocess.run([sys.executable, "-m", "coordination.cli", "import-cap", str(bad)],
                        env=env, capture_output=True, text=True, timeout=120)
    assert no.returncode == 1 and "半径单位为公里" in no.stderr  # the default locale


def test_two_imports_of_one_alert_at_once_make_one_incident(app):
    from concurrent.futures import ThreadPoolExecutor

    from coordination.errors import Conflict
    from coordination.events import Actor
    from coordination.incidents import cap_service

    before = _counts()

    def attempt(_n: int) -> str:
        with app.app_context():
            try:
                cap_service.import_cap(data=alert(CIRCLE), actor=Actor.system("t"))
                return "created"
            except Conflict:
                return "conflict"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["conflict"] * 3 + ["created"]
    incidents_after, messages_after, _events = _counts()
    assert (incidents_after, messages_after) == (before[0] + 1, before[1] + 1)


def test_a_refused_incident_leaves_no_cap_record(app):
    from coordination.errors import ValidationFailed
    from coordination.events import Actor
    from coordination.geo.region import BBox
    from coordination.incidents import cap_service

    before = _counts()
    with pytest.raises(ValidationFailed):  # the region check happens in create_incident
        cap_service.import_cap(data=alert(CIRCLE), actor=Actor.system("t"),
                               region=BBox.parse("100,30,101,31"))
    assert _counts() == before
    assert cap_service.import_cap(data=alert(CIRCLE), actor=Actor.system("t"))["id"]


def test_a_refused_alerts_field_problems_are_in_the_readers_language(app, make_user, auth):
    """The model's checks (here: 20 000 patients) reach the sender in one language: the
    error and every entry of ``details``, never pydantic's English in a zh-CN reply."""
    import re

    from coordination.extensions import db

    _operator(make_user, auth)  # zh-CN, the default
    before = _counts()
    huge = swap(VALID, "<value>2</value>", "<value>20000</value>")
    body = _post(auth, huge).get_json()
    assert "patients" in body["error"] and "过大" in body["error"]
    assert body["details"] and all(re.search(r"[\u4e00-\u9fff]", d) for d in body["details"])
    assert not any("Input should" in d or "less than" in d for d in body["details"])
    with db.reading():
        assert _counts() == before
    make_user("operator", username="op-en", locale="en")
    from .conftest import Auth

    en = Auth(app.test_client())
    en.login("op-en")
    body = en.client.post("/api/incidents/cap", data=huge,
                          headers=CAP_TYPE | {"X-CSRFToken": en.csrf}).get_json()
    assert body["details"] == ["patients is too large."]
    assert not re.search(r"[\u4e00-\u9fff]", body["error"])
