"""Triple-level scores: exact ``(subject, predicate, object)`` strings per sentence, micro P/R/F1."""

from __future__ import annotations

import collections
from typing import Iterable


def _prf(correct: int, predicted: int, gold: int) -> dict:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "correct": correct,
            "predicted": predicted, "gold": gold}


def score_triples(pairs: Iterable[tuple[set, set]]) -> dict:
    """Micro P/R/F1 over sentences, overall and per predicate.

    Args:
        pairs: per sentence, ``(gold, predicted)`` sets of ``(subject, predicate, object)`` strings.

    Returns:
        ``{"micro": {...}, "per_predicate": {predicate: {...}}, "sentences": int}``; each score
        dict has precision, recall, f1, correct, predicted, gold.
    """
    counts = collections.defaultdict(lambda: [0, 0, 0])  # correct, predicted, gold
    sentences = 0
    for gold, predicted in pairs:
        sentences += 1
        for triple in predicted:
            counts[triple[1]][1] += 1
            counts[triple[1]][0] += triple in gold
        for triple in gold:
            counts[triple[1]][2] += 1
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {"micro": _prf(*total), "sentences": sentences,
            "per_predicate": {p: _prf(*counts[p]) for p in sorted(counts)}}
