"""GPLinker-style relation model over a character encoder, in ``keras.ops``.

Encoder: character + bigram embeddings (+ projected jieba SoftLexicon features when the config
asks for them) -> BiLSTM (the NER model's input features, without a pretrained encoder). Heads
(Su 2022, GPLinker, efficient GlobalPointer variant):

* ``entity``  [batch, 2, n, n]: ``[b, 0, i, j]`` scores characters ``i..j`` as a subject span,
  ``[b, 1, i, j]`` as an object span (start <= end, with rotary positions);
* ``head``    [batch, num_predicates, n, n]: ``[b, p, i, j]`` scores "a subject starting at ``i``
  and an object starting at ``j`` stand in relation ``p``";
* ``tail``    the same for the subjects' and objects' last characters.

A triple is decoded (numpy, ``decoding.decode``) when its two spans, its head pair and its tail pair all
score > 0. All positions are character indices of the text (no special tokens).
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
from keras import ops

from kgpipe.ner.globalpointer import GlobalPointerHead
from kgpipe.ner.relations.config import RelationConfig


class RelationModel(keras.Model):
    """See the module docstring. Inputs: ``{"char_ids", "bigram_ids"}`` int32 [batch, n] (0 pads),
    and ``"lexicon"`` float32 [batch, n, config.lexicon_dim] when ``config.lexicon`` is set.

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
        self.lexicon_projection = (keras.layers.Dense(config.lexicon_units, name="lexicon_projection")
                                   if config.lexicon_dim else None)
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
        parts = [self.char_embeddings(chars), previous, bigram]
        if self.lexicon_projection is not None:
            parts.append(self.lexicon_projection(ops.cast(inputs["lexicon"], "float32")))
        x = ops.concatenate(parts, axis=-1)
        x = self.dropout(x, training=training)
        return self.dropout(self.bilstm(x, mask=mask, training=training), training=training), mask

    def build_all(self) -> None:
        """Creates every weight by calling the model once on a dummy batch."""
        # Ids 1 (unknown): every vocabulary has them, however small (RelationConfig: size >= 2).
        inputs = {"char_ids": np.array([[1, 1]], np.int32), "bigram_ids": np.array([[1, 1]], np.int32)}
        if self.config.lexicon_dim:
            inputs["lexicon"] = np.zeros((1, 2, self.config.lexicon_dim), np.float32)
        self(inputs)

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}


def pair_targets(rows: Sequence[Sequence[tuple[int, int, int]]], num_labels: int, n: int) -> np.ndarray:
    """Dense float32 targets [batch, num_labels, n, n] from ``(label, i, j)`` per row."""
    out = np.zeros((len(rows), num_labels, n, n), np.float32)
    for b, row in enumerate(rows):
        for label, i, j in row:
            if i < n and j < n:
                out[b, label, i, j] = 1.0
    return out
