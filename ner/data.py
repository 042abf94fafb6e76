"""Readers and writers for NER corpora: column files (BIO/BIOES/BMES) and CLUENER JSON lines.

Every reader returns ``Example``s: the sentence text plus entity spans as character offsets
``[start, end)`` into that text; the label set comes from the data.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Iterable, Mapping, Sequence

from kgpipe.ner import schemes


@dataclasses.dataclass(frozen=True)
class Example:
    """One annotated sentence. ``spans``: ``(start, end, label)`` character offsets, end exclusive."""

    text: str
    spans: tuple[tuple[int, int, str], ...]

    def __post_init__(self):
        for start, end, label in self.spans:
            if not 0 <= start < end <= len(self.text):
                raise ValueError(f"span {(start, end, label)} outside text of {len(self.text)} chars")

    @property
    def labels(self) -> set[str]:
        return {label for _, _, label in self.spans}


def _relabel(spans, label_map):
    if not label_map:
        return tuple(spans)
    return tuple((s, e, label_map.get(label, label)) for s, e, label in spans
                 if label_map.get(label, label) is not None)


def read_column_file(path: str | os.PathLike, *,
                     label_map: Mapping[str, str | None] | None = None) -> list[Example]:
    """Reads ``char TAG`` lines (tab or space separated), blank lines between sentences.

    The scheme (BIO, BIOES/BILOU, BMES) is detected per sentence from its tags. ``label_map``
    renames labels (a ``None`` value drops that label), e.g. ``{"HP": "BRAND", "HC": "PRODUCT"}``.
    """
    examples, chars, tags = [], [], []

    def flush():
        if chars:
            examples.append(Example("".join(chars), _relabel(schemes.tags_to_spans(tags), label_map)))
        chars.clear()
        tags.clear()

    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                flush()
                continue
            if "\t" in line:
                char, _, tag = line.rpartition("\t")
            else:
                char, _, tag = line.rpartition(" ")
            if len(char) != 1:
                # Multi-character token (e.g. a Latin word in some corpora) or a space char.
                char = char if char else " "
            if not tag:
                raise ValueError(f"{path}:{line_number}: expected 'char TAG', got {line!r}")
            # Tokens longer than one char expand to chars with the tag continued inside.
            chars.append(char)
            tags.append(tag)
            if len(char) > 1:
                prefix, label = tag[:1], tag[2:]
                chars[-1] = char[0]
                inner = "I" if prefix in "BI" else prefix
                for extra in char[1:]:
                    chars.append(extra)
                    tags.append("O" if tag == "O" else f"{inner}-{label}")
    flush()
    return examples


def write_column_file(path: str | os.PathLike, examples: Iterable[Example],
                      scheme: schemes.TagScheme | str = "BIO", separator: str = " ") -> None:
    """Writes examples as ``char<separator>TAG`` lines in ``scheme``."""
    with open(path, "w", encoding="utf-8") as f:
        for example in examples:
            tags = schemes.spans_to_tags(example.spans, len(example.text), scheme)
            f.writelines(f"{c}{separator}{t}\n" for c, t in zip(example.text, tags))
            f.write("\n")


def read_cluener(path: str | os.PathLike, *,
                 label_map: Mapping[str, str | None] | None = None) -> list[Example]:
    """Reads CLUENER JSON lines: ``{"text": .., "label": {type: {surface: [[start, end_incl]]}}}``."""
    examples = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            spans = sorted((start, end + 1, label)
                           for label, surfaces in (record.get("label") or {}).items()
                           for positions in surfaces.values() for start, end in positions)
            examples.append(Example(record["text"], _relabel(spans, label_map)))
    return examples


def read_examples(path: str | os.PathLike, *,
                  label_map: Mapping[str, str | None] | None = None) -> list[Example]:
    """Reads a corpus by its format: ``.json``/``.jsonl`` as CMeEE-style records (``entities``,
    ``ner.nested``) or CLUENER, anything else as columns."""
    if str(path).endswith((".json", ".jsonl")):
        from kgpipe.ner.nested import is_cmeee, read_cmeee
        if is_cmeee(path):
            return read_cmeee(path, label_map=label_map)
        return read_cluener(path, label_map=label_map)
    return read_column_file(path, label_map=label_map)


def label_set(examples: Sequence[Example]) -> tuple[str, ...]:
    return tuple(sorted({label for ex in examples for label in ex.labels}))


def split_long(example: Example, max_chars: int) -> list[Example]:
    """Splits a sentence longer than ``max_chars`` at punctuation, never inside an entity."""
    if len(example.text) <= max_chars:
        return [example]
    inside = [False] * (len(example.text) + 1)
    for start, end, _ in example.spans:
        for i in range(start + 1, end):
            inside[i] = True
    pieces, start = [], 0
    while len(example.text) - start > max_chars:
        cut = None
        for i in range(start + max_chars, start, -1):
            if not inside[i] and example.text[i - 1] in "，。；！？,;!?、：:）)":
                cut = i
                break
        if cut is None:
            cut = next((i for i in range(start + max_chars, start, -1) if not inside[i]),
                       start + max_chars)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, len(example.text)))
    return [Example(example.text[a:b], tuple((s - a, e - a, label) for s, e, label in example.spans
                                             if a <= s and e <= b))
            for a, b in pieces]
