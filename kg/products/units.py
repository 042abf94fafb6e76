"""Units of product specifications: surface units -> UN/CEFACT Recommendation 20 codes.

``schema:unitCode`` takes UN/CEFACT common codes (GB -> ``E34``, inch ->
``INH``, kg -> ``KGM``). A Chinese market unit with no code of its own is
converted to one that has: 斤 (500 g) is read as 0.5 kg. Everything else keeps
the unit the title states (a 1 TB drive stays ``1 E35``), so a value is
exactly what the seller wrote, in a standard spelling.
"""

from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal
from pathlib import Path

import opencc

# Full-width ASCII (U+FF01-FF5E) and the ideographic space fold to ASCII one
# character for one, so offsets in the folded text are offsets in the original.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@dataclasses.dataclass(frozen=True)
class Unit:
    """A unit as written and what it normalises to.

    Attributes:
        code: UN/CEFACT common code (``schema:unitCode``).
        text: The unit's usual symbol (``schema:unitText``).
        factor: Multiplier from the written number to a value in ``code``.
    """

    code: str
    text: str
    factor: Decimal = Decimal(1)


_GB, _TB, _MB = Unit("E34", "GB"), Unit("E35", "TB"), Unit("4L", "MB")
_KG, _G, _MG, _LB = Unit("KGM", "kg"), Unit("GRM", "g"), Unit("MGM", "mg"), Unit("LBR", "lb")
_ML, _L, _INCH, _ONE = Unit("MLT", "ml"), Unit("LTR", "L"), Unit("INH", "in"), Unit("C62", "")

INFORMATION_UNITS = {"TB": _TB, "T": _TB, "GB": _GB, "G": _GB, "MB": _MB, "M": _MB}
WEIGHT_UNITS = {"kg": _KG, "KG": _KG, "Kg": _KG, "千克": _KG, "公斤": _KG, "斤": Unit("KGM", "kg", Decimal("0.5")),
                "g": _G, "克": _G, "mg": _MG, "毫克": _MG, "lb": _LB, "磅": _LB}
VOLUME_UNITS = {"ml": _ML, "mL": _ML, "ML": _ML, "毫升": _ML, "L": _L, "l": _L, "升": _L}
LENGTH_UNITS = {"英寸": _INCH, "寸": _INCH, "吋": _INCH, "inch": _INCH, '"': _INCH}
COUNT = _ONE


@functools.lru_cache(maxsize=1)
def _fold_table() -> dict[int, int]:
    """Width folding plus traditional -> simplified Chinese, one character for one.

    OpenCC's character table (``TSCharacters.txt``, first candidate) is read once;
    characters whose simplified form is ambiguous or not one code point are kept.
    """
    table = dict(_FOLD)
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text("utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        candidates = simplified.split()
        if len(traditional) == 1 and len(candidates) == 1 and len(candidates[0]) == 1:
            table[ord(traditional)] = ord(candidates[0])
    return table


def fold(text: str) -> str:
    """Returns ``text`` for matching: full-width ASCII and U+3000 folded to ASCII, traditional
    Chinese characters to simplified (``手機`` -> ``手机``); same length, same offsets."""
    return text.translate(_fold_table())


def normalise_number(number: str, unit: Unit = COUNT) -> str:
    """Returns the canonical decimal form of ``number`` times the unit's factor (``"2.50"`` -> ``"2.5"``).

    Raises:
        ValueError: If ``number`` is not a decimal number.
    """
    try:
        value = Decimal(number) * unit.factor
    except ArithmeticError as error:
        raise ValueError(f"Not a decimal number. Received: number={number!r}") from error
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"
