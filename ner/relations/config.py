"""``RelationConfig``: the sizes of the relation model (no Keras import, so the ONNX Runtime
path and the model directory reader use it without TensorFlow)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RelationConfig:
    """Sizes of the relation model.

    Attributes:
        predicates: predicate names (head label order).
        vocab_size, bigram_vocab_size: rows of the character and bigram embeddings.
        max_length: characters per window (longer texts are read in consecutive windows).
    """

    predicates: tuple[str, ...]
    vocab_size: int
    bigram_vocab_size: int
    embedding_dim: int = 128
    bigram_dim: int = 64
    lstm_units: int = 128
    head_size: int = 64
    dropout: float = 0.1
    max_length: int = 160

    def __post_init__(self) -> None:
        object.__setattr__(self, "predicates", tuple(self.predicates))
        if not self.predicates or len(set(self.predicates)) != len(self.predicates):
            raise ValueError(f"`predicates` must be distinct and non-empty. Received: {self.predicates!r}")
        for name in ("vocab_size", "bigram_vocab_size", "embedding_dim", "bigram_dim", "lstm_units",
                     "head_size", "max_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2 or (name == "head_size" and value % 2):
                raise ValueError(f"`{name}` must be an integer >= 2 (head_size even). Received: "
                                 f"{name}={value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={self.dropout!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RelationConfig":
        return cls(**data)
