"""Remote pastoral settlements for the demo, so the coverage view has gaps to show.

The generated villages of geo/demo_places lie within a few kilometres of a
township, so every one of them is inside a 30 km radius. Real banners are not
like that: the north of Siziwang Banner and of the Chahar Right Rear Banner is
grassland with scattered gacha (嘎查) far from any township health centre.
These places are generated (fixed positions from each seat, invented names in
the local style), like the rest of the demo geography.
"""

from __future__ import annotations

from .. import runtime
from ..demo.areas import AREAS
from ..events import Actor
from ..geo.demo_places import offset
from ..geo.places import PlaceIn, PlaceKind, upsert_places

# (area code, name, English name, population, bearing from the seat in degrees, km)
REMOTE = [
    ("150929", "脑木更嘎查", "Naomugeng Gacha", 420, 355, 120),
    ("150929", "巴彦敖包嘎查", "Bayan'aobao Gacha", 260, 10, 105),
    ("150929", "查干敖包嘎查", "Chagan'aobao Gacha", 180, 340, 135),
    ("150929", "乌兰哈达嘎查", "Wulanhada Gacha", 310, 25, 125),
    ("150929", "白音朝鲁嘎查", "Baiyinchaolu Gacha", 150, 300, 60),
    ("150928", "格日勒图嘎查", "Gerileitu Gacha", 220, 355, 80),
    ("150928", "宝日胡舒嘎查", "Baorihushu Gacha", 140, 330, 75),
    ("150922", "哈夏图嘎查", "Haxiatu Gacha", 190, 20, 62),
    ("150923", "红格尔嘎查", "Hongge'er Gacha", 240, 350, 78),
    ("150927", "乌兰忽少嘎查", "Wulanhushao Gacha", 170, 300, 58),
]


def remote_places(seats: dict[str, tuple[float, float]]) -> list[PlaceIn]:
    out = []
    for n, (area, name, name_en, population, bearing, km) in enumerate(REMOTE, start=1):
        lon, lat = offset(*seats[area], bearing, km)
        out.append(PlaceIn(code=f"R{area}-{n:02d}", name=name, name_en=name_en,
                           kind=PlaceKind.VILLAGE,
                           population=population, area=area, lon=lon, lat=lat))
    return out


def load_coverage_demo(actor: Actor) -> None:
    """Add the remote settlements (idempotent: places are upserted by code)."""
    seats = {a.code: (a.lon, a.lat) for a in AREAS}
    upsert_places(places=remote_places(seats), actor=actor,
                  region=runtime.current_settings().region)
