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
import re
from typing import Mapping, Sequence

from kgpipe.ner.data import Example


def replace_mentions(examples: Sequence[Example], count: int, *, seed: int = 13,
                     names: Mapping[str, Sequence[str]] | None = None,
                     names_share: float = 0.5,
                     labels: Sequence[str] | None = None) -> list[Example]:
    """``count`` new sentences: random entity-bearing ``examples`` with every mention replaced.

    Args:
        examples: training sentences (never a dev or test split: their names would leak).
        count: how many sentences to make.
        seed: makes the result reproducible.
        names: optional outside name lists per label (e.g. a brand list, read with
            ``read_names``): a mention of such a label takes a name from it with probability
            ``names_share``, else another training surface. Used at training time only; the
            names are never stored with the model.
        names_share: that probability, in [0, 1].
        labels: replace mentions of these labels only (None: all); sentences without one of
            them are not used. E.g. brands only, where product words must stay in context.

    Returns:
        Sentences whose spans point at the replacement names; empty if no example has a mention.
    """
    if count < 0:
        raise ValueError(f"`count` must be >= 0. Received: count={count}")
    if not 0.0 <= names_share <= 1.0:
        raise ValueError(f"`names_share` must be in [0, 1]. Received: names_share={names_share}")
    names = {label: list(pool) for label, pool in (names or {}).items() if pool}
    chosen = None if labels is None else set(labels)
    sources = [ex for ex in examples if ex.spans and _disjoint(ex.spans)
               and (chosen is None or any(label in chosen for _, _, label in ex.spans))]
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
            if chosen is not None and label not in chosen:
                pieces.append(ex.text[pos:end])
                spans.append((length + start - pos, length + end - pos, label))
                length += end - pos
                pos = end
                continue
            outside = names.get(label)
            name = rng.choice(outside if outside and rng.random() < names_share else pools[label])
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


_PAREN = re.compile(r"^(?P<outer>[^（(]+?)\s*[（(](?P<inner>[^）)]+)[）)]\s*$")


def name_forms(name: str) -> list[str]:
    """``name`` and, for ``法雷奥（VALEO）``, ``法雷奥`` and ``VALEO``: the forms running text writes."""
    name = name.strip()
    match = _PAREN.match(name)
    return [name] + ([match["outer"].strip(), match["inner"].strip()] if match else [])


def read_names(path: str, *, lowercase: bool = False) -> list[str]:
    """Distinct names from a one-name-per-line file, as they would appear in running text.

    ``法雷奥（VALEO）`` gives ``法雷奥`` and ``VALEO`` (and the whole form), since product titles
    write either; blank lines and names of one character are skipped. ``lowercase`` matches
    corpora stored in lower case (e.g. the e-commerce NER corpus).

    Raises:
        ValueError: if the file holds no usable name.
    """
    out: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            for form in name_forms(line):
                form = form.lower() if lowercase else form
                if len(form) > 1:
                    out.add(form)
    if not out:
        raise ValueError(f"name list {path!r} holds no name of two or more characters")
    return sorted(out)
