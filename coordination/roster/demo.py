"""Demo agencies, liaison officers and rosters (Ulanqab), loaded by ``serve --demo``.

The demo ``liaison`` account is the CDC's primary liaison officer, always on
duty, so a task sent to 疾控 from /tasks shows up on that account's "My tasks".
The blood centre's primary officers are on leave tomorrow evening without cover, so the duty
board and the command room show a roster gap.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..auth.models import User
from ..contexts import LIVE
from ..demo.names import person_en
from ..events import Actor
from ..extensions import db
from . import manage
from .models import Agency

TZ = ZoneInfo("Asia/Shanghai")

AGENCIES = [
    ("cdc", "市疾病预防控制中心", "Municipal CDC", "0474-8222110"),
    ("disinfection", "环境消杀队", "Environmental disinfection team", "0474-8222111"),
    ("food_testing", "饮食物检测中心", "Food and drink testing centre", "0474-8222112"),
    ("food_hygiene", "食品卫生监督所", "Food hygiene supervision", "0474-8222113"),
    ("ems", "120急救中心", "EMS (120) dispatch centre", "120"),
    ("designated_hospital", "市第一定点医院", "No. 1 designated hospital", "0474-8222115"),
    ("railway", "集宁南站", "Jining South railway station", "0474-8222116"),
    ("civil_aviation", "乌兰察布集宁机场", "Ulanqab Jining airport", "0474-8222117"),
    ("customs", "海关", "Customs", "0474-8222118"),
    ("army", "驻地部队", "Local army garrison", "0474-8222119"),
    ("public_security", "市公安局", "Municipal public security bureau", "110"),
    # Every agency the shipped plans and drill scenarios name (plans/*.yaml), so the
    # readiness table shows the real picture rather than "unknown agency".
    ("health_commission", "市卫生健康委员会应急办", "Health commission emergency office",
     "0474-8222120"),
    ("hospital", "乌兰察布市中心医院", "Ulanqab Central Hospital", "0474-8222121"),
    ("fever_clinic", "市中心医院发热门诊", "Central Hospital fever clinic", "0474-8222122"),
    ("cadre_healthcare", "市干部保健办公室", "Cadre healthcare office", "0474-8222123"),
    ("market_regulation", "市市场监督管理局", "Market regulation bureau", "0474-8222124"),
    ("blood_centre", "市中心血站", "Municipal blood centre", "0474-8222125"),
    ("township_health_centre", "乡镇卫生院（联络）", "Township health centres (liaison)",
     "0474-8222126"),
    ("fire_rescue", "市消防救援支队", "Fire and rescue detachment", "119"),
    ("event_organiser", "十四冬乌兰察布赛区组委会", "Winter Games Ulanqab organising committee",
     "0474-8222127"),
    ("community", "集宁区社区卫生服务中心", "Jining community health service centre",
     "0474-8222128"),
]
# The deliberate roster gap: an agency no plague task is owned by, so the plague plan
# stays ready at level III while the duty board still shows a gap tomorrow evening.
GAP_AGENCY = "blood_centre"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明"]


def load_roster_demo(actor: Actor) -> int:
    """Add the demo agencies and rosters unless agencies exist; returns agencies added."""
    with db.reading() as s:
        if s.scalar(select(Agency.id).where(Agency.context == LIVE).limit(1)) is not None:
            return 0
        liaison = s.scalar(select(User.username).where(User.username == "liaison"))
    today = datetime.now(TZ).date()
    start = today - timedelta(days=today.weekday())  # this week's Monday
    n = 0
    for code, zh, en, phone in AGENCIES:
        manage.save_agency(context=LIVE, actor=actor,
                           data={"code": code, "name_zh": zh, "name_en": en, "phone": phone})
        people = []
        for k in range(4):
            name = SURNAMES[(n * 4 + k) % len(SURNAMES)] + GIVEN[(n * 3 + k) % len(GIVEN)]
            if code == "cdc" and k == 0:
                name = "李强"
            people.append(manage.save_officer(context=LIVE, actor=actor, data={
                "agency_code": code, "name": name, "name_en": person_en(name),
                "phone": f"1390474{n:02d}{k:02d}",
                "agency_role": "head" if k == 3 else "liaison",
                "languages": ["zh", "en"] if k == 0 else ["zh"],
                "username": liaison if (code == "cdc" and k == 0) else None,
                "is_head": k == 3, "may_be_primary": k < 3})["id"])
        n += 1
        primaries = [people[0]] if code == "cdc" else people[:2]
        backups = people[1:3] if code == "cdc" else [people[2]]
        manage.save_rotation(context=LIVE, actor=actor, data={
            "agency_code": code, "name": f"{zh} 主班 ({en}, primary)", "layer": "primary",
            "kind": "daily", "handover": "08:00", "start_date": start.isoformat(),
            "officer_ids": primaries})
        manage.save_rotation(context=LIVE, actor=actor, data={
            "agency_code": code, "name": f"{zh} 备班 ({en}, backup)", "layer": "backup",
            "kind": "weekly", "handover": "08:00", "start_date": start.isoformat(),
            "officer_ids": backups})
        if code == GAP_AGENCY:
            evening = datetime.combine(today + timedelta(days=1), time(20, 0), tzinfo=TZ)
            for pid in primaries:
                manage.add_override(context=LIVE, actor=actor, data={
                    "kind": "leave", "officer_id": pid, "starts_at": evening.isoformat(),
                    "ends_at": (evening + timedelta(hours=3)).isoformat(),
                    "note": "家中有事 (demo gap)"})
    return n
