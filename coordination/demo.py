"""The demo set: Ulanqab (乌兰察布), its banners and counties, one account per role.

Kept in one place so later domains extend it here. Loading is idempotent: a
second run adds what is missing and changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .auth import service as auth_service
from .auth.models import User
from .coverage.demo import load_coverage_demo
from .dutylog import service as dutylog
from .dutylog.models import Category
from .dutylog.schemas import NewEntry
from .events import Actor
from .extensions import db
from .facilities.demo import load_map_demo
from .geo.service import AreaIn, upsert_areas
from .roster.demo import load_roster_demo
from .roster.demo_positions import load_position_demo
from .stock.demo import load_stock_demo

ACTOR = Actor.system("demo")

# GB/T 2260 codes; seats' positions are approximate (WGS-84); populations rounded.
AREAS = [
    AreaIn(code="150900", name_zh="乌兰察布市", name_en="Ulanqab", level="city",
           lon=113.133, lat=40.994, population=1_700_000),
    AreaIn(code="150902", name_zh="集宁区", name_en="Jining District", level="district",
           parent_code="150900", lon=113.123, lat=41.000, population=360_000),
    AreaIn(code="150921", name_zh="卓资县", name_en="Zhuozi County", level="county",
           parent_code="150900", lon=112.577, lat=40.894, population=200_000),
    AreaIn(code="150922", name_zh="化德县", name_en="Huade County", level="county",
           parent_code="150900", lon=114.010, lat=41.904, population=160_000),
    AreaIn(code="150923", name_zh="商都县", name_en="Shangdu County", level="county",
           parent_code="150900", lon=113.577, lat=41.562, population=320_000),
    AreaIn(code="150924", name_zh="兴和县", name_en="Xinghe County", level="county",
           parent_code="150900", lon=113.834, lat=40.872, population=300_000),
    AreaIn(code="150925", name_zh="凉城县", name_en="Liangcheng County", level="county",
           parent_code="150900", lon=112.503, lat=40.531, population=240_000),
    AreaIn(code="150926", name_zh="察哈尔右翼前旗", name_en="Chahar Right Front Banner",
           level="banner", parent_code="150900", lon=113.214, lat=40.786, population=280_000),
    AreaIn(code="150927", name_zh="察哈尔右翼中旗", name_en="Chahar Right Middle Banner",
           level="banner", parent_code="150900", lon=112.635, lat=41.277, population=210_000),
    AreaIn(code="150928", name_zh="察哈尔右翼后旗", name_en="Chahar Right Rear Banner",
           level="banner", parent_code="150900", lon=113.191, lat=41.436, population=210_000),
    AreaIn(code="150929", name_zh="四子王旗", name_en="Siziwang Banner", level="banner",
           parent_code="150900", lon=111.706, lat=41.533, population=210_000),
    AreaIn(code="150981", name_zh="丰镇市", name_en="Fengzhen City", level="city",
           parent_code="150900", lon=113.110, lat=40.437, population=340_000),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    password: str


ACCOUNTS = [
    DemoAccount("operator", "王芳（指挥大厅值班员）", ("operator",), "operator-demo"),
    DemoAccount("liaison", "李强（疾控联络员）", ("liaison",), "liaison-demo"),
    DemoAccount("logistics", "赵敏（物资保障）", ("logistics",), "logistics-demo"),
    DemoAccount("trainer", "陈刚（演练导调）", ("trainer",), "trainer-demo"),
    DemoAccount("admin", "刘洋（系统管理员）", ("admin",), "admin-demo"),
]

LOG = [
    (Category.HANDOVER, "150902", "夜班交接：全市发热门诊运行正常，无待转运疑似病例。"),
    (Category.REPORT, "150929", "四子王旗疾控报告：牧区鼠间疫情监测未见异常，继续加强巡查。"),
    (Category.INSTRUCTION, "150981", "丰镇市卫健委：火车站预检分诊点今日起24小时值守。"),
    (Category.INFO, "150925", "凉城县负压救护车完成年检，恢复备勤。"),
]


def load_demo() -> list[DemoAccount]:
    """Load the demo set; return the accounts created by this run."""
    with db.reading() as s:
        existing = set(s.scalars(select(User.username)))
    upsert_areas(areas=AREAS, actor=ACTOR)
    load_map_demo(ACTOR)
    load_stock_demo(ACTOR)
    load_coverage_demo(ACTOR)
    created = []
    for acct in ACCOUNTS:
        if acct.username in existing:
            continue
        auth_service.create_user(
            username=acct.username, display_name=acct.display_name,
            password=acct.password, roles=list(acct.roles), actor=ACTOR,
        )
        created.append(acct)
    if not existing:  # the first load also starts the duty log
        for category, area, text in LOG:
            dutylog.post_entry(
                data=NewEntry(text=text, category=category, area=area),
                actor=ACTOR,
            )
    load_roster_demo(ACTOR)  # roster: after the accounts (links the liaison account)
    load_position_demo(ACTOR)  # named people in the plague plan's positions (issue 14)
    return created
