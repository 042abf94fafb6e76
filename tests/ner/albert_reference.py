"""An independent numpy ALBERT forward pass over raw TF1 checkpoint variables, for tests.

Written from the two reference ``modeling.py`` files (google-research/albert and brightmart
albert_zh), not from ``ner.albert``: it reads variables by their checkpoint names, computes in
float64 and follows each original's control flow (Google's ``int(l / L * G)`` group schedule and
its optional ``embedding_hidden_mapping_in``; brightmart's ``word_embeddings_2`` projection
before the position/type sum and its one ``layer_shared`` layer, post-LN or pre-LN).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """The tanh approximation of GELU used by both reference implementations."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


_ACTIVATIONS = {"gelu": gelu_tanh, "relu": lambda x: np.maximum(x, 0.0), "tanh": np.tanh}


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
               epsilon: float = 1e-12) -> np.ndarray:
    """``tf.contrib.layers.layer_norm`` over the last axis (its epsilon is 1e-12)."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


class _Weights:
    """Reads checkpoint variables as float64, remembering which were used."""

    def __init__(self, variables: Mapping[str, np.ndarray]):
        self._variables = variables
        self.used: set[str] = set()

    def __call__(self, name: str) -> np.ndarray:
        self.used.add(name)
        return np.asarray(self._variables[name], dtype=np.float64)

    def __contains__(self, name: str) -> bool:
        return name in self._variables


def _dense(w: _Weights, x: np.ndarray, scope: str, bias: bool = True) -> np.ndarray:
    y = x @ w(f"{scope}/kernel")
    return y + w(f"{scope}/bias") if bias else y


def _self_attention(w: _Weights, x: np.ndarray, scope: str, heads: int,
                    input_mask: np.ndarray) -> np.ndarray:
    """Multi-head self-attention; ``scope`` holds ``query``, ``key``, ``value``."""
    batch, length, hidden = x.shape
    size = hidden // heads

    def split(t):  # [B, S, H] -> [B, N, S, D]
        return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

    q, k, v = (split(_dense(w, x, f"{scope}/{n}")) for n in ("query", "key", "value"))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size)
    scores = scores + (1.0 - input_mask[:, None, None, :].astype(np.float64)) * -10000.0
    scores = scores - scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    return (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)


def _google_block(w, x, scope, config, input_mask):
    """``attention_ffn_block`` of google-research/albert (always post-LN)."""
    act = _ACTIVATIONS[config["hidden_act"]]
    attention = _self_attention(w, x, f"{scope}/attention_1/self",
                                config["num_attention_heads"], input_mask)
    attention = _dense(w, attention, f"{scope}/attention_1/output/dense")
    attention = layer_norm(attention + x, w(f"{scope}/LayerNorm/gamma"),
                           w(f"{scope}/LayerNorm/beta"))
    ffn = act(_dense(w, attention, f"{scope}/ffn_1/intermediate/dense"))
    ffn = _dense(w, ffn, f"{scope}/ffn_1/intermediate/output/dense")
    return layer_norm(ffn + attention, w(f"{scope}/LayerNorm_1/gamma"),
                      w(f"{scope}/LayerNorm_1/beta"))


def _brightmart_block(w, x, config, input_mask):
    """One application of brightmart's ``layer_shared`` (``transformer_model`` or its pre-LN)."""
    s = "bert/encoder/layer_shared"
    act = _ACTIVATIONS[config["hidden_act"]]
    heads = config["num_attention_heads"]
    norm_1 = lambda t: layer_norm(t, w(f"{s}/attention/output/LayerNorm/gamma"),
                                  w(f"{s}/attention/output/LayerNorm/beta"))
    norm_2 = lambda t: layer_norm(t, w(f"{s}/output/LayerNorm/gamma"),
                                  w(f"{s}/output/LayerNorm/beta"))
    if config.get("ln_type", "postln") == "preln":
        attention = _self_attention(w, norm_1(x), f"{s}/attention/self", heads, input_mask)
        attention = _dense(w, attention, f"{s}/attention/output/dense") + x
        ffn = _dense(w, act(_dense(w, norm_2(attention), f"{s}/intermediate/dense")),
                     f"{s}/output/dense")
        return ffn + attention
    attention = _self_attention(w, x, f"{s}/attention/self", heads, input_mask)
    attention = norm_1(_dense(w, attention, f"{s}/attention/output/dense") + x)
    ffn = _dense(w, act(_dense(w, attention, f"{s}/intermediate/dense")), f"{s}/output/dense")
    return norm_2(ffn + attention)


def _embeddings(w, config, layout, token_ids, segment_ids):
    e = "bert/embeddings"
    words = w(f"{e}/word_embeddings")[token_ids]
    if layout == "brightmart":
        words = words @ w(f"{e}/word_embeddings_2")
    length = token_ids.shape[1]
    summed = words + w(f"{e}/token_type_embeddings")[segment_ids] \
        + w(f"{e}/position_embeddings")[:length][None]
    x = layer_norm(summed, w(f"{e}/LayerNorm/gamma"), w(f"{e}/LayerNorm/beta"))
    mapping = "bert/encoder/embedding_hidden_mapping_in"
    if layout == "google" and x.shape[-1] != config["hidden_size"]:
        x = _dense(w, x, mapping)
    return x


def sequence_output(variables: Mapping[str, np.ndarray], config: Mapping[str, Any], layout: str,
                    token_ids: np.ndarray, segment_ids: np.ndarray,
                    input_mask: np.ndarray) -> tuple[np.ndarray, set[str]]:
    """ALBERT's final hidden states.

    Args:
        variables: TF1 checkpoint variables by name.
        config: ``albert_config.json`` fields.
        layout: ``"google"`` or ``"brightmart"``.
        token_ids, segment_ids: int arrays [batch_size, seq_length].
        input_mask: 0/1 array [batch_size, seq_length], 1 for real tokens.

    Returns:
        float64 array [batch_size, seq_length, hidden_size], and the variable names read.
    """
    w = _Weights(variables)
    x = _embeddings(w, config, layout, token_ids, segment_ids)
    layers = config["num_hidden_layers"]
    for layer in range(layers):
        if layout == "brightmart":
            x = _brightmart_block(w, x, config, input_mask)
            continue
        group = int(layer / layers * config.get("num_hidden_groups", 1))
        for inner in range(config.get("inner_group_num", 1)):
            scope = f"bert/encoder/transformer/group_{group}/inner_group_{inner}"
            x = _google_block(w, x, scope, config, input_mask)
    return x, w.used
