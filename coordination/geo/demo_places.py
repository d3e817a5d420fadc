"""Demo geography of Ulanqab: townships per banner/county, and populated places.

Township names are real; their positions, and the villages, schools, offices
and mines around them, are generated deterministically (fixed seed) at
plausible distances from each seat, so the demo is the same on every laptop.
Offsets are in kilometres turned into degrees at the seat's latitude: good
enough to place demo points, never used to measure anything.
"""

from __future__ import annotations

import math
import random

from ..demo.names import VILLAGE_ROOT_EN, township_en, township_stem_en
from .places import PlaceIn, PlaceKind

SEED = 150900

# area code -> real towns/townships (镇/乡/苏木) of that banner/county/district
TOWNSHIPS: dict[str, list[str]] = {
    "150902": ["白海子镇", "马莲渠乡", "泉玉林", "霸王河"],
    "150921": ["卓资山镇", "旗下营镇", "十八台镇", "巴音锡勒镇", "梨花镇", "红召乡"],
    "150922": ["长顺镇", "朝阳镇", "七号镇", "德包图乡", "公腊胡洞乡"],
    "150923": ["七台镇", "十八顷镇", "大黑沙土镇", "西井子镇", "屯垦队镇", "小海子镇"],
    "150924": ["城关镇", "张皋镇", "赛乌素镇", "店子镇", "鄂尔栋镇", "大同夭乡"],
    "150925": ["岱海镇", "鸿茅镇", "六苏木镇", "永兴镇", "蛮汉镇", "天成乡"],
    "150926": ["土贵乌拉镇", "平地泉镇", "玫瑰营镇", "巴音塔拉镇", "黄旗海镇", "乌拉哈乡"],
    "150927": ["科布尔镇", "铁沙盖镇", "广益隆镇", "宏盘乡", "乌素图镇", "大滩乡"],
    "150928": ["白音察干镇", "土牧尔台镇", "红格尔图镇", "贲红镇", "当郎忽洞苏木"],
    "150929": ["乌兰花镇", "吉生太镇", "库伦图镇", "供济堂镇", "白音朝克图镇", "红格尔苏木",
               "江岸苏木"],
    "150981": ["隆盛庄镇", "黑土台镇", "红砂坝镇", "官屯堡乡", "浑源窑乡", "元山子乡"],
}
# Where each area mostly lies from its seat (bearing in degrees, spread, max km).
SPREAD: dict[str, tuple[float, float, float]] = {
    "150902": (0, 180, 14), "150929": (0, 70, 75), "150928": (10, 80, 45),
    "150922": (0, 150, 30), "150923": (20, 140, 40),
}
DEFAULT_SPREAD = (0.0, 180.0, 35.0)

VILLAGE_ROOTS = [
    "大井", "小井", "东梁", "西梁", "南沟", "北沟", "二道", "三道", "黄土", "红山", "白家",
    "王家", "李家", "张家", "刘家", "赵家", "新地", "后营", "前营", "土城", "石门", "古城",
    "哈达", "乌兰", "巴音", "沙尔", "什拉", "大滩", "小滩", "榆树", "杨树", "柳树", "五号",
    "八号", "十号", "马家", "郭家", "高家", "韩家", "常家",
]


def offset(lon: float, lat: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """A point ``km`` from (lon, lat) towards ``bearing_deg`` (flat-earth, for demo data)."""
    b = math.radians(bearing_deg)
    dlat = km * math.cos(b) / 111.0
    dlon = km * math.sin(b) / (111.0 * math.cos(math.radians(lat)))
    return round(lon + dlon, 5), round(lat + dlat, 5)


def township_positions(seats: dict[str, tuple[float, float]]) -> dict[str, list[tuple[str, float,
                                                                                   float]]]:
    """(name, lon, lat) of every township, the first of each area near its seat."""
    rng = random.Random(SEED)
    out: dict[str, list[tuple[str, float, float]]] = {}
    for code, names in TOWNSHIPS.items():
        lon, lat = seats[code]
        centre, spread, far = SPREAD.get(code, DEFAULT_SPREAD)
        rows = []
        for i, name in enumerate(names):
            if i == 0 and code != "150902":
                rows.append((name, *offset(lon, lat, rng.uniform(0, 360), rng.uniform(0.5, 2))))
                continue
            bearing = centre + rng.uniform(-spread, spread)
            rows.append((name, *offset(lon, lat, bearing, rng.uniform(8, far))))
        out[code] = rows
    return out


def _square(lon: float, lat: float, half_km: float) -> dict[str, object]:
    """A small counter-clockwise (right-hand) square polygon around a point."""
    dlat = half_km / 111.0
    dlon = half_km / (111.0 * math.cos(math.radians(lat)))
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat],
            [lon - dlon, lat + dlat], [lon - dlon, lat - dlat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def demo_places(seats: dict[str, tuple[float, float]]) -> list[PlaceIn]:
    """About four hundred places: towns, villages, schools, offices and a few mines."""
    rng = random.Random(SEED + 1)
    towns = township_positions(seats)
    out: list[PlaceIn] = []
    for code, rows in towns.items():
        n = 0

        def add(name: tuple[str, str], kind: PlaceKind, pop: int, lon: float, lat: float,
                geometry: dict[str, object] | None = None, code: str = code) -> None:
            nonlocal n
            n += 1
            out.append(PlaceIn(code=f"P{code}-{n:03d}", name=name[0], name_en=name[1],
                               kind=kind, population=pop, area=code, lon=lon, lat=lat,
                               geometry=geometry))

        for name, lon, lat in rows:
            add((name, township_en(name)), PlaceKind.TOWN, rng.randrange(3000, 16000, 100),
                lon, lat)
            for _ in range(5):
                root = rng.choice(VILLAGE_ROOTS)
                vlon, vlat = offset(lon, lat, rng.uniform(0, 360), rng.uniform(2.5, 12))
                add((f"{name.rstrip('镇乡')}{root}村",
                     f"{township_stem_en(name)} {VILLAGE_ROOT_EN[root]} Village"),
                    PlaceKind.VILLAGE, rng.randrange(150, 2600, 10), vlon, vlat)
        seat_name, slon, slat = rows[0]
        seat_en = township_stem_en(seat_name)
        for i in range(2):
            lon, lat = offset(slon, slat, rng.uniform(0, 360), rng.uniform(0.5, 3))
            add((f"{seat_name}第{i + 1}中学", f"{seat_en} No. {i + 1} Middle School") if i
                else (f"{seat_name}中心小学", f"{seat_en} Central Primary School"),
                PlaceKind.SCHOOL, rng.randrange(400, 2500, 10), lon, lat)
        lon, lat = offset(slon, slat, rng.uniform(0, 360), rng.uniform(0.3, 1.5))
        add((f"{seat_name}政府机关", f"{seat_en} government offices"), PlaceKind.OFFICE,
            rng.randrange(80, 400, 5), lon, lat)
        if code in ("150921", "150922", "150928", "150929"):
            for i in range(2):
                name, tlon, tlat = rows[1 + i]
                lon, lat = offset(tlon, tlat, rng.uniform(0, 360), rng.uniform(4, 10))
                add((f"{name}{'萤石矿' if i else '铁矿'}",
                     f"{township_stem_en(name)} {'fluorite' if i else 'iron'} mine"),
                    PlaceKind.MINE, rng.randrange(120, 900, 10), lon, lat,
                    _square(lon, lat, 0.4))
    return out
