"""Entity-level scores: exact span and type, micro precision/recall/F1 and per type (conlleval)."""

from __future__ import annotations

import collections
import dataclasses
from typing import Iterable, Sequence

from kgpipe.schemas.scores import Score  # noqa: F401  (re-exported: ner.evaluation.Score)


@dataclasses.dataclass(frozen=True)
class EntityScores:
    micro: Score
    per_type: dict[str, Score]

    def to_dict(self) -> dict:
        return {"micro": self.micro.to_dict(),
                "per_type": {k: v.to_dict() for k, v in sorted(self.per_type.items())}}


def entity_scores(gold: Sequence[Iterable[tuple[int, int, str]]],
                  predicted: Sequence[Iterable[tuple[int, int, str]]]) -> EntityScores:
    """Scores predicted spans against gold spans, sentence by sentence.

    Args:
        gold, predicted: per sentence, ``(start, end, label)`` spans (extra fields ignored).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences, predicted {len(predicted)}")
    tp, n_pred, n_gold = collections.Counter(), collections.Counter(), collections.Counter()
    for gold_spans, pred_spans in zip(gold, predicted):
        g = {tuple(s[:3]) for s in gold_spans}
        p = {tuple(s[:3]) for s in pred_spans}
        for span in g:
            n_gold[span[2]] += 1
        for span in p:
            n_pred[span[2]] += 1
            if span in g:
                tp[span[2]] += 1
    labels = sorted(set(n_gold) | set(n_pred))
    per_type = {label: Score(tp[label], n_pred[label], n_gold[label]) for label in labels}
    micro = Score(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return EntityScores(micro, per_type)
