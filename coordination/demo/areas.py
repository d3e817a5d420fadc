"""The demo's fixed data that every demo module shares: areas, accounts, duty-log lines.

A leaf module (it imports no other demo module), so the per-domain demo
modules (facilities, coverage, roster, stock) read it without an import cycle.
Every area name is given in zh-CN and English.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dutylog.models import Category
from ..events import Actor
from ..geo.service import AreaIn

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


# A display name has one slot: the person in both languages (their role is on the account).
ACCOUNTS = [
    DemoAccount("operator", "王芳 (Wang Fang)", ("operator",), "operator-demo"),
    DemoAccount("liaison", "李强 (Li Qiang)", ("liaison",), "liaison-demo"),
    DemoAccount("logistics", "赵敏 (Zhao Min)", ("logistics",), "logistics-demo"),
    DemoAccount("trainer", "陈刚 (Chen Gang)", ("trainer",), "trainer-demo"),
    DemoAccount("admin", "刘洋 (Liu Yang)", ("admin",), "admin-demo"),
]

LOG = [
    (Category.HANDOVER, "150902", "夜班交接：全市发热门诊运行正常，无待转运疑似病例。"),
    (Category.REPORT, "150929", "四子王旗疾控报告：牧区鼠间疫情监测未见异常，继续加强巡查。"),
    (Category.INSTRUCTION, "150981", "丰镇市卫健委：火车站预检分诊点今日起24小时值守。"),
    (Category.INFO, "150925", "凉城县负压救护车完成年检，恢复备勤。"),
]
