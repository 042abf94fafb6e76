"""``RelationConfig``: the sizes of the relation model (no Keras import, so the ONNX Runtime
path and the model directory reader use it without TensorFlow)."""

from __future__ import annotations

import dataclasses

# Lexicon kinds and the width of their per-character features (``ner.lexicon.Lexicon.feature_dim``
# of jieba's five categories: 4 sets x 5 categories x 2).
LEXICONS = {"": 0, "jieba": 40}


@dataclasses.dataclass(frozen=True)
class RelationConfig:
    """Sizes of the relation model.

    Attributes:
        predicates: predicate names (head label order).
        vocab_size, bigram_vocab_size: rows of the character and bigram embeddings.
        max_length: characters per window (longer texts are read in consecutive windows).
        lexicon: ``""`` (none) or ``"jieba"``: SoftLexicon features of jieba's dictionary per
            character (``ner.lexicon``, 40 values: B/M/E/S x its five word categories x presence
            and frequency weight; rebuilt from the installed jieba at load time, as the NER
            model's), projected to ``lexicon_units`` and read beside the embeddings.
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
    lexicon: str = ""
    lexicon_units: int = 64

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
        if self.lexicon not in LEXICONS:
            raise ValueError(f"`lexicon` must be one of {sorted(LEXICONS)}. Received: lexicon={self.lexicon!r}")
        if not isinstance(self.lexicon_units, int) or self.lexicon_units < 1:
            raise ValueError(f"`lexicon_units` must be a positive integer. Received: "
                             f"lexicon_units={self.lexicon_units!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={self.dropout!r}")

    @property
    def lexicon_dim(self) -> int:
        """Width of the per-character ``lexicon`` input (0 without one)."""
        return LEXICONS[self.lexicon]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RelationConfig":
        return cls(**data)
