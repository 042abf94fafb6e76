"""Sentence splitting: the one definition every stage shares.

Pure Python with no dependencies, so ``ner`` (windows for the model) and ``kg``
(sentences for co-occurrence and relations) cut text the same way without
``kg`` importing ``ner``. Offsets are Unicode code points, ``[start, end)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence ends after terminal punctuation (and any closing quotes or
# brackets that follow it) or at a line break.
_SENTENCE_END = re.compile(r"(?:[。！？!?；;…]+[”’\"'」』）)\]]*|\.(?=\s)|\n+)")


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yields ``[start, end)`` spans of the sentences of ``text``, whitespace trimmed.

    Args:
        text: Any text.

    Yields:
        Non-empty spans in text order; ``text[start:end]`` neither starts nor ends with whitespace.
    """
    start = 0
    for match in _SENTENCE_END.finditer(text):
        yield from trimmed(text, start, match.end())
        start = match.end()
    yield from trimmed(text, start, len(text))


def trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yields ``[start, end)`` without leading and trailing whitespace, if anything is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end
