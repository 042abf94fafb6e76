"""Micro precision / recall / F1 from counts: the one scoring record every evaluator uses."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Score:
    """Counts of one exact-match evaluation and the micro P/R/F1 they give.

    Attributes:
        true_positives: Predictions that match a gold item exactly.
        predicted: All predictions.
        gold: All gold items.
    """

    true_positives: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "true_positives": self.true_positives, "predicted": self.predicted,
                "gold": self.gold}
