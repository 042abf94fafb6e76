"""Attributes of product titles by rules: model, storage, memory, size, colour, network, weight, volume, pack count.

Specifications in e-commerce titles follow a few fixed spellings (``12GB+512GB``,
``14英寸``, ``500ml×24瓶``, ``子夜黑``), so regular expressions read them more
reliably than a tagger trained on few examples would. Each attribute keeps its
character span ``[start, end)`` in the title (code points of the original text:
full-width forms are folded one character for one) and a normalised value:
a canonical decimal and UN/CEFACT unit code for quantities (``kg.products.units``),
the colour name as written, ``"5G"``/``"4G"`` for networks, and the Latin-script
model string with the brand stripped (``"Mate 60 Pro"``).

The rules and their order are documented at each step; ``bench/product_attributes.py``
scores them on the labelled titles in ``tests/kg/data/``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence

from kgpipe.kg.products import colors, units
from kgpipe.kg.products.model_names import ModelNameRule


# Latin-script brand names that open titles before the model ("OPPO Find X7"); written for kgpipe.
DEFAULT_LATIN_BRANDS = (
    "Apple", "HUAWEI", "Xiaomi", "Redmi", "OPPO", "vivo", "iQOO", "realme", "OnePlus", "HONOR", "Samsung", "Sony",
    "Lenovo", "DELL", "HP", "ASUS", "Acer", "MSI", "Microsoft", "Nintendo", "Canon", "Nikon", "Fujifilm", "DJI",
    "Dyson", "Philips", "Panasonic", "Haier", "Midea", "Gree", "Bose", "JBL", "Beats", "Anker", "Logitech", "SanDisk",
    "Kingston", "WD", "Seagate", "Nike", "Adidas", "PUMA", "Converse", "Vans", "FILA", "ANTA", "Lining", "UNIQLO",
    "ZARA", "Levis", "Lancome", "Estee", "Lauder", "LOREAL", "SK-II", "Shiseido", "MAC", "Dior", "Chanel", "Nestle",
    "Coca-Cola", "Pepsi", "LEGO", "Decathlon", "Tesla", "BYD", "Casio", "Swatch", "Rolex", "Edifier", "Hisense",
    "TCL", "Skyworth", "Joyoung", "Supor", "Bear", "Roborock", "Ecovacs", "Dreame", "Insta360", "GoPro",
    "New Balance", "Under Armour", "The North Face", "Estee Lauder",
)


class AttributeName(str, enum.Enum):
    """The attributes read from titles; values are the names used in triples and evaluation."""

    MODEL = "model"
    STORAGE = "storage"
    MEMORY = "memory"
    SIZE = "size"
    COLOR = "color"
    NETWORK = "network"
    WEIGHT = "weight"
    VOLUME = "volume"
    PACK_COUNT = "pack_count"


QUANTITATIVE = frozenset({AttributeName.STORAGE, AttributeName.MEMORY, AttributeName.SIZE,
                          AttributeName.WEIGHT, AttributeName.VOLUME, AttributeName.PACK_COUNT})


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One attribute value read from a title.

    Attributes:
        name: Which attribute.
        value: Normalised value: a canonical decimal for quantities, else text.
        unit_code: UN/CEFACT code of a quantity's unit (``None`` for text values).
        unit_text: The unit's symbol (``"GB"``), ``None`` for text values.
        start, end: Character offsets ``[start, end)`` of the supporting text.
        text: The supporting text as written.
        confidence: Rule confidence in [0, 1].
    """

    name: AttributeName
    value: str
    unit_code: str | None
    unit_text: str | None
    start: int
    end: int
    text: str
    confidence: float

    @property
    def key(self) -> tuple[str, str, str | None]:
        """``(name, value, unit_code)``: what evaluation compares (exact match)."""
        return self.name.value, self.value, self.unit_code


@dataclasses.dataclass(frozen=True)
class AttributeConfig:
    """Configuration of the rule-based attribute extractor.

    Attributes:
        latin_brands: Latin-script brand names stripped from the front of a model
            string (``"OPPO Find X7"`` -> ``"Find X7"``); case-insensitive. Brand
            mentions passed to ``extract`` are stripped as well.
        max_model_tokens: Most space-separated tokens in a model string.
        max_memory_gb: Largest capacity (in GB) read as memory rather than storage
            when two capacities stand without keywords (``16G 512G``).
    """

    latin_brands: tuple[str, ...] = DEFAULT_LATIN_BRANDS
    max_model_tokens: int = 6
    max_memory_gb: int = 32

    def __post_init__(self) -> None:
        if not isinstance(self.latin_brands, tuple) or not all(isinstance(b, str) and b for b in self.latin_brands):
            raise ValueError(f"`latin_brands` must be a tuple of non-empty strings. "
                             f"Received: latin_brands={self.latin_brands!r}")
        for name in ("max_model_tokens", "max_memory_gb"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


_NUMBER = r"(\d+(?:\.\d+)?)"
_COUNTERS = "支瓶罐听包袋盒片粒只个卷条双件枚块桶箱对套颗根张提贴组"
_CONTAINERS = "支瓶罐听包袋盒片粒卷桶箱双颗提贴"
_COMBO = re.compile(r"(?<![\dA-Za-z.])(\d+)\s?(GB|G|TB|T)?\s?([+/])\s?(\d+)\s?(TB|GB|T|G)(?![A-Za-z])")
_CAPACITY = re.compile(rf"(?<![\dA-Za-z.+/]){_NUMBER}\s?(TB|GB|MB|T|G)(?![A-Za-z0-9恤])")
_SIZE = re.compile(rf"(?<![\d.]){_NUMBER}\s?(英寸|寸|吋|inch)")
# A unit glued to more letters or digits is part of a model code ("46l16hc", "306g4stz9"); "3/4g" is a network.
_WEIGHT = re.compile(rf"(?<![\d.A-Za-z/]){_NUMBER}\s?(千克|公斤|毫克|kg|KG|Kg|mg|g|克|斤|磅|lb)(?![A-Za-z0-9拉])")
_VOLUME = re.compile(rf"(?<![\d.A-Za-z/]){_NUMBER}\s?(毫升|ml|mL|ML|L|l|升)(?![A-Za-z0-9级])")
_PACK_RULES = (  # (pattern, confidence): "12支装", "×24瓶" / "*2", "60粒"; not "60*60" (a size), "送1盒", "10包起".
    (re.compile(rf"(?<![\d.])(\d+)\s?[{_COUNTERS}]装"), 0.95),
    (re.compile(rf"(?:(?<![\d.\s])\s?[×*]|(?:(?<=ml)|(?<=[gL克升装袋包瓶片]))[xX])\s?(\d+)(?:\s?[{_COUNTERS}])?"
                rf"(?![\d.*×xX])"), 0.9),
    (re.compile(rf"(?<![\d.A-Za-z送赠买])(\d+)\s?[{_CONTAINERS}](?![装起])"), 0.8),
)
_NETWORK = re.compile(r"(?<![\dA-Za-z.+/])([2345])G(?![A-Za-z0-9+/])")
_MEMORY_WORDS = re.compile(r"内存(?!卡)|运存|运行内存|RAM|DDR|LPDDR")
_STORAGE_WORDS = re.compile(r"存储|固态|硬盘|SSD|ROM|闪存|机身|U盘|内存卡|TF卡|SD卡|HDD")


class AttributeExtractor:
    """Reads attributes from product titles (pure, deterministic).

    Args:
        config: The extractor configuration; default ``AttributeConfig()``.
    """

    def __init__(self, config: AttributeConfig | None = None):
        self.config = config or AttributeConfig()
        self._model = ModelNameRule(self.config.latin_brands, self.config.max_model_tokens)

    def extract(self, text: str, brand_spans: Sequence[tuple[int, int]] = ()) -> list[Attribute]:
        """Returns the attributes of one title, ordered by ``(start, name)``.

        Args:
            text: The title (any script; full-width forms are read as ASCII).
            brand_spans: ``[start, end)`` spans of brand mentions in ``text``,
                kept out of the model string.
        """
        folded = units.fold(text)
        found: list[Attribute] = []
        self._capacities(text, folded, found)
        for pattern, name, table, confidence in ((_SIZE, AttributeName.SIZE, units.LENGTH_UNITS, 0.95),
                                                 (_WEIGHT, AttributeName.WEIGHT, units.WEIGHT_UNITS, 0.9),
                                                 (_VOLUME, AttributeName.VOLUME, units.VOLUME_UNITS, 0.9)):
            for match in pattern.finditer(folded):
                self._add_quantity(found, text, match, name, match.group(1), table[match.group(2)], confidence)
        for pattern, confidence in _PACK_RULES:
            for match in pattern.finditer(folded):
                self._add_quantity(found, text, match, AttributeName.PACK_COUNT, match.group(1), units.COUNT,
                                   confidence)
        for match in _NETWORK.finditer(folded):
            _add(found, Attribute(AttributeName.NETWORK, f"{match.group(1)}G", None, None, match.start(), match.end(),
                                  text[match.start():match.end()], 0.9))
        specs = [a.end for a in found if a.name in (AttributeName.STORAGE, AttributeName.MEMORY)]
        for start, end, name in colors.find_colors(folded, _claimed(found), specs):
            _add(found, Attribute(AttributeName.COLOR, text[start:end], None, None, start, end, text[start:end], 0.8))
        model = self._model.find(folded, _claimed(found) + list(brand_spans))
        if model is not None:
            start, end, value = model
            _add(found, Attribute(AttributeName.MODEL, value, None, None, start, end, text[start:end], 0.7))
        return sorted(found, key=lambda a: (a.start, a.name.value, a.end))

    def _capacities(self, text: str, folded: str, found: list[Attribute]) -> None:
        """Storage and memory: ``12GB+512GB`` pairs first, then lone capacities by their keywords."""
        for match in _COMBO.finditer(folded):
            first, second = int(match.group(1)), int(match.group(4))
            if match.group(3) == "/" and first > self.config.max_memory_gb:
                continue  # "256GB/512GB": a choice of storage sizes, read one by one below.
            second_unit = units.INFORMATION_UNITS[match.group(5)]
            first_unit = units.INFORMATION_UNITS[match.group(2)] if match.group(2) else units.INFORMATION_UNITS["GB"]
            split = match.start(3)
            parts = ((AttributeName.MEMORY, first, first_unit, match.start(), split),
                     (AttributeName.STORAGE, second, second_unit, split + 1, match.end()))
            for name, number, unit, start, end in parts:
                start, end = _strip(folded, start, end)
                _add(found, Attribute(name, str(number), unit.code, unit.text, start, end, text[start:end], 0.95))
        lone = [m for m in _CAPACITY.finditer(folded) if not _overlaps((m.start(), m.end()), _claimed(found))]
        keyed = [self._capacity_role(folded, m) for m in lone]
        for match, role in zip(lone, keyed):
            if role is False:
                continue
            unit = units.INFORMATION_UNITS[match.group(2)]
            unit_role = role or self._unmarked_role(match, [m for m, r in zip(lone, keyed) if r is not False])
            self._add_quantity(found, text, match, unit_role, match.group(1), unit, 0.9 if role else 0.75)

    def _unmarked_role(self, match: re.Match[str], capacities: list[re.Match[str]]) -> AttributeName:
        """A capacity no word marks: memory if small and a larger capacity (>= 128 GB) stands beside it."""
        size = _gigabytes(match)
        if size <= self.config.max_memory_gb and any(_gigabytes(m) >= 128 for m in capacities if m is not match):
            return AttributeName.MEMORY
        return AttributeName.STORAGE

    @staticmethod
    def _capacity_role(folded: str, match: re.Match[str]) -> AttributeName | None | bool:
        """Memory or storage from the words next to a capacity; ``None`` if no word says; ``False``: not a capacity."""
        after, before = folded[match.end():match.end() + 8], folded[max(0, match.start() - 8):match.start()]
        for context in (after, before):
            memory, storage = _MEMORY_WORDS.search(context), _STORAGE_WORDS.search(context)
            if memory or storage:
                if memory and storage:  # The nearer word decides.
                    near = (lambda m: m.start()) if context is after else (lambda m: -m.end())
                    return AttributeName.MEMORY if near(memory) < near(storage) else AttributeName.STORAGE
                return AttributeName.MEMORY if memory else AttributeName.STORAGE
        bare = match.group(2) in ("G", "T")
        if bare and match.group(2) == "G" and match.group(1) in ("2", "3", "4", "5"):
            return False  # "5G": a network (read below), not five gigabytes.
        if bare and match.group(2) == "T" and float(match.group(1)) > 16:
            return False
        return None

    @staticmethod
    def _add_quantity(found: list[Attribute], text: str, match: re.Match[str], name: AttributeName, number: str,
                      unit: units.Unit, confidence: float) -> None:
        start, end = _strip(text, match.start(), match.end())
        if units.fold(text[start]) in "×*xX":  # "×24瓶": the span is the count, not the sign.
            start, end = _strip(text, start + 1, end)
        _add(found, Attribute(name, units.normalise_number(number, unit), unit.code, unit.text or None, start, end,
                              text[start:end], confidence))


def _gigabytes(match: re.Match[str]) -> float:
    factor = {"T": 1024, "TB": 1024, "MB": 1 / 1024}.get(match.group(2), 1)
    return float(match.group(1)) * factor


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _claimed(found: Sequence[Attribute]) -> list[tuple[int, int]]:
    return [(a.start, a.end) for a in found]


def _overlaps(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _add(found: list[Attribute], attribute: Attribute) -> None:
    """Adds ``attribute`` unless an earlier rule already read an overlapping span (earlier rules win)."""
    if attribute.start < attribute.end and not _overlaps((attribute.start, attribute.end), _claimed(found)):
        found.append(attribute)
