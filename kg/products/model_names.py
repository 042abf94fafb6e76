"""Model and series names: the Latin-script run after the brand (``华为Mate 60 Pro`` -> ``Mate 60 Pro``).

A candidate is a run of Latin-script tokens (letters, digits, ``-``, ``.``)
joined by single spaces. It is cut before the first token another attribute
holds (``256GB``, ``5G``) or that names a part rather than the product
(processors such as ``i7-13700H``, interfaces such as ``USB``), a leading brand
token is stripped (``OPPO Find X7`` -> ``Find X7``), and what is left must
look like a model: letters with a digit (``V12``), several tokens
(``Air Force 1``) or inner capitals (``ThinkPad``). The run right after a
brand mention wins; otherwise the first one that does not follow a part word
(``骁龙8Gen3`` is a processor, ``蓝牙5.2`` a Bluetooth version).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?"
_RUN = re.compile(rf"(?<![A-Za-z0-9.\-]){_TOKEN}(?: {_TOKEN})*")
# Tokens that name a part, interface or feature, never the product's model.
_PART_TOKENS = frozenset(t.upper() for t in (
    "AI", "NFC", "USB", "Type-C", "TypeC", "LED", "OLED", "AMOLED", "LCD", "HDR", "HDR10", "4K", "8K", "2K", "1080P",
    "SSD", "HDD", "RAM", "ROM", "WiFi", "Wi-Fi", "WiFi6", "WLAN", "PD", "VIP", "DIY", "CPU", "GPU", "APP", "3C", "OTG",
    "Hz", "mAh", "W", "V", "NVMe", "M.2", "SATA", "PCIe", "DDR4", "DDR5", "LPDDR5", "LPDDR5X", "IPS", "RTX", "GTX",
    "eSIM", "SIM", "XL", "XXL",
    "L", "M", "S", "XS", "SPF50", "PA", "UV", "ml", "g", "kg",
))
_PART = re.compile(r"^(?:\d+(?:\.\d+)?[x*×]\d+.*|(?:pt|au|s)\d{3}|USB\d.*|(?:i[3579]){2,}|i[3579](?:-\w+)?|R[3579]|Ryzen|\d{4,5}[A-Z]{1,2}|RTX\d+|GTX\d+|M[1-4]|SPF\d+|PA\+*|"
                   r"\d+W-\d+|[\d.]+[-~][\d.]+|[\d.]+(?:[-~][\d.]+)?(?:W|mAh|Hz|V|A|K|P|mm|cm|m|MP|mg|ug|mcg|ml))$", re.IGNORECASE)
_PART_WORDS = ("骁龙", "天玑", "麒麟", "酷睿", "锐龙", "蓝牙", "处理器", "芯片", "显卡", "像素", "防晒", "尺码", "码")


class ModelNameRule:
    """Finds the model string of a folded title.

    Args:
        latin_brands: Brand names stripped from the front of a run (case-insensitive).
        max_tokens: Most tokens kept.
    """

    def __init__(self, latin_brands: Sequence[str], max_tokens: int):
        self._brands = frozenset(b.upper() for b in latin_brands)
        self._brand_prefixes = sorted((tuple(b.upper().split()) for b in latin_brands if " " in b),
                                      key=len, reverse=True)
        self._max_tokens = max_tokens

    def find(self, folded: str, claimed: Sequence[tuple[int, int]]) -> tuple[int, int, str] | None:
        """Returns ``(start, end, model)`` or ``None``; spans in ``claimed`` (attributes, brands) are not model."""
        brand_ends = {end for _, end in claimed}
        candidates = []
        for match in _RUN.finditer(folded):
            if folded[match.start() - 1:match.start()] == "/" or folded[match.end():match.end() + 1] == "/":
                continue  # "180/96A" is a clothing size, "750g/30袋" a pack.
            found = self._candidate(folded, match, claimed)
            if found is None:
                continue
            start = found[0]
            after_brand = start in brand_ends or (start > 0 and folded[start - 1] == " " and start - 1 in brand_ends)
            after_part = folded[max(0, start - 3):start].endswith(_PART_WORDS)
            candidates.append((not after_brand, after_part, start, found))
        return min(candidates)[3] if candidates else None

    def _candidate(self, folded: str, match: re.Match[str],
                   claimed: Sequence[tuple[int, int]]) -> tuple[int, int, str] | None:
        tokens = [(t.start() + match.start(), t.end() + match.start(), t.group())
                  for t in re.finditer(r"\S+", match.group())]
        kept: list[tuple[int, int, str]] = []
        upper = tuple(t.upper() for _, _, t in tokens)
        for prefix in self._brand_prefixes:  # "New Balance 530": a brand of several words.
            if upper[:len(prefix)] == prefix:
                tokens = tokens[len(prefix):]
                break
        if match.start() == 0 and len(tokens) == 1 and tokens[0][2].isupper() and tokens[0][2].isalpha():
            return None  # A lone capitalised word opening the title is its brand ("AOC 27英寸 ...").
        for start, end, token in tokens:
            held = any(start < e and s < end for s, e in claimed)
            if not kept and (held or token.upper() in self._brands):
                continue  # A leading brand token (mention or known Latin brand) is not the model.
            if held or token.upper() in _PART_TOKENS or _PART.match(token):
                break
            kept.append((start, end, token))
        kept = kept[:self._max_tokens]
        if not kept or not _looks_like_model([t for _, _, t in kept]):
            return None
        return kept[0][0], kept[-1][1], " ".join(t for _, _, t in kept)


def _looks_like_model(tokens: list[str]) -> bool:
    text = "".join(tokens)
    if not re.search(r"[A-Za-z]", text):
        return False
    if len(tokens) == 1 and len(text) <= 2:
        return False  # "4U", "3D", "A2": grades and spec codes, not models.
    if sum(1 for t in tokens if t.isalpha() and t.islower() and len(t) >= 4) >= 2:
        return False  # "bamboo mortar and pestle": English words describing the goods.
    if re.search(r"\d", text) or len(tokens) >= 2:
        return True
    token = tokens[0]
    return bool(re.search(r"[a-z][A-Z]", token))
