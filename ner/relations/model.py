"""GPLinker-style relation model over a character encoder, in ``keras.ops``.

Encoder: character + bigram embeddings -> BiLSTM (the NER model's input features, without a
pretrained encoder). Heads (Su 2022, GPLinker, efficient GlobalPointer variant):

* ``entity``  [batch, 2, n, n]: ``[b, 0, i, j]`` scores characters ``i..j`` as a subject span,
  ``[b, 1, i, j]`` as an object span (start <= end, with rotary positions);
* ``head``    [batch, num_predicates, n, n]: ``[b, p, i, j]`` scores "a subject starting at ``i``
  and an object starting at ``j`` stand in relation ``p``";
* ``tail``    the same for the subjects' and objects' last characters.

A triple is decoded (numpy, ``decode``) when its two spans, its head pair and its tail pair all
score > 0. All positions are character indices of the text (no special tokens).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import keras
import numpy as np
from keras import ops

from kgpipe.ner.globalpointer import GlobalPointerHead


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


class RelationModel(keras.Model):
    """See the module docstring. Inputs: ``{"char_ids", "bigram_ids"}`` int32 [batch, n] (0 pads).

    Returns ``{"entity", "head", "tail"}`` float32 score tensors.
    """

    def __init__(self, config: RelationConfig, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.config = config
        self.char_embeddings = keras.layers.Embedding(config.vocab_size, config.embedding_dim,
                                                      name="char_embeddings")
        self.bigram_embeddings = keras.layers.Embedding(config.bigram_vocab_size, config.bigram_dim,
                                                        name="bigram_embeddings")
        self.dropout = keras.layers.Dropout(config.dropout)
        self.bilstm = keras.layers.Bidirectional(
            keras.layers.LSTM(config.lstm_units, return_sequences=True), name="bilstm")
        p = len(config.predicates)
        self.entity = GlobalPointerHead(2, config.head_size, name="entity")
        self.head = GlobalPointerHead(p, config.head_size, use_rotary=False, upper_triangle=False, name="head")
        self.tail = GlobalPointerHead(p, config.head_size, use_rotary=False, upper_triangle=False, name="tail")

    def call(self, inputs, training=False):
        hidden, mask = self._encode(inputs, training)
        return {"entity": self.entity(hidden, token_mask=mask), "head": self.head(hidden, token_mask=mask),
                "tail": self.tail(hidden, token_mask=mask)}

    def predict_factors(self, inputs):
        """Inference outputs without the dense [batch, num_predicates, n, n] pair tensors:
        ``entity`` as in ``call``, and for ``head`` / ``tail`` their ``GlobalPointerHead.factors``
        as ``{name}_pair`` [batch, n, n], ``{name}_end`` and ``{name}_start`` [batch, p, n]
        (``PairScores`` sums them for the pairs decoding asks about; same values as ``call``)."""
        hidden, mask = self._encode(inputs, False)
        out = {"entity": self.entity(hidden, token_mask=mask)}
        for name, head in (("head", self.head), ("tail", self.tail)):
            out[f"{name}_pair"], out[f"{name}_end"], out[f"{name}_start"] = head.factors(hidden)
        return out

    def _encode(self, inputs, training):
        chars = inputs["char_ids"]
        mask = ops.not_equal(chars, 0)
        bigram = self.bigram_embeddings(inputs["bigram_ids"])
        previous = ops.pad(bigram[:, :-1], ((0, 0), (1, 0), (0, 0)))
        x = ops.concatenate([self.char_embeddings(chars), previous, bigram], axis=-1)
        x = self.dropout(x, training=training)
        return self.dropout(self.bilstm(x, mask=mask, training=training), training=training), mask

    def build_all(self) -> None:
        """Creates every weight by calling the model once on a dummy batch."""
        self({"char_ids": np.array([[2, 3]], np.int32), "bigram_ids": np.array([[2, 2]], np.int32)})

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}


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


def pair_targets(rows: Sequence[Sequence[tuple[int, int, int]]], num_labels: int, n: int) -> np.ndarray:
    """Dense float32 targets [batch, num_labels, n, n] from ``(label, i, j)`` per row."""
    out = np.zeros((len(rows), num_labels, n, n), np.float32)
    for b, row in enumerate(rows):
        for label, i, j in row:
            if i < n and j < n:
                out[b, label, i, j] = 1.0
    return out
