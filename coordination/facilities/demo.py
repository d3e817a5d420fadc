"""Demo facilities, ambulances and populated places of Ulanqab, for ``load_demo``.

Hospitals and stations sit at their banner/county seat (approximate positions);
township health centres at the generated township positions (geo/demo_places).
Figures and staff names are invented, deterministically (fixed seed). A few
township centres report from eight hours ago, so the demo shows "stale".
"""

from __future__ import annotations

import random
from datetime import timedelta

from .. import runtime
from ..clock import wall_now
from ..demo.areas import AREAS
from ..demo.names import AREA_EN, person, township_en
from ..events import Actor
from ..geo.demo_places import demo_places, offset, township_positions
from ..geo.places import upsert_places
from ..units import service as units
from ..units.models import UnitStatus
from ..units.schemas import NewUnit
from . import service
from .capabilities import parse_capabilities
from .models import BedKind, FacilityKind, FacilityStatus
from .schemas import Beds, CapacityReportIn, NewFacility

SEED = 150901
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "海燕", "志强", "晓东", "雪梅"]
SHORT = {
    "150902": "集宁区", "150921": "卓资县", "150922": "化德县", "150923": "商都县",
    "150924": "兴和县", "150925": "凉城县", "150926": "察右前旗", "150927": "察右中旗",
    "150928": "察右后旗", "150929": "四子王旗", "150981": "丰镇市",
}


# The regional rescue centres the Ordos plan builds (胸痛、卒中、创伤、危重孕产妇、危重新生儿
# 救治中心 at the city and banner hospitals), given to the demo's regional hospitals: the
# city centre hospital has all five; Fengzhen in the south is a level 2 trauma centre
# whose stroke centre is down now (a CT scanner out), so a stroke call near it is taken on
# to Jining and the page says why; the infectious-disease hospital has isolation and dialysis.
CENTRES = {
    "DH-01": "负压隔离;透析",
    "DH-02": "胸痛;卒中;创伤:1;危重孕产妇;危重新生儿;儿科;透析;烧伤",
    "DH-03": "胸痛;卒中!;创伤:2;危重孕产妇;儿科",
}


def _person(rng: random.Random) -> str:
    """An invented person in both languages (one free-text slot: 王伟 (Wang Wei))."""
    return person(rng.choice(SURNAMES) + rng.choice(GIVEN))


def _phone(rng: random.Random) -> str:
    return f"0474-{rng.randrange(8000000, 8999999)}"


def _beds(rng: random.Random, **caps: int) -> dict[BedKind, Beds]:
    out = {}
    for kind, cap in caps.items():
        out[BedKind(kind)] = Beds(capacity=cap, occupied=rng.randint(0, cap * 3 // 4))
    return out


def demo_facilities(seats: dict[str, tuple[float, float]]) -> list[NewFacility]:
    rng = random.Random(SEED)
    out: list[NewFacility] = []

    def add(code: str, name: tuple[str, str], kind: FacilityKind, area: str, lon: float,
            lat: float, figures: dict[BedKind, Beds] | None = None,
            status: FacilityStatus = FacilityStatus.OPEN) -> None:
        initial = CapacityReportIn(status=status, figures=figures) if figures is not None else None
        caps = parse_capabilities(CENTRES[code]) if code in CENTRES else None
        out.append(NewFacility(
            code=code, name=name[0], name_en=name[1], kind=kind, area=area, lon=lon, lat=lat,
            contact_name=_person(rng), contact_phone=_phone(rng), initial=initial,
            capabilities=caps,
            address=f"{SHORT[area]}{rng.choice(['新华街', '建设路', '民主路', '解放路'])}"
                    f"{rng.randrange(1, 200)}号",
        ))

    def near(area: str, km: float = 1.5) -> tuple[float, float]:
        lon, lat = seats[area]
        return offset(lon, lat, rng.uniform(0, 360), rng.uniform(0.2, km))

    j = "150902"
    add("FC-01", ("乌兰察布市中心医院发热门诊", "Ulanqab Central Hospital fever clinic"),
        FacilityKind.FEVER_CLINIC, j, *near(j), _beds(rng, isolation_room=12, general_bed=20))
    add("FC-02", ("乌兰察布市蒙中医医院发热门诊",
                  "Ulanqab Mongolian and Chinese Medicine Hospital fever clinic"),
        FacilityKind.FEVER_CLINIC, j, *near(j), _beds(rng, isolation_room=6, general_bed=10),
        FacilityStatus.FULL)
    for n, (code, short) in enumerate(list(SHORT.items())[1:], start=3):
        status = FacilityStatus.DIVERTING if code == "150925" else FacilityStatus.OPEN
        add(f"FC-{n:02d}", (f"{short}人民医院发热门诊",
                            f"{AREA_EN[code]} People's Hospital fever clinic"),
            FacilityKind.FEVER_CLINIC, code,
            *near(code), _beds(rng, isolation_room=rng.randint(3, 8), general_bed=8), status)
    add("DH-01", ("乌兰察布市第四医院（传染病定点医院）",
                  "Ulanqab No. 4 Hospital (designated infectious-disease hospital)"),
        FacilityKind.DESIGNATED_HOSPITAL, j,
        *near(j, 3), _beds(rng, isolation_room=80, negative_pressure_room=16, general_bed=300,
                           icu_bed=24))
    add("DH-02", ("乌兰察布市中心医院（定点救治医院）",
                  "Ulanqab Central Hospital (designated treatment hospital)"),
        FacilityKind.DESIGNATED_HOSPITAL, j,
        *near(j, 2), _beds(rng, isolation_room=40, negative_pressure_room=8, general_bed=900,
                           icu_bed=40))
    add("DH-03", ("丰镇市医院（南部片区定点医院）",
                  "Fengzhen City Hospital (designated hospital, southern area)"),
        FacilityKind.DESIGNATED_HOSPITAL, "150981",
        *near("150981"), _beds(rng, isolation_room=30, negative_pressure_room=4,
                               general_bed=260, icu_bed=10))
    for n, code in enumerate(["150902", "150902", "150981", "150923", "150929"], start=1):
        add(f"IP-{n:02d}", (f"{SHORT[code]}第{n}隔离留观点",
                            f"{AREA_EN[code]} isolation and observation point No. {n}"),
            FacilityKind.ISOLATION_POINT, code,
            *near(code, 4), _beds(rng, isolation_room=rng.choice([40, 60, 80, 120])))
    for n, (pair, code, lon, lat) in enumerate([
        (("集宁南站预检分诊点", "Jining South Station triage point"), j, 113.148, 40.962),
        (("乌兰察布集宁机场预检分诊点", "Ulanqab Jining Airport triage point"), j, 113.108,
         41.130),
        (("丰镇站预检分诊点", "Fengzhen Station triage point"), "150981", 113.152, 40.440),
        (("集宁高速出口预检分诊点", "Jining expressway exit triage point"), j, 113.060, 41.030),
    ], start=1):
        add(f"TP-{n:02d}", pair, FacilityKind.TRIAGE_POINT, code, lon, lat,
            _beds(rng, isolation_room=2))
    for n, code in enumerate(["150902", "150981", "150923", "150929"], start=1):
        lab = ((f"{SHORT[code]}疾控中心PCR实验室", f"{AREA_EN[code]} CDC PCR laboratory")
               if n > 1 else ("乌兰察布市疾控中心PCR实验室", "Ulanqab CDC PCR laboratory"))
        add(f"LAB-{n:02d}", lab,
            FacilityKind.CDC_LAB, code, *near(code, 2))
    for n, code in enumerate(SHORT, start=1):
        add(f"EMS-{n:02d}", ("乌兰察布市120急救指挥中心", "Ulanqab 120 emergency command centre")
            if n == 1 else (f"{SHORT[code]}120急救站", f"{AREA_EN[code]} 120 ambulance station"),
            FacilityKind.EMS_STATION, code, *near(code, 1))
    # Coded as the stock depots (coordination/stock/demo.py) they are: the map draws one marker.
    for depot, code in [("WLCB-CITY", "150902"), ("FZ", "150981"), ("SD", "150923")]:
        add(depot, (f"{SHORT[code]}卫生应急物资储备库",
                    f"{AREA_EN[code]} health emergency stockpile"),
            FacilityKind.STOCKPILE_DEPOT, code,
            *near(code, 5))
    n = 0
    for code, rows in township_positions(seats).items():
        for name, lon, lat in rows:
            n += 1
            lon2, lat2 = offset(lon, lat, rng.uniform(0, 360), 0.3)
            add(f"THC-{n:03d}", (f"{name}卫生院", f"{township_en(name)} health centre"),
                FacilityKind.TOWNSHIP_HEALTH_CENTRE, code,
                lon2, lat2, _beds(rng, general_bed=rng.randrange(10, 45, 5),
                                  isolation_room=rng.randint(1, 3)))
    return out


def demo_units() -> list[NewUnit]:
    rng = random.Random(SEED + 2)
    stations = [f"EMS-{n:02d}" for n in range(1, 12)]
    odd = {6: UnitStatus.TRANSPORTING, 9: UnitStatus.DECONTAMINATING,
           13: UnitStatus.OUT_OF_SERVICE, 17: UnitStatus.AT_HOSPITAL}
    out = []
    for n in range(1, 21):
        station = stations[0] if n <= 5 else stations[(n - 5) % len(stations)]
        out.append(NewUnit(
            call_sign=f"乌120-{n:02d}", crew=[_person(rng) for _ in range(3)],
            negative_pressure=n in (1, 2, 11, 15), station=station,
            status=odd.get(n, UnitStatus.AVAILABLE),
        ))
    return out


def load_map_demo(actor: Actor) -> None:
    """Load facilities, ambulances and places; a second run adds only what is missing."""
    region = runtime.current_settings().region
    seats = {a.code: (a.lon, a.lat) for a in AREAS}
    items = demo_facilities(seats)
    stale_at = wall_now() - timedelta(hours=8)
    stale = {i.code: stale_at for i in items if i.code in ("THC-007", "THC-023", "THC-041")}
    service.create_facilities(items=items, actor=actor, region=region, reported_at=stale)
    units.create_units(items=demo_units(), actor=actor, region=region)
    upsert_places(places=demo_places(seats), actor=actor, region=region)
