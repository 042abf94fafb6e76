"""Triples from the relation model's scores, in numpy (no Keras import): ``decode`` one
sentence's entity and pair scores; ``PairScores`` sums a row's factored pair scores on demand."""

from __future__ import annotations

import numpy as np


class PairScores:
    """One row's head (or tail) pair scores from ``RelationModel.predict_factors``:
    ``at(i, j)`` is ``scores[:, i, j]`` (float32 [num_predicates]) of the dense tensor."""

    def __init__(self, pair: np.ndarray, end_bias: np.ndarray, start_bias: np.ndarray):
        self.pair, self.end_bias, self.start_bias = pair, end_bias, start_bias

    def at(self, i: int, j: int) -> np.ndarray:
        return (self.pair[i, j] + self.end_bias[:, j]) + self.start_bias[:, i]


def decode(entity: np.ndarray, head, tail, length: int,
           threshold: float = 0.0) -> list[tuple[int, int, int, int, int, float]]:
    """Triples from one sentence's scores (numpy).

    Args:
        entity: [2, n, n]; head, tail: [num_predicates, n, n] (one row of the model output) or
            ``PairScores`` of that row.
        length: real characters in the row.

    Returns:
        ``(subject_start, subject_end, predicate_index, object_start, object_end, score)`` with
        ``end`` exclusive and ``score`` the smallest of the four logits, sorted by position.
    """
    entity = entity[:, :length, :length]
    if not isinstance(head, PairScores):  # dense [p, n, n]
        head, tail = _Dense(head), _Dense(tail)
    subjects = [(i, j, entity[0, i, j]) for i, j in zip(*np.nonzero(entity[0] > threshold))]
    objects = [(i, j, entity[1, i, j]) for i, j in zip(*np.nonzero(entity[1] > threshold))]
    triples = []
    for sh, st, s_score in subjects:
        for oh, ot, o_score in objects:
            head_scores, tail_scores = head.at(sh, oh), tail.at(st, ot)
            both = np.nonzero((head_scores > threshold) & (tail_scores > threshold))[0]
            for p in both.tolist():
                score = float(min(s_score, o_score, head_scores[p], tail_scores[p]))
                triples.append((int(sh), int(st) + 1, p, int(oh), int(ot) + 1, score))
    return sorted(triples)


class _Dense:
    def __init__(self, scores: np.ndarray):
        self.scores = scores

    def at(self, i: int, j: int) -> np.ndarray:
        return self.scores[:, i, j]
