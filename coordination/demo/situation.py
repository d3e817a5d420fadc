"""The running situation the demo opens on, made through the same services as real work.

A suspected human plague case in 四子王旗 being handled (a negative-pressure
ambulance on its way, three close contacts, one isolated, the plague plan at
level III with tasks acknowledged, done, waiting and one escalated to the
command room), a food poisoning in 集宁区 with patients being transported, a
medical call at a venue of the winter games cover and a fever clinic nearly
full. Everything is on the event log and in the audit trail, exactly as if an
operator had done it. Loaded once: nothing happens if an incident exists.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from .. import runtime
from ..auth.models import User
from ..contexts import LIVE, Context
from ..errors import NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..facilities import service as facilities
from ..facilities.models import Facility
from ..facilities.schemas import CapacityReportIn
from ..incidents import recommend
from ..incidents import service as incidents
from ..incidents.models import Incident, IncidentStatus
from ..incidents.schemas import (
    ContactIn,
    DestinationIn,
    DispatchIn,
    IncidentIn,
    IsolateIn,
    StatusChangeIn,
)
from ..plans import service as plans
from ..plans.schema import Level
from ..plans.schemas import ActivationIn
from ..roster import service as roster

# The operator on shift did the handling; the system account only set the scene up.
PLAGUE: dict[str, Any] = {
          "type": "suspected_case", "disease": "plague", "lon": 111.62, "lat": 41.98,
          "address": "四子王旗 白音朝鲁嘎查 (Baiyinchaolu gacha, Siziwang Banner)",
          "patients": 1, "phone": "0474-5222120",
          "reporter": "四子王旗人民医院发热门诊 (Siziwang Banner People's Hospital fever clinic)",
          "notes": "牧民，发热39.6℃，腹股沟淋巴结肿大，发病前接触死旱獭。"
                   " Herder, fever 39.6 °C, inguinal bubo, handled a dead marmot."}
# A contact's name is one free-text slot: both languages in it (Mongolian names in the
# pinyin of their Chinese spelling).
CONTACTS = [
    ("巴特尔 (Bateer)", "妻子，同住", "wife, same household"),
    ("其木格 (Qimuge)", "女儿，同住", "daughter, same household"),
    ("王建军 (Wang Jianjun)", "村医，首诊接触", "village doctor who first saw him"),
]
FOOD = {"type": "food_poisoning", "lon": 113.118, "lat": 41.021, "patients": 6,
        "address": "集宁区 新华街 幸福饭店 (Xingfu restaurant, Xinhua St, Jining)",
        "reporter": "饭店经理 张明 (restaurant manager Zhang Ming)", "phone": "13904741234",
        "notes": "午餐后6人呕吐腹泻。Six diners vomiting after lunch."}
VENUE_CALL = {"type": "event_medical", "lon": 113.1305, "lat": 41.0350, "patients": 1,
              "address": "集宁冰上运动中心 (Jining Ice Sports Hall)",
              "reporter": "冰上运动中心医疗站 (Ice Sports Hall medical post)",
              "event_ref": "14th-winter-games-ulanqab",
              "venue_ref": "jining-ice-hall",
              "notes": "运动员摔倒，疑似腕部骨折。Athlete fell, suspected wrist fracture."}
PLAGUE_PLAN = "plague-human-case"
NEAR_FULL = "FC-01"  # the central hospital's fever clinic: one isolation room left


def operator_actor() -> Actor:
    with db.reading() as s:
        u = s.scalars(select(User).where(User.username == "operator")).first()
    if u is None:
        return Actor.system("demo")
    return Actor(kind="user", id=u.id, name=u.username, display=u.display_name)


def liaison_actor() -> Actor | None:
    with db.reading() as s:
        u = s.scalars(select(User).where(User.username == "liaison")).first()
    return None if u is None else Actor(kind="user", id=u.id, name=u.username,
                                        display=u.display_name)


def log_call(data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Log a call; one at an event the configured plans do not know is logged without it."""
    region = runtime.current_settings().region
    try:
        return incidents.create_incident(context=LIVE, data=IncidentIn.model_validate(data),
                                         actor=actor, region=region)
    except ValidationFailed:
        if "event_ref" not in data:
            raise
        plain = {k: v for k, v in data.items() if k not in ("event_ref", "venue_ref")}
        return incidents.create_incident(context=LIVE, data=IncidentIn.model_validate(plain),
                                         actor=actor, region=region)


def _to(incident_id: int, status: str, actor: Actor, note: str = "") -> None:
    incidents.change_status(context=LIVE, incident_id=incident_id, actor=actor,
                            data=StatusChangeIn(status=IncidentStatus(status), note=note))


def dispatch_best(incident_id: int, actor: Actor, count: int = 1) -> list[int]:
    """The nearest units, keeping negative-pressure ones for the cases that need them."""
    rec = recommend.recommend(context=LIVE, incident_id=incident_id, limit=count + 6,
                              use_network=False)
    units = rec["units"]
    if not rec["negative_pressure_required"]:
        units = [u for u in units if not u.get("negative_pressure")] or units
    sent = []
    for u in units[:count]:
        incidents.dispatch_unit(context=LIVE, incident_id=incident_id, actor=actor,
                                data=DispatchIn(unit_id=u["unit_id"]))
        sent.append(u["unit_id"])
    return sent


def _facility(code: str) -> Facility | None:
    with db.reading() as s:
        return s.scalars(select(Facility).where(Facility.context == LIVE,
                                                Facility.code == code)).first()


def _now() -> Any:
    with db.reading() as s:
        ctx = s.get(Context, LIVE)
        assert ctx is not None
        return ctx.clock().now()


def plague_case(actor: Actor) -> int:
    i = log_call(PLAGUE, actor)
    _to(i["id"], "verified", actor, "经县疾控电话核实 (verified by phone with the banner CDC)")
    dispatch_best(i["id"], actor)
    exposure = _now() - timedelta(hours=20)
    for n, (name, zh, en) in enumerate(CONTACTS):
        c = incidents.add_contact(context=LIVE, incident_id=i["id"], actor=actor,
                                  data=ContactIn(name=name, phone=f"1394740{n:04d}",
                                                 address=f"{PLAGUE['address']} — {zh} ({en})",
                                                 lon=PLAGUE["lon"] + 0.002 * n,
                                                 lat=PLAGUE["lat"], last_exposure=exposure))
        if n == 2:  # the village doctor is already in the banner's isolation point
            incidents.isolate_contact(context=LIVE, contact_id=c["id"], actor=actor,
                                      data=IsolateIn())
    return int(i["id"])


def plague_plan(incident_id: int, actor: Actor) -> None:
    """Level III, with tasks in every state: acknowledged, done, waiting, escalated."""
    plans.activate_plan(plan_id=PLAGUE_PLAN, actor=actor, context=LIVE, data=ActivationIn(
        level=Level.III, subject_ref=str(incident_id),
        note="疑似人间鼠疫病例，启动III级响应 (suspected human plague case: level III)"))
    tasks = sorted(roster.list_tasks(context=LIVE, open_only=True), key=lambda t: t["id"])
    liaison = liaison_actor()
    cdc = [t for t in tasks if t["agency_code"] == "cdc"]
    if liaison is not None and cdc:
        roster.acknowledge_task(context=LIVE, task_id=cdc[0]["id"], key="demo-ack-1",
                                actor=liaison)
        if len(cdc) > 1:
            roster.acknowledge_task(context=LIVE, task_id=cdc[1]["id"], key="demo-ack-2",
                                    actor=liaison)
            roster.complete_task(context=LIVE, task_id=cdc[1]["id"], actor=liaison)
    others = [t for t in tasks if t["agency_code"] not in ("cdc",)]
    if others:  # nobody answered the railway in time: up the chain to the command room
        late = next((t for t in others if t["agency_code"] == "railway"), others[0])
        roster.jump_task(context=LIVE, task_id=late["id"], step=len(late["chain"]) - 1,
                         actor=actor)


def food_poisoning(actor: Actor) -> int:
    i = log_call(FOOD, actor)
    _to(i["id"], "verified", actor)
    dispatch_best(i["id"], actor, count=2)
    _to(i["id"], "on_scene", actor)
    hospital = _facility("DH-02")
    if hospital is not None:
        incidents.set_destination(context=LIVE, incident_id=i["id"], actor=actor,
                                  data=DestinationIn(facility_id=hospital.id))
    _to(i["id"], "transporting", actor, "6名患者送往市中心医院 (six patients to the Central "
        "Hospital)")
    return int(i["id"])


def venue_call(actor: Actor) -> int:
    i = log_call(VENUE_CALL, actor)
    return int(i["id"])


def near_full_clinic(actor: Actor) -> None:
    f = _facility(NEAR_FULL)
    if f is None:
        return
    figures = dict(f.figures or {})
    cap = int(figures.get("isolation_room", {}).get("capacity", 12))
    figures["isolation_room"] = {"capacity": cap, "occupied": max(cap - 1, 0)}
    facilities.report_capacity(
        facility_id=f.id, actor=actor, context=LIVE,
        data=CapacityReportIn.model_validate({"status": "open", "figures": figures,
                                              "note": "仅余1间隔离留观室 (one room left)"}))


def load_situation() -> bool:
    """Set the scene once; returns whether anything was loaded."""
    from ..alerts import watch

    with db.reading() as s:
        if s.scalar(select(Incident.id).where(Incident.context == LIVE).limit(1)) is not None:
            return False
    watch.scan(LIVE)  # the alert watcher reads from here on: the scene raises its alerts
    actor = operator_actor()
    plague = plague_case(actor)
    try:
        plague_plan(plague, actor)
    except NotFound:  # a plans folder without the plague plan (COORDINATION_PLANS_PATH)
        pass
    food_poisoning(actor)
    venue_call(actor)
    near_full_clinic(actor)
    watch.scan(LIVE)
    return True
