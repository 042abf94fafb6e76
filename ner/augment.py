"""Mention replacement: new training sentences with other names of the same type in them.

A tagger trained from scratch overfits its training entities (dev F1 peaks after ~3 epochs while
the loss keeps falling). Swapping every mention of a sentence for another training mention of the
same type (Dai & Adel 2020, "An Analysis of Simple Data Augmentation for Named Entity
Recognition") keeps the context that signals an entity while breaking the memorised pairing of
context and name. Replacements are drawn uniformly from the *distinct* surfaces of each type, so
rare names are shown as often as frequent ones.
"""

from __future__ import annotations

import random
from typing import Sequence

from kgpipe.ner.data import Example


def replace_mentions(examples: Sequence[Example], count: int, *, seed: int = 13) -> list[Example]:
    """``count`` new sentences: random entity-bearing ``examples`` with every mention replaced.

    Args:
        examples: training sentences (never a dev or test split: their names would leak).
        count: how many sentences to make.
        seed: makes the result reproducible.

    Returns:
        Sentences whose spans point at the replacement names; empty if no example has a mention.
    """
    if count < 0:
        raise ValueError(f"`count` must be >= 0. Received: count={count}")
    sources = [ex for ex in examples if ex.spans and _disjoint(ex.spans)]
    surfaces: dict[str, set[str]] = {}
    for ex in sources:
        for start, end, label in ex.spans:
            surfaces.setdefault(label, set()).add(ex.text[start:end])
    pools = {label: sorted(names) for label, names in surfaces.items()}
    rng = random.Random(seed)
    out = []
    for _ in range(count if sources else 0):
        ex = rng.choice(sources)
        pieces, spans, pos, length = [], [], 0, 0
        for start, end, label in sorted(ex.spans):
            name = rng.choice(pools[label])
            pieces.append(ex.text[pos:start])
            length += start - pos
            spans.append((length, length + len(name), label))
            pieces.append(name)
            length += len(name)
            pos = end
        pieces.append(ex.text[pos:])
        out.append(Example("".join(pieces), tuple(spans)))
    return out


def _disjoint(spans) -> bool:
    ordered = sorted(spans)
    return all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:]))
