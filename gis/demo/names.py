"""Plausible Chinese names for generated places and people (none of them refers to anyone)."""

from __future__ import annotations

import numpy as np

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶贺顾毛郝"
    "龚邵万钱严武戴孔汤包"
)
"""Roughly in order of frequency; the weights below fall off along the string."""

GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力林国民海峰志宏斌鑫宇浩凯"
    "佳欣怡婷雪琳晨晗睿博瑞子梓涵轩诗雨思嘉一诺可心泽昊俊鹏飞亮成春梅金凤云莲荣德福祥生利元庆"
    "贵东永喜宝全义山忠和胜学新光才彬晓丹颖慧倩晶琴燕蕾"
)

MONGOLIAN_NAMES = (
    "巴特尔",
    "其其格",
    "乌云",
    "斯琴",
    "那日苏",
    "萨仁",
    "图雅",
    "额尔敦",
    "苏和",
    "宝音",
    "阿拉坦",
    "朝鲁",
    "哈斯",
    "格日勒",
    "乌兰",
    "娜仁",
    "敖登",
    "孟和",
    "吉日嘎拉",
    "达来",
)
MONGOLIAN_SHARE = 0.05
"""Baotou has a Mongolian minority; some residents carry a Mongolian name without surname."""

PLACE_WORDS = [
    "阿尔丁",
    "青年",
    "团结",
    "友谊",
    "钢铁",
    "光明",
    "幸福",
    "和平",
    "民主",
    "胜利",
    "建设",
    "新华",
    "朝阳",
    "文化",
    "富强",
    "阳光",
    "滨河",
    "北沙梁",
    "南排",
    "少先",
    "林荫",
    "鞍山",
    "前进",
    "白云",
    "黄河",
    "昆工",
    "华西",
    "宝山",
    "明珠",
    "绿都",
    "奥林",
    "天福",
    "紫金",
    "公园",
    "稀土",
    "昆仑",
    "时代",
    "文苑",
    "惠民",
    "迎宾",
    "翠竹",
    "松石",
    "丽景",
    "金桥",
    "银河",
    "星光",
    "望园",
    "祥和",
    "安居",
    "乐业",
    "和谐",
    "兴盛",
    "振华",
    "凯旋",
    "世纪",
    "东方",
    "曙光",
    "康乐",
    "春光",
    "秋实",
    "友爱",
    "长青",
    "百合",
    "红星",
    "锦绣",
    "富丽",
    "瑞祥",
    "永安",
    "华苑",
    "劳动",
    "工人",
    "体育",
    "健康",
    "先锋",
    "钢苑",
    "矿苑",
    "宁静",
    "雅园",
    "馨园",
    "景苑",
    "恒泰",
    "广厦",
    "怡然",
    "清泉",
    "牡丹",
    "海棠",
    "丁香",
    "玉兰",
    "桃园",
    "杏林",
    "梧桐",
    "银杏",
    "北梁",
    "南湖",
    "赛汗",
    "乌素",
    "巴彦",
    "呼得木林",
    "阿嘎如泰",
]

VILLAGE_WORDS = [
    "刘宝窑子",
    "西脑包",
    "边家",
    "召潭",
    "哈业脑包",
    "阿都赖",
    "乌兰计",
    "毛凤章",
    "马家店",
    "打拉亥",
    "哈林格尔",
    "三道沙河",
    "卜尔汉图",
    "昆河",
    "东营盘",
    "西营盘",
    "黄草洼",
    "石门",
    "乌兰不浪",
    "什大股",
    "四道沙河",
    "五当沟",
    "水泉",
    "大脑包",
    "前口子",
    "后口子",
    "新光",
    "红旗",
    "跃进",
    "腮忽洞",
    "古城湾",
    "沙尔沁",
    "公益明",
    "二道沙河",
    "韩庆坝",
    "黑麻板",
    "乌兰斯太",
    "白彦花",
]

COMPOUND_SUFFIXES = ("小区", "花园", "家园", "苑", "嘉园", "新村", "公寓", "雅居")
PLACE_VARIANTS = ("", "东", "西", "南", "北", "新")
VILLAGE_VARIANTS = ("", "东", "西", "南", "北", "新", "前", "后", "大", "小", "上", "下")


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` personal names: a weighted surname and one or two given-name characters."""
    surnames = np.array(list(SURNAMES))
    weights = 1.0 / np.arange(1, len(surnames) + 1) ** 0.9
    chars = np.array(list(GIVEN_CHARS))
    names = surnames[rng.choice(len(surnames), n, p=weights / weights.sum())]
    names = np.strings.add(names, chars[rng.integers(0, len(chars), n)])
    two_chars = rng.random(n) < 0.7
    names[two_chars] = np.strings.add(
        names[two_chars], chars[rng.integers(0, len(chars), int(two_chars.sum()))]
    )
    names = names.astype(object)  # a fixed-width str array would truncate longer names
    mongolian = rng.random(n) < MONGOLIAN_SHARE
    names[mongolian] = np.array(MONGOLIAN_NAMES, dtype=object)[
        rng.integers(0, len(MONGOLIAN_NAMES), int(mongolian.sum()))
    ]
    return names


def unique_place_names(
    rng: np.random.Generator, words: list[str], variants: tuple[str, ...], n: int
) -> list[str]:
    """``n`` distinct stems: the words, then word + variant (东, 西, …) once they run out."""
    stems = [w + v for v in variants for w in rng.permutation(words)]
    if n > len(stems):
        raise ValueError(f"only {len(stems)} distinct place names, {n} wanted")
    return stems[:n]


def community_names(rng: np.random.Generator, kinds: list[str]) -> list[str]:
    """Distinct names: "<stem>社区" for urban communities, "<stem>村" for villages."""
    urban = iter(unique_place_names(rng, PLACE_WORDS, PLACE_VARIANTS, kinds.count("社区")))
    villages = iter(unique_place_names(rng, VILLAGE_WORDS, VILLAGE_VARIANTS, kinds.count("村")))
    return [next(urban) + "社区" if kind == "社区" else next(villages) + "村" for kind in kinds]


def compound_names(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct residential compound (小区) names within one community."""
    stems = unique_place_names(rng, PLACE_WORDS, PLACE_VARIANTS, n)
    suffixes = rng.choice(COMPOUND_SUFFIXES, n)
    return [f"{stem}{suffix}" for stem, suffix in zip(stems, suffixes, strict=True)]
