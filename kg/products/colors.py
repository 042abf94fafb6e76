"""Colour names in product titles: ``子夜黑``, ``原色钛金属``, ``经典白色板鞋`` -> ``白色``.

Two rules. A whole title segment (between spaces or ``/，,|``) of 2-6 Chinese
characters that ends in a colour character (``黑白红蓝绿灰银紫黄青棕``, ``金``
and ``粉`` only after a colour modifier) or in ``色``/``钛金属`` is a colour name
(sellers' colour names stand alone: ``雅丹黑``, ``远峰蓝``), unless it is one of
the words that merely end like one (``美白``, ``奶粉``, ``网红``, ``纯银``). Inside a
longer run, ``[modifier]X色`` with a colour character ``X`` is a colour
(``经典白色板鞋`` -> ``白色``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

_HAN = "\u4e00-\u9fff"
_COLOR_CHARS = "黑白红蓝绿灰银紫黄青棕褐橙"
# Words that end like a colour name but are not one (whitening, milk powder, internet-famous, ...).
_NOT_COLORS = ("变色", "美白", "亮白", "焕白", "蛋白", "黑白", "网红", "口红", "腮红", "纯银", "足银", "水银", "收银", "文青",
               "蛋黄", "脐橙", "血橙", "发黑", "拉黑", "抹黑", "漂白", "洁白", "变白", "显白", "秋冬红", "新年红")
_NOT_GOLD_COLORS = ("足金", "黄金", "铂金", "白金", "合金", "现金", "奖金", "基金", "押金", "定金", "资金", "租金", "鎏金",
                    "镀金", "烫金", "薪金", "赤金", "纯金", "千足金", "万足金")
_MODIFIED_ENDINGS = re.compile(r"(?:香槟|玫瑰|流沙|土豪|琥珀|晨曦|曜|星|流光|樱花|珊瑚|少女|蜜桃|梦幻|裸|浅|淡|雾|藕)[金粉]$")
_SEGMENT = re.compile(rf"(?<![{_HAN}A-Za-z0-9])[{_HAN}]{{2,6}}(?![{_HAN}A-Za-z0-9])")
_IN_RUN = re.compile(rf"(?:正|深|浅|亮|暗|淡|藏|宝|天|湖|墨|军|酒|奶|雾|象牙|香槟|玫瑰|橄榄|卡其|咖啡|珍珠|米)?"
                     rf"[{_COLOR_CHARS}]色|(?:卡其|咖啡|香槟|玫瑰金|驼|杏|米)色")
# A segment opening with a colour name of its own ("午夜色铝金属表壳").
_LEADING = re.compile(rf"(?<![{_HAN}A-Za-z0-9])[{_HAN}]{{1,2}}色(?=[{_HAN}])")
_NOT_IN_RUN = ("变色", "绿色有机", "绿色无公害", "绿色天然", "本色", "彩色", "特色", "出色", "原色", "角色", "成色", "黑色星期", "绿色食品", "绿色健康", "绿色环保",
               "红色经典")


# Words after a storage spec that describe something else ("全网通", "鸿蒙手机", "官方标配").
_NOT_AFTER_SPEC = ("手机", "电脑", "平板", "版", "款", "机", "屏", "芯", "像素", "电池", "通", "续航", "影像", "快充", "标配",
                   "套装", "官方", "正品", "现货", "国行", "内存", "存储", "固态", "硬盘", "卡", "盘", "游戏", "学生", "办公")


def _is_color_name(word: str) -> bool:
    if word.endswith(_NOT_COLORS) or any(n in word for n in ("美白", "蛋白", "奶粉")):
        return False
    if word.endswith(("色", "钛金属")) and not word.endswith(("本色", "彩色", "特色", "出色", "角色", "成色")):
        return True
    if word[-1] in _COLOR_CHARS:
        return True
    if word[-1] == "金" and len(word) >= 3 and not word.endswith(_NOT_GOLD_COLORS):
        return True  # "鸣沙金", "香槟金"; "足金", "18K金" name the metal.
    return bool(_MODIFIED_ENDINGS.search(word))


def find_colors(folded: str, claimed: Sequence[tuple[int, int]] = (),
                anchors: Sequence[int] = ()) -> Iterator[tuple[int, int, str]]:
    """Yields ``(start, end, name)`` of colour names in a folded title, outside ``claimed`` spans.

    Args:
        folded: A title after ``units.fold`` (offsets are the original's).
        claimed: Spans other attributes already hold.
        anchors: Ends of storage specs: sellers write the colour right after them
            (``12GB+512GB 月光宝石``), so a short segment there is a colour name too.
    """
    taken = list(claimed)

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e in taken)

    for match in _SEGMENT.finditer(folded):
        word = match.group()
        after_spec = match.start() - 1 in anchors and folded[match.start() - 1] == " " and len(word) <= 4
        if after_spec and any(part in word for part in _NOT_AFTER_SPEC):
            after_spec = False
        if (_is_color_name(word) or after_spec) and free(match.start(), match.end()):
            taken.append((match.start(), match.end()))
            yield match.start(), match.end(), word
    for match in [*_LEADING.finditer(folded), *_IN_RUN.finditer(folded)]:
        tail = folded[match.start():match.start() + 6]
        if any(tail.startswith(word) for word in _NOT_IN_RUN) or not free(match.start(), match.end()):
            continue
        taken.append((match.start(), match.end()))
        yield match.start(), match.end(), match.group()
