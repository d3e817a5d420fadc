"""Every invented name of the demo in English beside its Chinese: people, places, facilities.

A leaf module like areas.py (it imports no other demo module), so each per-domain
demo module can give a row both its ``name`` and its ``name_en``. People's names
are in Hanyu Pinyin, family name first as on a Chinese passport (王芳 → Wang
Fang); places keep their pinyin with the kind of place in English (白海子镇 →
Baihaizi Town); the tables were written from pypinyin's readings and checked
by hand where a character has several (曾 Zeng, 长顺 Changshun, 朝阳 Chaoyang).
"""

from __future__ import annotations

from .areas import AREAS

SURNAME_EN = {
    "王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang",
    "赵": "Zhao", "黄": "Huang", "周": "Zhou", "吴": "Wu", "徐": "Xu", "孙": "Sun", "胡": "Hu",
    "朱": "Zhu", "高": "Gao", "林": "Lin", "何": "He", "郭": "Guo", "马": "Ma", "罗": "Luo",
    "梁": "Liang", "宋": "Song", "郑": "Zheng", "谢": "Xie", "韩": "Han", "唐": "Tang",
    "冯": "Feng", "于": "Yu", "董": "Dong", "萧": "Xiao", "程": "Cheng", "曹": "Cao",
    "袁": "Yuan", "邓": "Deng", "许": "Xu", "傅": "Fu", "沈": "Shen", "曾": "Zeng",
    "彭": "Peng", "吕": "Lü",
}
GIVEN_EN = {
    "伟": "wei", "芳": "fang", "娜": "na", "敏": "min", "静": "jing", "丽": "li", "强": "qiang",
    "磊": "lei", "军": "jun", "洋": "yang", "勇": "yong", "艳": "yan", "杰": "jie", "娟": "juan",
    "涛": "tao", "明": "ming", "超": "chao", "秀英": "xiuying", "霞": "xia", "平": "ping",
    "刚": "gang", "桂英": "guiying", "建华": "jianhua", "海燕": "haiyan", "志强": "zhiqiang",
    "晓东": "xiaodong", "雪梅": "xuemei",
}

# Seats and districts by area code, as the facility names use them.
AREA_EN = {a.code: a.name_en for a in AREAS}

TOWNSHIP_EN = {
    "白海子镇": "Baihaizi Town", "马莲渠乡": "Malianqu Township", "泉玉林": "Quanyulin",
    "霸王河": "Bawanghe", "卓资山镇": "Zhuozishan Town", "旗下营镇": "Qixiaying Town",
    "十八台镇": "Shibatai Town", "巴音锡勒镇": "Bayinxile Town", "梨花镇": "Lihua Town",
    "红召乡": "Hongzhao Township", "长顺镇": "Changshun Town", "朝阳镇": "Chaoyang Town",
    "七号镇": "Qihao Town", "德包图乡": "Debaotu Township",
    "公腊胡洞乡": "Gonglahudong Township", "七台镇": "Qitai Town", "十八顷镇": "Shibaqing Town",
    "大黑沙土镇": "Daheishatu Town", "西井子镇": "Xijingzi Town", "屯垦队镇": "Tunkendui Town",
    "小海子镇": "Xiaohaizi Town", "城关镇": "Chengguan Town", "张皋镇": "Zhanggao Town",
    "赛乌素镇": "Saiwusu Town", "店子镇": "Dianzi Town", "鄂尔栋镇": "E'erdong Town",
    "大同夭乡": "Datongyao Township", "岱海镇": "Daihai Town", "鸿茅镇": "Hongmao Town",
    "六苏木镇": "Liusumu Town", "永兴镇": "Yongxing Town", "蛮汉镇": "Manhan Town",
    "天成乡": "Tiancheng Township", "土贵乌拉镇": "Tuguiwula Town",
    "平地泉镇": "Pingdiquan Town", "玫瑰营镇": "Meiguiying Town", "巴音塔拉镇": "Bayintala Town",
    "黄旗海镇": "Huangqihai Town", "乌拉哈乡": "Wulaha Township", "科布尔镇": "Kebu'er Town",
    "铁沙盖镇": "Tieshagai Town", "广益隆镇": "Guangyilong Town", "宏盘乡": "Hongpan Township",
    "乌素图镇": "Wusutu Town", "大滩乡": "Datan Township", "白音察干镇": "Baiyinchagan Town",
    "土牧尔台镇": "Tumu'ertai Town", "红格尔图镇": "Hongge'ertu Town", "贲红镇": "Benhong Town",
    "当郎忽洞苏木": "Danglanghudong Sumu", "乌兰花镇": "Wulanhua Town",
    "吉生太镇": "Jishengtai Town", "库伦图镇": "Kuluntu Town", "供济堂镇": "Gongjitang Town",
    "白音朝克图镇": "Baiyinchaoketu Town", "红格尔苏木": "Hongge'er Sumu",
    "江岸苏木": "Jiang'an Sumu", "隆盛庄镇": "Longshengzhuang Town",
    "黑土台镇": "Heitutai Town", "红砂坝镇": "Hongshaba Town", "官屯堡乡": "Guantunbao Township",
    "浑源窑乡": "Hunyuanyao Township", "元山子乡": "Yuanshanzi Township",
}
VILLAGE_ROOT_EN = {
    "大井": "Dajing", "小井": "Xiaojing", "东梁": "Dongliang", "西梁": "Xiliang",
    "南沟": "Nangou", "北沟": "Beigou", "二道": "Erdao", "三道": "Sandao", "黄土": "Huangtu",
    "红山": "Hongshan", "白家": "Baijia", "王家": "Wangjia", "李家": "Lijia",
    "张家": "Zhangjia", "刘家": "Liujia", "赵家": "Zhaojia", "新地": "Xindi", "后营": "Houying",
    "前营": "Qianying", "土城": "Tucheng", "石门": "Shimen", "古城": "Gucheng", "哈达": "Hada",
    "乌兰": "Wulan", "巴音": "Bayin", "沙尔": "Sha'er", "什拉": "Shila", "大滩": "Datan",
    "小滩": "Xiaotan", "榆树": "Yushu", "杨树": "Yangshu", "柳树": "Liushu", "五号": "Wuhao",
    "八号": "Bahao", "十号": "Shihao", "马家": "Majia", "郭家": "Guojia", "高家": "Gaojia",
    "韩家": "Hanjia", "常家": "Changjia",
}
KIND_SUFFIXES = (" Town", " Township", " Sumu")


def person_en(zh: str) -> str:
    """王芳 → Wang Fang; 李建华 → Li Jianhua; 张志强伟 → Zhang Zhiqiangwei."""
    surname, rest = SURNAME_EN[zh[0]], zh[1:]
    given, i = "", 0
    while i < len(rest):  # the longest given-name piece first (秀英 before 秀)
        piece = next(p for p in (rest[i:i + 2], rest[i]) if p in GIVEN_EN)
        given += GIVEN_EN[piece]
        i += len(piece)
    return f"{surname} {given.capitalize()}".strip()


def person(zh: str) -> str:
    """A name for a free-text field that has one slot (a crew list, a contact): both."""
    return f"{zh} ({person_en(zh)})"


def township_en(zh: str) -> str:
    return TOWNSHIP_EN[zh]


def township_stem_en(zh: str) -> str:
    """The township's name without its kind: Baihaizi Town → Baihaizi."""
    en = TOWNSHIP_EN[zh]
    for suffix in KIND_SUFFIXES:
        if en.endswith(suffix):
            return en[: -len(suffix)]
    return en
