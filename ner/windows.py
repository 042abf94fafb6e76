"""Splits documents into sentence windows that fit the NER model.

Pure Python, no TensorFlow: the pipeline calls it before batching. Sentences come
from ``schemas.text`` (shared with ``kg``). Offsets are
kept exact: for every window ``w``, ``document.text[w.start:w.end] == w.text``.
"""

from __future__ import annotations

from collections.abc import Iterator

from kgpipe.schemas.records import Document, TextWindow
from kgpipe.schemas.text import sentence_spans, trimmed

__all__ = ["sentence_spans", "split_windows"]  # sentence_spans lives in schemas.text (kg uses it too).

# Where a too-long sentence may be cut, best first.
_SOFT_BREAKS = ("，", ",", "、", "：", ":", " ", "\t")


def _cut(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cuts ``text[start:end]`` into pieces of at most ``max_chars``, at soft breaks if any."""
    while end - start > max_chars:
        limit = start + max_chars
        cut = max((text.rfind(b, start + max_chars // 2, limit) for b in _SOFT_BREAKS), default=-1)
        cut = cut + 1 if cut >= 0 else limit
        yield from trimmed(text, start, cut)
        start = cut
    yield from trimmed(text, start, end)


def split_windows(document: Document, max_chars: int, min_chars: int = 8) -> list[TextWindow]:
    """Splits a document into windows of whole sentences.

    Args:
        document: The document to split.
        max_chars: Longest window, in characters (the model's ``max_window_chars``).
        min_chars: Sentences shorter than this are joined to the next one, so
            fragments such as headings do not each cost a model row.

    Returns:
        Windows in document order, covering every non-blank sentence once.
    """
    if max_chars < 1:
        raise ValueError(f"`max_chars` must be positive. Received: max_chars={max_chars}")
    text = document.text
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        spans.extend(_cut(text, start, end, max_chars))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] - merged[-1][0] < min_chars and end - merged[-1][0] <= max_chars:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [TextWindow(document.id, start, text[start:end]) for start, end in merged]
