"""Surface-form normalisation shared by the alias index, the linker and NIL keys.

One function, :func:`normalize`, turns every spelling variant of a name into
the same key:

* NFKC (full-width ``ＡＢＣ１２３`` -> ``abc123``, compatibility forms),
* accents dropped (``Zürich`` -> ``zurich``) and case folded,
* traditional -> simplified Chinese (``蘋果`` -> ``苹果``), using the
  character table of opencc-python-reimplemented (``TSCharacters``),
* whitespace, punctuation and control characters removed
  (``New York`` = ``new-york`` = ``NEW  YORK``; ``阿里·巴巴`` = ``阿里巴巴``).

The mapping is applied *per character*, so a document can be normalised with
an offset map back to its original characters (:func:`normalize_with_offsets`)
and any substring of the normalised document equals the normalised form of the
original substring. That is why the traditional -> simplified step uses the
character table rather than OpenCC's phrase conversion: both sides of a match
go through the same table, so consistency matters more than the rare phrase
where the character choice differs.
"""

from __future__ import annotations

import functools
import importlib.resources
import unicodedata

# Version of the key scheme; stored in index manifests so an index built with
# another scheme is rejected instead of silently missing every lookup.
NORMALIZATION_VERSION = "1"

_DROPPED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


@functools.lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[str, str]:
    """Returns OpenCC's traditional -> simplified character table (first choice)."""
    text = (
        importlib.resources.files("opencc")
        .joinpath("dictionary", "TSCharacters.txt")
        .read_text("utf-8")
    )
    table: dict[str, str] = {}
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets:
            table[source] = targets.split(" ", 1)[0]
    return table


def _normalize_char(char: str) -> str:
    """Returns the normalised form of one character ('' if it is dropped)."""
    out = []
    for piece in unicodedata.normalize("NFKD", char):
        if unicodedata.category(piece) == "Mn":  # combining accent
            continue
        out.append(piece)
    composed = unicodedata.normalize("NFKC", "".join(out)).casefold()
    t2s = _traditional_to_simplified()
    kept = []
    for piece in composed:
        if unicodedata.category(piece) in _DROPPED_CATEGORIES:
            continue
        kept.append(t2s.get(piece, piece))
    return "".join(kept)


class _CharTable(dict):
    """``str.translate`` table that computes and caches each character on first use."""

    def __missing__(self, codepoint: int) -> str:
        value = _normalize_char(chr(codepoint))
        self[codepoint] = value
        return value


_TABLE = _CharTable()


def normalize(text: str) -> str:
    """Returns the lookup key of a surface form.

    Args:
        text: Any surface form, e.g. ``"蘋果 公司"`` or ``"ＡＰＰＬＥ"``.

    Returns:
        The normalised key, e.g. ``"苹果公司"`` or ``"apple"``; ``""`` if
        nothing but whitespace and punctuation was given.
    """
    return text.translate(_TABLE)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalises a text and maps every output character back to the input.

    Args:
        text: The original text.

    Returns:
        ``(normalised, origin)`` where ``origin[i]`` is the index in ``text`` of
        the character that produced ``normalised[i]`` (so the span
        ``normalised[i:j]`` covers ``text[origin[i]:origin[j - 1] + 1]``).
    """
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        mapped = _TABLE[ord(char)]
        if mapped:
            pieces.append(mapped)
            origin.extend([index] * len(mapped))
    return "".join(pieces), origin
