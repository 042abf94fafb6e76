"""Tag schemes (BIO, BIOES, BMES; BILOU read as BIOES) <-> entity spans.

Spans are ``(start, end, label)`` with ``end`` exclusive, over positions of the tag sequence.
Reading is conlleval-lenient: an ``I-``/``M-``/``E-`` tag that does not continue an open entity of
the same label starts a new one, so no tag is silently lost.
"""

from __future__ import annotations

import enum
from typing import Iterable, Sequence

Span = tuple[int, int, str]


class TagScheme(str, enum.Enum):
    BIO = "BIO"
    BIOES = "BIOES"
    BMES = "BMES"


_PREFIX_ALIASES = {"L": "E", "U": "S"}  # BILOU


def _split(tag: str) -> tuple[str, str]:
    if tag in ("O", ""):
        return "O", ""
    if len(tag) > 2 and tag[1] in "-_":
        prefix = _PREFIX_ALIASES.get(tag[0].upper(), tag[0].upper())
        if prefix in "BIMES":
            return prefix, tag[2:]
    raise ValueError(f"cannot read tag {tag!r}: expected O or a B/I/M/E/S/L/U- prefix")


def detect_scheme(tags: Iterable[str]) -> TagScheme:
    """Guesses the scheme from the prefixes used: M -> BMES, E or S -> BIOES, else BIO."""
    prefixes = {_split(t)[0] for t in tags}
    if "M" in prefixes:
        return TagScheme.BMES
    if prefixes & {"E", "S"}:
        return TagScheme.BIOES
    return TagScheme.BIO


def tags_to_spans(tags: Sequence[str]) -> list[Span]:
    """Reads entity spans from tags in any supported scheme."""
    spans: list[Span] = []
    start, label = None, None
    for i, tag in enumerate(tags):
        prefix, tag_label = _split(tag)
        if prefix in ("I", "M", "E") and start is not None and tag_label == label:
            if prefix == "E":
                spans.append((start, i + 1, label))
                start, label = None, None
            continue
        if start is not None:
            spans.append((start, i, label))
            start, label = None, None
        if prefix == "S":
            spans.append((i, i + 1, tag_label))
        elif prefix == "E":
            spans.append((i, i + 1, tag_label))
        elif prefix != "O":
            start, label = i, tag_label
    if start is not None:
        spans.append((start, len(tags), label))
    return spans


def spans_to_tags(spans: Iterable[Span], length: int, scheme: TagScheme | str) -> list[str]:
    """Writes non-overlapping spans as tags of ``length`` positions in ``scheme``."""
    scheme = TagScheme(scheme)
    tags = ["O"] * length
    inside = "M" if scheme is TagScheme.BMES else "I"
    for start, end, label in sorted(spans):
        if not 0 <= start < end <= length:
            raise ValueError(f"span {(start, end, label)} outside 0..{length}")
        if any(t != "O" for t in tags[start:end]):
            raise ValueError(f"span {(start, end, label)} overlaps another span")
        if scheme is TagScheme.BIO:
            tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
        elif end - start == 1:
            tags[start] = f"S-{label}"
        else:
            tags[start:end] = ([f"B-{label}"] + [f"{inside}-{label}"] * (end - start - 2)
                               + [f"E-{label}"])
    return tags


def tag_set(labels: Iterable[str], scheme: TagScheme | str) -> tuple[str, ...]:
    """All tags of ``scheme`` over ``labels``: ``O`` first, then per label in sorted order."""
    scheme = TagScheme(scheme)
    prefixes = {TagScheme.BIO: "BI", TagScheme.BIOES: "BIES", TagScheme.BMES: "BMES"}[scheme]
    return ("O",) + tuple(f"{p}-{label}" for label in sorted(set(labels)) for p in prefixes)
