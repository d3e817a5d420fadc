"""CAP alerts written like real ones: what each means as an incident (issues #14, #23).

Chinese and English event names, eventCode (``disease``, ICD-10) and parameter
variants, circle / polygon / GB/T 2260 geocode areas, multi-info alerts, Update
and Cancel by reference, and the duplicates two command rooms exchanging CAP
would otherwise make.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from shapely.geometry import Point, shape

from coordination.incidents import cap

CAP_TYPE = {"Content-Type": "application/cap+xml"}
CIRCLE = "<circle>41.43,113.15 2.5</circle>"
POLYGON = ("<polygon>41.40,113.10 41.40,113.20 41.46,113.20 41.46,113.10 "
           "41.40,113.10</polygon>")
ZHUOZI = "<geocode><valueName>GB/T 2260</valueName><value>150921</value></geocode>"
ZHUOZI_SEAT = (112.5776, 40.8945)


def info(event: str, *, codes: str = "", params: str = "", area: str = CIRCLE,
         severity: str = "Severe", urgency: str = "Immediate", certainty: str = "Likely",
         category: str = "Health", language: str = "zh-CN", headline: str = "",
         description: str = "") -> str:
    return f"""
  <info>
    <language>{language}</language>
    <category>{category}</category>
    <event>{event}</event>
    <urgency>{urgency}</urgency>
    <severity>{severity}</severity>
    <certainty>{certainty}</certainty>
    {codes}
    <effective>2026-11-30T08:40:00+08:00</effective>
    <senderName>乌兰察布市疾控中心</senderName>
    <headline>{headline or event}</headline>
    <description>{description}</description>
    {params}
    <area><areaDesc>察右后旗白音察干镇</areaDesc>{area}</area>
  </info>"""


def alert(*infos: str, ident: str = "NMG-CDC-2026-0100", msg_type: str = "Alert",
          refs: str = "", sender: str = "cdc.ulanqab.example") -> bytes:
    references = f"<references>{refs}</references>" if refs else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{ident}</identifier>
  <sender>{sender}</sender>
  <sent>2026-11-30T09:15:00+08:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}{''.join(infos)}
</alert>""".encode()


def code(name: str, value: str, tag: str = "eventCode") -> str:
    return f"<{tag}><valueName>{name}</valueName><value>{value}</value></{tag}>"


@pytest.fixture
def op(make_user, auth):
    make_user("operator", username="op")
    auth.login("op")
    return auth


def post(auth, body: bytes):
    return auth.client.post("/api/incidents/cap", data=body,
                            headers=CAP_TYPE | {"X-CSRFToken": auth.csrf})


def ok(auth, body: bytes, status: int = 201) -> dict:
    resp = post(auth, body)
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


# (event and codes, expected type, disease, priority, deadline rule, unclassified)
REALISTIC = [
    (info("疑似鼠疫病例"), "suspected_case", "plague", 1, "notifiable-2026.class-a", False),
    (info("Suspected plague case", language="en-US", area=POLYGON),
     "suspected_case", "plague", 1, "notifiable-2026.class-a", False),
    (info("COVID-19 cluster", language="en-US", severity="Moderate", urgency="Expected"),
     "cluster", "covid19", 3, "notifiable-2026.new-unexplained-outbreak", False),
    (info("霍乱确诊病例", severity="Extreme"),
     "confirmed_case", "cholera", 1, "notifiable-2026.class-a", False),
    (info("Public health alert", language="en-US", certainty="Observed",
          codes=code("ICD-10", "A20.0")),
     "confirmed_case", "plague", 1, "notifiable-2026.class-a", False),
    (info("突发公共卫生事件", params=code("disease", "肺炭疽", "parameter")),
     "suspected_case", "pneumonic_anthrax", 1, "notifiable-2026.class-a", False),
    (info("新冠肺炎聚集性疫情", codes=code("disease", "covid19"), severity="Moderate"),
     "cluster", "covid19", 2, "notifiable-2026.new-unexplained-outbreak", False),
    (info("人感染H7N9禽流感疑似病例"),
     "suspected_case", "hpai", 1, "notifiable-2026.class-a", False),
    (info("麻疹疑似病例", severity="Minor", urgency="Future"),
     "suspected_case", "measles", 4, "notifiable-2026.other-notifiable", False),
    (info("不明原因发热聚集", urgency="Expected"),
     "cluster", "unexplained", 2, "notifiable-2026.new-unexplained-outbreak", False),
    (info("Other", language="en-US", severity="Moderate", urgency="Expected"),
     "other", None, 3, "notifiable-2026.not-required", True),
    (info("Dragon pox", language="en-US", codes=code("disease", "dragon pox")),
     "other", None, 1, "notifiable-2026.not-required", True),
    (info("学校食物中毒", area=ZHUOZI, severity="Moderate"),
     "food_poisoning", None, 2, "notifiable-2026.new-unexplained-outbreak", False),
]


@pytest.mark.parametrize("block,kind,disease,priority,rule,unclassified", REALISTIC,
                         ids=[f"alert{n}" for n in range(len(REALISTIC))])
def test_realistic_alerts_mean_what_they_say(op, block, kind, disease, priority, rule,
                                             unclassified):
    body = ok(op, alert(block))
    assert (body["type"], body["disease"], body["priority"]) == (kind, disease, priority)
    assert body["deadline_rule"] == rule
    assert (body["report_deadline"] is None) == rule.endswith("not-required")
    assert body["cap"]["unclassified"] is unclassified


def test_an_unclassified_alert_is_flagged_to_operators(op):
    body = ok(op, alert(info("Other", language="en-US")))
    timeline = op.client.get(f"/api/incidents/{body['id']}?timeline=1").get_json()
    kinds = [e["type"] for e in timeline.get("timeline", [])] or _types(body["id"])
    assert "cap.unclassified" in kinds


def _types(incident_id: int) -> list[str]:
    from coordination.incidents import service

    return [e["type"] for e in service.timeline(incident_id=incident_id)]


def test_other_is_not_the_catalogue_id_other():
    from coordination.incidents import cap_meaning

    parsed = cap.parse_cap(alert(info("Other", language="en-US")))
    found = cap_meaning.meaning(parsed.infos[0])
    assert (found.type.value, found.disease, found.unclassified) == ("other", None, True)


def test_multi_info_location_uses_the_health_info_only(op):
    sandstorm = info("沙尘暴", category="Met", area="<circle>40.99,112.56 10</circle>")
    plague = info("鼠疫", area="<circle>41.43,113.19 3</circle>")
    body = ok(op, alert(sandstorm, plague))
    assert (body["lon"], body["lat"]) == pytest.approx((113.19, 41.43), abs=1e-3)
    assert body["disease"] == "plague"
    assert shape(body["cap"]["area"]).contains(Point(113.19, 41.43))
    assert not shape(body["cap"]["area"]).contains(Point(112.56, 40.99))


def test_geocode_area_resolves_to_the_county_outline_and_seat(op):
    from coordination.events import Actor
    from coordination.geo import boundaries
    from coordination.geo.service import AreaIn, upsert_areas

    upsert_areas(areas=[AreaIn(code="150921", name_zh="卓资县", name_en="Zhuozi County",
                               level="county", parent_code="150900", lon=ZHUOZI_SEAT[0],
                               lat=ZHUOZI_SEAT[1], population=200000)],
                 actor=Actor.system("t"))
    body = ok(op, alert(info("疑似鼠疫病例", area=ZHUOZI)))
    assert (body["lon"], body["lat"]) == pytest.approx(ZHUOZI_SEAT, abs=1e-6)
    outline = shape(boundaries.by_code()["150921"]["geometry"])
    got = shape(body["cap"]["area"])
    assert got.symmetric_difference(outline).area < outline.area * 0.01


def test_geocode_without_a_seat_stands_inside_the_outline(op):
    from coordination.geo import boundaries

    twelve = "<geocode><valueName>行政区划代码</valueName><value>150921100000</value></geocode>"
    body = ok(op, alert(info("疑似鼠疫病例", area=twelve)))
    outline = shape(boundaries.by_code()["150921"]["geometry"])
    assert outline.contains(Point(body["lon"], body["lat"]))


@pytest.mark.parametrize("geocode,named", [
    ("<geocode><valueName>GB/T 2260</valueName><value>150101</value></geocode>", "150101"),
    ("<geocode><valueName>SAME</valueName><value>006113</value></geocode>", "SAME 006113"),
])
def test_unknown_geocodes_are_refused_naming_them(op, geocode, named):
    with force_locale("en"):
        resp = post(op, alert(info("疑似鼠疫病例", area=geocode)))
    assert resp.status_code == 400
    assert named in resp.get_json()["error"]


def test_update_applies_to_the_referenced_incident_and_cancel_cancels_it(op):
    first = ok(op, alert(info("Other", language="en-US"), ident="NMG-CDC-2026-0200"))
    assert first["type"] == "other"
    ref = "cdc.ulanqab.example,NMG-CDC-2026-0200,2026-11-30T09:15:00+08:00"
    update = alert(info("疑似鼠疫病例", params=code("patients", "3", "parameter"),
                        description="又发现两名密切接触者发热"),
                   ident="NMG-CDC-2026-0201", msg_type="Update", refs=ref)
    body = ok(op, update, 200)
    assert body["id"] == first["id"]
    assert (body["type"], body["disease"], body["patients"]) == ("suspected_case", "plague", 3)
    assert body["deadline_rule"] == "notifiable-2026.class-a"
    assert "又发现两名密切接触者发热" in body["notes"]
    assert body["cap"]["action"] == "updated"
    assert "cap.updated" in _types(first["id"])
    # A Cancel may reference the update: it names the same incident.
    cancel = alert(info("疑似鼠疫病例", description="复核排除"), ident="NMG-CDC-2026-0202",
                   msg_type="Cancel",
                   refs="cdc.ulanqab.example,NMG-CDC-2026-0201,2026-11-30T09:15:00+08:00")
    body = ok(op, cancel, 200)
    assert (body["id"], body["status"]) == (first["id"], "cancelled")
    assert "cap.cancelled" in _types(first["id"])


def test_update_and_cancel_of_an_unknown_alert_are_refused_with_the_reason(op):
    from .test_cap import _counts

    before = _counts()
    ref = "cdc.ulanqab.example,NEVER-SEEN,2026-11-30T09:00:00+08:00"
    for kind in ("Update", "Cancel"):
        with force_locale("en"):
            resp = post(op, alert(info("鼠疫"), ident=f"X-{kind}", msg_type=kind, refs=ref))
        assert resp.status_code == 400
        assert "NEVER-SEEN" in resp.get_json()["error"]
    assert _counts() == before


def test_cancel_of_a_closed_incident_leaves_no_record(op):
    from .test_cap import _counts

    ok(op, alert(info("鼠疫"), ident="A-1"))
    ref = "cdc.ulanqab.example,A-1,2026-11-30T09:15:00+08:00"
    ok(op, alert(info("鼠疫"), ident="A-2", msg_type="Cancel", refs=ref), 200)
    before = _counts()
    assert post(op, alert(info("鼠疫"), ident="A-3", msg_type="Cancel",
                          refs=ref)).status_code == 409
    assert _counts() == before


def test_our_own_export_and_alerts_about_known_ones_are_the_same_incident(op):
    from .test_cap import _counts

    first = ok(op, alert(info("疑似鼠疫病例")))
    exported = op.client.get(f"/api/incidents/{first['id']}/cap").data
    before = _counts()
    resp = post(op, exported)  # our own export, back from a partner
    assert resp.status_code == 409 and f"#{first['id']}" in resp.get_json()["error"]
    # A partner's alert that references the one already imported here.
    relay = alert(info("疑似鼠疫病例"), ident="RELAY-7", sender="cdc.nmg.example",
                  refs="cdc.ulanqab.example,NMG-CDC-2026-0100,2026-11-30T09:15:00+08:00")
    resp = post(op, relay)
    assert resp.status_code == 409 and f"#{first['id']}" in resp.get_json()["error"]
    # An alert carrying our own sender but naming no incident of ours.
    ours = alert(info("疑似鼠疫病例"), ident="hand-made-1", sender="coordination.local")
    assert post(op, ours).status_code == 409
    assert _counts() == before


def test_export_sender_is_the_configured_site_whatever_the_host(app, op):
    from coordination.auth import service
    from coordination.events import Actor

    app.config["COORDINATION"].site_domain = "ops.ulanqab.example"
    first = ok(op, alert(info("Other", language="en-US")))
    _tok, secret = service.create_token(name="feed", roles=["operator"],
                                        actor=Actor.system("t"))
    senders = set()
    for host in ("http://127.0.0.1", "http://cmd.ulanqab.example"):
        resp = op.client.get(f"/api/incidents/{first['id']}/cap", base_url=host,
                             headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 200
        parsed = cap.parse_cap(resp.data)
        senders.add(parsed.sender)
        assert parsed.infos[0].event != "other"  # the type's label, not its code
    assert senders == {"ops.ulanqab.example"}


def test_cap_messages_are_in_one_language(app):
    bad = alert(info("鼠疫", area="<circle>not-a-circle</circle>"))
    with force_locale("zh_CN"):
        with pytest.raises(cap.CapError) as err:
            cap.parse_cap(bad)
    text = " ".join(err.value.reasons)
    assert "must be" not in text and "圆" in text
    schema_bad = alert(info("鼠疫", urgency="Now"))
    with force_locale("zh_CN"):
        with pytest.raises(cap.CapError) as err:
            cap.parse_cap(schema_bad)
    assert "not one of" not in " ".join(err.value.reasons)
