"""GlobalPointer: one score per (start, end, label) token span, for flat and nested entities.

The efficient variant (Su et al. 2022, "Efficient GlobalPointer"): a shared query/key projection
with rotary position encoding (RoPE) scores whether tokens ``i..j`` form *an* entity, and a
small per-label bias from each end token says *which* label::

    score[b, t, i, j] = <rope(q_i), rope(k_j)> / sqrt(d) + (w_t . x_i + w'_t . x_j) / 2

Spans with ``i > j`` and spans touching padding score ``-1e12``. A span is predicted when its
score is > 0; the loss is the multi-label categorical cross-entropy over all spans of a label
(Su's "softmax + cross-entropy for multi-label"), which needs no negative sampling.

The layer is written in ``keras.ops`` (any Keras backend); decoding is numpy, kept apart as with
the CRF (``ner.decoding.decode_globalpointer``).
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
from keras import ops

NEGATIVE = -1e12  # score of impossible spans (start after end, padding)


def rotary(x, positions_dim: int):
    """Applies rotary position encoding to ``x`` float [batch, seq, dim] (dim even)."""
    seq_length = ops.shape(x)[1]
    positions = ops.cast(ops.arange(seq_length), "float32")
    inverse = ops.power(10000.0, -2.0 * ops.arange(positions_dim // 2, dtype="float32")
                        / positions_dim)
    angles = positions[:, None] * inverse[None, :]  # [seq, dim/2]
    cos = ops.repeat(ops.cos(angles), 2, axis=-1)[None]
    sin = ops.repeat(ops.sin(angles), 2, axis=-1)[None]
    # Pairs (x0, x1) -> (-x1, x0), interleaved as in the reference implementation.
    rotated = ops.reshape(ops.stack([-x[..., 1::2], x[..., ::2]], axis=-1), ops.shape(x))
    return x * cos + rotated * sin


class GlobalPointerHead(keras.layers.Layer):
    """Efficient GlobalPointer over encoder outputs.

    Call: ``hidden`` float [batch_size, seq_length, hidden_size], ``token_mask`` bool/int
    [batch_size, seq_length] (true for real tokens) -> float32 scores
    [batch_size, num_labels, seq_length, seq_length]; ``scores[b, t, i, j]`` scores tokens
    ``i..j`` (inclusive) as label ``t``.

    For pair scores (GPLinker's head/tail pointers, ``ner.relations``) ``use_rotary=False`` drops
    the positions and ``upper_triangle=False`` keeps pairs with ``i > j``.
    """

    def __init__(self, num_labels: int, head_size: int = 64, use_rotary: bool = True,
                 upper_triangle: bool = True, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.num_labels = num_labels
        self.head_size = head_size
        self.use_rotary, self.upper_triangle = use_rotary, upper_triangle
        self.query_key = keras.layers.Dense(2 * head_size, name="query_key", dtype="float32")
        self.label_bias = keras.layers.Dense(2 * num_labels, name="label_bias", dtype="float32")

    def build(self, input_shape):
        self.query_key.build(input_shape)
        self.label_bias.build((None, None, 2 * self.head_size))
        self.built = True

    def call(self, hidden, token_mask=None):
        pair, end_bias, start_bias = self.factors(hidden)
        scores = pair[:, None] + end_bias[:, :, None, :] + start_bias[:, :, :, None]
        seq_length = ops.shape(scores)[-1]
        valid = ops.ones((1, 1, seq_length, seq_length), "float32")
        if self.upper_triangle:
            index = ops.arange(seq_length)
            valid = ops.cast(index[:, None] <= index[None, :], "float32")[None, None]
        if token_mask is not None:
            m = ops.cast(token_mask, "float32")
            valid = valid * m[:, None, :, None] * m[:, None, None, :]
        return scores * valid + NEGATIVE * (1.0 - valid)

    def factors(self, hidden):
        """The three parts every score is the sum of, without the [b, t, n, n] broadcast:
        ``scores[b, t, i, j] = (pair[b, i, j] + end_bias[b, t, j]) + start_bias[b, t, i]`` before
        masking (in that order, so a caller summing them in numpy gets the same float32 values).

        Returns:
            ``pair`` float32 [batch_size, seq_length, seq_length] (scaled query . key, shared by
            the labels), ``end_bias`` and ``start_bias`` float32 [batch_size, num_labels, seq_length].
        """
        x = self.query_key(ops.cast(hidden, "float32"))  # [b, n, 2d]
        query, key = x[..., ::2], x[..., 1::2]
        if self.use_rotary:
            query, key = rotary(query, self.head_size), rotary(key, self.head_size)
        pair = ops.einsum("bmd,bnd->bmn", query, key) / float(np.sqrt(self.head_size))
        bias = ops.transpose(self.label_bias(x), (0, 2, 1)) / 2.0  # [b, 2t, n]
        return pair, bias[:, ::2], bias[:, 1::2]

    def get_config(self):
        return {**super().get_config(), "num_labels": self.num_labels, "head_size": self.head_size,
                "use_rotary": self.use_rotary, "upper_triangle": self.upper_triangle}


def globalpointer_loss(scores, targets):
    """Multi-label categorical cross-entropy per (row, label), averaged over rows.

    Args:
        scores: float32 [batch_size, num_labels, seq_length, seq_length] (head output).
        targets: float32 of the same shape, 1 for gold spans, else 0.

    Returns:
        float32 scalar: mean over rows of the loss summed over labels.
    """
    shape = ops.shape(scores)
    scores = ops.reshape(scores, (shape[0] * shape[1], -1))
    targets = ops.reshape(ops.cast(targets, "float32"), (shape[0] * shape[1], -1))
    scores = (1.0 - 2.0 * targets) * scores  # gold spans negated: both sides want "< 0"
    negative = scores - targets * 1e12
    positive = scores - (1.0 - targets) * 1e12
    zeros = ops.zeros_like(scores[:, :1])
    loss = (ops.logsumexp(ops.concatenate([negative, zeros], axis=-1), axis=-1)
            + ops.logsumexp(ops.concatenate([positive, zeros], axis=-1), axis=-1))
    return ops.sum(ops.reshape(loss, (shape[0], shape[1])), axis=1)


def span_targets(spans: Sequence[Sequence[tuple[int, int, int]]], num_labels: int,
                 seq_length: int) -> np.ndarray:
    """Dense targets: ``spans[b]`` holds ``(start, end_inclusive, label_index)`` token spans.

    Returns:
        float32 [batch_size, num_labels, seq_length, seq_length].
    """
    out = np.zeros((len(spans), num_labels, seq_length, seq_length), np.float32)
    for row, row_spans in enumerate(spans):
        for start, end, label in row_spans:
            out[row, label, start, end] = 1.0
    return out
