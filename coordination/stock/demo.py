"""The stockpile part of the Ulanqab demo: a city reserve in Jining, banner and county
depots, twenty real item kinds, lots (some near expiry), burn and depots below target.

Loaded through the real services, so the demo's ledger, balances and events are
exactly what live use produces. Idempotent: nothing happens if depots exist.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..contexts import LIVE
from ..events import Actor
from ..extensions import db
from . import service
from .common import today_in
from .models import Category, Depot, DestinationKind, TargetMode
from .schemas import DepotIn, IssueIn, ItemIn, ReceiptIn, TargetIn

# code, zh, en, lon, lat (approximate, WGS-84), area, owner
DEPOTS = [
    ("WLCB-CITY", "乌兰察布市卫生应急物资储备库", "Ulanqab Health Emergency Stockpile",
     113.118, 41.012, "150902", "乌兰察布市卫生健康委员会"),
    ("WLCB-CDC", "乌兰察布市疾控中心物资库", "Ulanqab CDC store", 113.141, 40.989, "150902",
     "乌兰察布市疾病预防控制中心"),
    ("FZ", "丰镇市卫生应急物资储备点", "Fengzhen stockpile", 113.109, 40.436, "150981",
     "丰镇市卫生健康委员会"),
    ("SZWQ", "四子王旗卫生应急物资储备点", "Siziwang Banner stockpile", 111.704, 41.532,
     "150929", "四子王旗卫生健康委员会"),
    ("SD", "商都县卫生应急物资储备点", "Shangdu stockpile", 113.560, 41.559, "150923",
     "商都县卫生健康委员会"),
    ("LC", "凉城县卫生应急物资储备点", "Liangcheng stockpile", 112.500, 40.532, "150925",
     "凉城县卫生健康委员会"),
    ("HD", "化德县卫生应急物资储备点", "Huade stockpile", 114.011, 41.900, "150922",
     "化德县卫生健康委员会"),
]

# code, zh, en, category, unit, pack, shelf life (days), critical
ITEMS = [
    ("N95", "医用防护口罩（N95）", "N95 respirator", "ppe", "box", 20, 1095, True),
    ("SURG-MASK", "医用外科口罩", "Surgical mask", "ppe", "box", 50, 730, False),
    ("SUIT", "医用一次性防护服", "Protective suit", "ppe", "piece", 1, 730, True),
    ("GOGGLES", "护目镜", "Goggles", "ppe", "piece", 1, None, False),
    ("SHIELD", "防护面屏", "Face shield", "ppe", "piece", 1, None, False),
    ("GLOVES", "医用检查手套", "Examination gloves", "ppe", "box", 100, 1095, False),
    ("SHOE", "一次性鞋套", "Shoe covers", "ppe", "pack", 100, 1095, False),
    ("CL-TAB", "含氯消毒片", "Chlorine disinfectant tablets", "disinfectant", "bottle", 100,
     730, True),
    ("ALC75", "75%酒精消毒液", "75% alcohol", "disinfectant", "bottle", 1, 730, False),
    ("PAA", "过氧乙酸消毒液", "Peracetic acid", "disinfectant", "bottle", 1, 365, False),
    ("AG-KIT", "新冠病毒抗原检测试剂盒", "COVID-19 antigen test kit", "test_kits", "box", 20,
     540, False),
    ("PCR-KIT", "新冠病毒核酸检测试剂盒", "COVID-19 PCR kit", "test_kits", "box", 48, 365,
     True),
    ("PLAGUE-RT", "鼠疫快速检测试纸条", "Plague rapid test strips", "test_kits", "box", 25, 730,
     True),
    ("STREP", "注射用硫酸链霉素", "Streptomycin for injection", "drugs", "box", 10, 1095, True),
    ("DOXY", "多西环素片", "Doxycycline tablets", "drugs", "box", 24, 1095, False),
    ("O2-40L", "医用氧气瓶（40升）", "Oxygen cylinder 40 L", "oxygen", "cylinder", 1, None,
     True),
    ("O2-CONC", "制氧机", "Oxygen concentrator", "oxygen", "unit", 1, None, False),
    ("VENT", "便携式呼吸机", "Portable ventilator", "equipment", "unit", 1, None, True),
    ("THERMO", "红外额温枪", "Infrared thermometer", "equipment", "unit", 1, None, False),
    ("SPRAYER", "背负式电动喷雾器", "Backpack electric sprayer", "equipment", "unit", 1, None,
     False),
]

# City reserve: (item, on hand, target). Every critical item is held above its target,
# the recent issues below included; a few ordinary items are short (填平补齐 has work).
CITY = {"N95": (7000, 5000), "SURG-MASK": (12000, 10000), "SUIT": (4000, 3000),
        "GOGGLES": (600, 500), "SHIELD": (800, 500), "GLOVES": (500, 600), "SHOE": (700, 500),
        "CL-TAB": (450, 400), "ALC75": (1200, 800), "PAA": (150, 200), "AG-KIT": (900, 500),
        "PCR-KIT": (220, 200), "PLAGUE-RT": (120, 100), "STREP": (450, 400), "DOXY": (500, 300),
        "O2-40L": (130, 120), "O2-CONC": (12, 15), "VENT": (22, 20), "THERMO": (200, 150),
        "SPRAYER": (40, 30)}
COUNTY_CORE = ["N95", "SURG-MASK", "SUIT", "CL-TAB", "AG-KIT", "PLAGUE-RT", "STREP", "O2-40L"]
COUNTY_TARGET = {"N95": 800, "SURG-MASK": 2000, "SUIT": 400, "CL-TAB": 80, "AG-KIT": 150,
                 "PLAGUE-RT": 30, "STREP": 60, "O2-40L": 20}
# Share of target each county holds of its ordinary items: some are well stocked, some
# are short. Critical items are held at CRITICAL_FILL everywhere, so the only critical
# shortfalls are the two the plague case made (ISSUES below).
COUNTY_FILL = {"WLCB-CDC": 1.4, "FZ": 0.6, "SZWQ": 1.1, "SD": 0.45, "LC": 0.9, "HD": 1.3}
CRITICAL_FILL = 1.25
CRITICAL = {code for code, *_rest, critical in ITEMS if critical}
# Recent issues give a burn rate: masks and suits go fast at the fever clinics. The last
# two are the demo's deliberate situation: the plague case in 四子王旗 has drawn the
# banner's streptomycin (treatment and the contacts' prophylaxis) and its rapid test
# strips (screening around the herder's camp) below target; the gap report fills both
# from the city reserve.
ISSUES = [
    ("WLCB-CITY", "N95", 1500, "集宁区发热门诊"),
    ("WLCB-CITY", "SUIT", 900, "市第三医院隔离病区"),
    ("FZ", "N95", 200, "丰镇火车站预检分诊点"), ("SD", "AG-KIT", 40, "商都县疾控中心"),
    ("HD", "CL-TAB", 15, "化德县消杀队"),
    ("SZWQ", "STREP", 50, "四子王旗人民医院"),
    ("SZWQ", "PLAGUE-RT", 25, "四子王旗鼠疫监测队"),
]


def load_stock_demo(actor: Actor, context: str = LIVE) -> bool:
    """Load the demo stockpile once; return whether anything was loaded."""
    with db.reading() as s:
        if s.scalar(select(Depot.id).where(Depot.context == context).limit(1)) is not None:
            return False
        today = today_in(s, context)
    for code, zh, en, lon, lat, area, owner in DEPOTS:
        service.save_depot(data=DepotIn(code=code, name_zh=zh, name_en=en, lon=lon, lat=lat,
                                        area=area, owner=owner, contact_name="应急物资保障科",
                                        contact_phone="0474-8000000"), actor=actor,
                           context=context)
    shelf = {}
    for code, zh, en, cat, unit, pack, life, critical in ITEMS:
        shelf[code] = life
        service.save_item(data=ItemIn(code=code, name_zh=zh, name_en=en, category=Category(cat),
                                      unit=unit, pack_size=pack, shelf_life_days=life,
                                      critical=critical), actor=actor, context=context)

    def receive(depot: str, item: str, qty: int, lot: str, days_left: int | None) -> None:
        expiry = today + timedelta(days=days_left) if shelf[item] and days_left else None
        service.receive_stock(data=ReceiptIn(depot=depot, item=item, lot=lot, quantity=qty,
                                             expiry=expiry), actor=actor, context=context)

    for n, (item, (qty, tgt)) in enumerate(sorted(CITY.items())):
        near = qty // 4  # a quarter of each lot-tracked item expires sooner
        receive("WLCB-CITY", item, qty - near, f"2025{n:02d}A", 400 + 7 * n)
        receive("WLCB-CITY", item, near, f"2024{n:02d}B", 20 + 3 * n if n % 3 == 0 else 120)
        service.set_target(data=TargetIn(depot="WLCB-CITY", item=item, quantity=tgt),
                           actor=actor, context=context)
    for depot, fill in COUNTY_FILL.items():
        for n, item in enumerate(COUNTY_CORE):
            share = CRITICAL_FILL if item in CRITICAL else fill
            qty = max(1, int(COUNTY_TARGET[item] * share))
            receive(depot, item, qty, f"{depot}-{item}-01", 200 + 11 * n)
            if item == "PLAGUE-RT":  # days of cover at the measured burn rate
                service.set_target(data=TargetIn(depot=depot, item=item, mode=TargetMode.DAYS,
                                                 days=60),
                                   actor=actor, context=context)
            else:
                service.set_target(data=TargetIn(depot=depot, item=item,
                                                 quantity=COUNTY_TARGET[item]),
                                   actor=actor, context=context)
    for depot, item, qty, ref in ISSUES:
        service.issue_stock(data=IssueIn(depot=depot, item=item, quantity=qty,
                                         destination_kind=DestinationKind(
                                             "facility" if "队" not in ref else "team"),
                                         destination_ref=ref),
                            actor=actor, context=context)
    return True
