"""ALBERT encoder in Keras 3 (TensorFlow backend), faithful to the official checkpoints.

The encoder is ALBERT (Lan et al. 2019): factorised word embeddings, a projection from
``embedding_size`` to ``hidden_size`` and transformer layers whose weights are shared across
depth (``num_hidden_groups`` groups of ``inner_group_num`` layers; albert_zh uses one group of
one layer, applied ``num_hidden_layers`` times). Sublayers are post-LN (official ALBERT) or
pre-LN (``ln_type="preln"``, an albert_zh option), with tanh-approximated GELU as in the
reference ``modeling.py``.

Two embedding layouts exist in the wild and both are supported (``AlbertConfig.embedding_layout``):

* ``"google"`` (google-research/albert, and albert_zh's ``*_google_zh`` releases): word,
  position and token-type embeddings all have width ``embedding_size``; they are summed,
  layer-normalised, then projected to ``hidden_size`` by ``embedding_hidden_mapping_in``.
* ``"brightmart"`` (brightmart albert_zh tiny/small/base/large): word embeddings of width
  ``embedding_size`` are projected (no bias) by ``word_embeddings_2`` to ``hidden_size``;
  position and token-type embeddings have width ``hidden_size``; the sum is layer-normalised.

Extra per-token input embeddings (bigram, lexicon features) of width ``embedding_size`` are
added to the word embeddings before the projection, so a checkpoint's weights stay usable.

Weights, in the order ``AlbertEncoder.named_weights()`` returns them (``E`` embedding_size,
``H`` hidden_size, ``I`` intermediate_size, ``V`` vocab_size, ``P`` max_position_embeddings,
``T`` type_vocab_size). Google layout, with ``L = bert/encoder/transformer/group_{g}/inner_group_{k}``
for every group ``g`` and inner layer ``k``::

    bert/embeddings/word_embeddings                         [V, E]
    bert/embeddings/token_type_embeddings                   [T, E]
    bert/embeddings/position_embeddings                     [P, E]
    bert/embeddings/LayerNorm/gamma, beta                   [E]
    bert/encoder/embedding_hidden_mapping_in/kernel         [E, H]
    bert/encoder/embedding_hidden_mapping_in/bias           [H]
    L/attention_1/self/query/kernel, bias                   [H, H], [H]
    L/attention_1/self/key/kernel, bias                     [H, H], [H]
    L/attention_1/self/value/kernel, bias                   [H, H], [H]
    L/attention_1/output/dense/kernel, bias                 [H, H], [H]
    L/LayerNorm/gamma, beta                                 [H]      (after attention)
    L/ffn_1/intermediate/dense/kernel, bias                 [H, I], [I]
    L/ffn_1/intermediate/output/dense/kernel, bias          [I, H], [H]
    L/LayerNorm_1/gamma, beta                               [H]      (after the FFN)

Brightmart layout (one shared layer, ``S = bert/encoder/layer_shared``)::

    bert/embeddings/word_embeddings                         [V, E]
    bert/embeddings/word_embeddings_2                       [E, H]   (projection, no bias)
    bert/embeddings/token_type_embeddings                   [T, H]
    bert/embeddings/position_embeddings                     [P, H]
    bert/embeddings/LayerNorm/gamma, beta                   [H]
    S/attention/self/query/kernel, bias                     [H, H], [H]
    S/attention/self/key/kernel, bias                       [H, H], [H]
    S/attention/self/value/kernel, bias                     [H, H], [H]
    S/attention/output/dense/kernel, bias                   [H, H], [H]
    S/attention/output/LayerNorm/gamma, beta                [H]
    S/intermediate/dense/kernel, bias                       [H, I], [I]
    S/output/dense/kernel, bias                             [I, H], [H]
    S/output/LayerNorm/gamma, beta                          [H]

The pooler (``bert/pooler/dense``) and pre-training heads (``cls/...``) are not part of the
encoder; an importer should skip them explicitly. Kernels are ``[in, out]`` exactly as in TF1.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from kgpipe.ner.albert_config import PRESETS, AlbertConfig  # noqa: F401  (re-exported)


def _activation(name: str):
    if name in ("gelu", "gelu_new"):  # the reference modeling.py uses the tanh approximation
        return lambda x: keras.activations.gelu(x, approximate=True)
    if name == "gelu_exact":
        return lambda x: keras.activations.gelu(x, approximate=False)
    return keras.activations.get(name)


class AlbertLayer(keras.layers.Layer):
    """One transformer layer (self-attention + FFN), applied repeatedly by ``AlbertEncoder``.

    Call: ``hidden`` float Tensor [batch_size, seq_length, hidden_size], ``attention_bias``
    float Tensor [batch_size, 1, 1, seq_length] (0 for real tokens, large negative for padding)
    -> float Tensor [batch_size, seq_length, hidden_size].
    """

    def __init__(self, config: AlbertConfig, layout: str = "google", **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c = config
        init = keras.initializers.TruncatedNormal(stddev=c.initializer_range)
        eps = c.layer_norm_epsilon
        dense = lambda units, name: keras.layers.Dense(units, kernel_initializer=init, name=name)
        self.query = dense(c.hidden_size, "query")
        self.key = dense(c.hidden_size, "key")
        self.value = dense(c.hidden_size, "value")
        self.attention_output = dense(c.hidden_size, "attention_output")
        self.attention_norm = keras.layers.LayerNormalization(epsilon=eps, name="attention_norm")
        self.intermediate = dense(c.intermediate_size, "intermediate")
        self.ffn_output = dense(c.hidden_size, "ffn_output")
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=eps, name="ffn_norm")
        self.attention_dropout = keras.layers.Dropout(c.attention_probs_dropout_prob)
        self.hidden_dropout = keras.layers.Dropout(c.hidden_dropout_prob)
        self._act = _activation(c.hidden_act)
        # Names of this layer's weights in each checkpoint layout, relative to its scope.
        if layout == "google":
            self.checkpoint_names = {
                "query": "attention_1/self/query", "key": "attention_1/self/key",
                "value": "attention_1/self/value", "attention_output": "attention_1/output/dense",
                "attention_norm": "LayerNorm", "intermediate": "ffn_1/intermediate/dense",
                "ffn_output": "ffn_1/intermediate/output/dense", "ffn_norm": "LayerNorm_1"}
        else:
            self.checkpoint_names = {
                "query": "attention/self/query", "key": "attention/self/key",
                "value": "attention/self/value", "attention_output": "attention/output/dense",
                "attention_norm": "attention/output/LayerNorm", "intermediate": "intermediate/dense",
                "ffn_output": "output/dense", "ffn_norm": "output/LayerNorm"}

    def build(self, input_shape):
        h, i = self.config.hidden_size, self.config.intermediate_size
        for layer in (self.query, self.key, self.value, self.attention_output):
            layer.build((None, None, h))
        self.attention_norm.build((None, None, h))
        self.intermediate.build((None, None, h))
        self.ffn_output.build((None, None, i))
        self.ffn_norm.build((None, None, h))
        self.built = True

    def _split_heads(self, x):
        heads = self.config.num_attention_heads
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], heads, self.config.hidden_size // heads))
        return ops.transpose(x, (0, 2, 1, 3))  # [batch, heads, seq, head_dim]

    def _attention(self, x, attention_bias, training):
        q, k, v = (self._split_heads(f(x)) for f in (self.query, self.key, self.value))
        head_dim = self.config.hidden_size // self.config.num_attention_heads
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(head_dim)
        scores = ops.cast(scores, "float32") + ops.cast(attention_bias, "float32")
        probs = ops.cast(ops.softmax(scores, axis=-1), v.dtype)
        probs = self.attention_dropout(probs, training=training)
        context = ops.transpose(ops.matmul(probs, v), (0, 2, 1, 3))
        shape = ops.shape(context)
        context = ops.reshape(context, (shape[0], shape[1], self.config.hidden_size))
        return self.hidden_dropout(self.attention_output(context), training=training)

    def _ffn(self, x, training):
        return self.hidden_dropout(self.ffn_output(self._act(self.intermediate(x))),
                                   training=training)

    def call(self, hidden, attention_bias, training=False):
        if self.config.ln_type == "postln":
            hidden = self.attention_norm(hidden + self._attention(hidden, attention_bias, training))
            return self.ffn_norm(hidden + self._ffn(hidden, training))
        hidden = hidden + self._attention(self.attention_norm(hidden), attention_bias, training)
        return hidden + self._ffn(self.ffn_norm(hidden), training)

    def named_weights(self, scope: str) -> list[tuple[str, Any]]:
        """``(checkpoint name, variable)`` pairs under ``scope`` in the documented order."""
        out = []
        for attr in ("query", "key", "value", "attention_output", "attention_norm",
                     "intermediate", "ffn_output", "ffn_norm"):
            layer = getattr(self, attr)
            suffixes = ("gamma", "beta") if "norm" in attr else ("kernel", "bias")
            out += [(f"{scope}/{self.checkpoint_names[attr]}/{s}", w)
                    for s, w in zip(suffixes, layer.weights)]
        return out


class AlbertEncoder(keras.layers.Layer):
    """ALBERT encoder.

    Call arguments:
        token_ids: int32 Tensor of shape [batch_size, seq_length].
        segment_ids: int32 Tensor [batch_size, seq_length] (token types), or None for all zeros.
        padding_mask: bool/int Tensor [batch_size, seq_length], true for real tokens, or None
            for ``token_ids != 0``.
        extra_embeddings: float Tensor [batch_size, seq_length, embedding_size] added to the word
            embeddings before the projection to ``hidden_size`` (bigram, lexicon features), or None.
        training: bool, enables dropout.

    Returns:
        float Tensor of shape [batch_size, seq_length, hidden_size].
    """

    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.config = config
        c = config
        init = keras.initializers.TruncatedNormal(stddev=c.initializer_range)
        side = c.embedding_size if c.embedding_layout == "google" else c.hidden_size
        self.word_embeddings = keras.layers.Embedding(
            c.vocab_size, c.embedding_size, embeddings_initializer=init, name="word_embeddings")
        self.token_type_embeddings = keras.layers.Embedding(
            c.type_vocab_size, side, embeddings_initializer=init, name="token_type_embeddings")
        self.position_embeddings = keras.layers.Embedding(
            c.max_position_embeddings, side, embeddings_initializer=init, name="position_embeddings")
        self.embedding_norm = keras.layers.LayerNormalization(
            epsilon=c.layer_norm_epsilon, name="embedding_norm")
        self.embedding_dropout = keras.layers.Dropout(c.hidden_dropout_prob)
        self.embedding_projection = keras.layers.Dense(
            c.hidden_size, kernel_initializer=init, use_bias=c.embedding_layout == "google",
            name="embedding_projection")
        # With 0 layers (embeddings only, e.g. under a BiLSTM) no transformer weights are built.
        self.groups = [
            [AlbertLayer(c, c.embedding_layout, name=f"group_{g}_inner_{k}")
             for k in range(c.inner_group_num)]
            for g in range(c.num_hidden_groups)] if c.num_hidden_layers else []

    def build(self, input_shape=None):
        c = self.config
        side = c.embedding_size if c.embedding_layout == "google" else c.hidden_size
        self.word_embeddings.build((None, None))
        self.token_type_embeddings.build((None, None))
        self.position_embeddings.build((None, None))
        self.embedding_norm.build((None, None, side))
        self.embedding_projection.build((None, None, c.embedding_size))
        for group in self.groups:
            for layer in group:
                layer.build((None, None, c.hidden_size))
        self.built = True

    def _embed(self, token_ids, segment_ids, extra_embeddings, training):
        c = self.config
        seq_length = ops.shape(token_ids)[1]
        words = self.word_embeddings(token_ids)
        if extra_embeddings is not None:
            words = words + ops.cast(extra_embeddings, words.dtype)
        positions = self.position_embeddings(ops.arange(seq_length))[None]
        types = self.token_type_embeddings(segment_ids)
        if c.embedding_layout == "google":
            x = self.embedding_dropout(self.embedding_norm(words + positions + types),
                                       training=training)
            return self.embedding_projection(x)
        x = self.embedding_projection(words) + positions + types
        return self.embedding_dropout(self.embedding_norm(x), training=training)

    def call(self, token_ids, segment_ids=None, padding_mask=None, extra_embeddings=None,
             training=False):
        c = self.config
        if segment_ids is None:
            segment_ids = ops.zeros_like(token_ids)
        if padding_mask is None:
            padding_mask = ops.not_equal(token_ids, 0)
        hidden = self._embed(token_ids, segment_ids, extra_embeddings, training)
        # Additive mask [batch, 1, 1, seq]; -10000 as in the reference implementation.
        bias = (1.0 - ops.cast(padding_mask, "float32")) * -10000.0
        bias = bias[:, None, None, :]
        for index in range(c.num_hidden_layers):
            # Google's modeling.py: layer l uses group int(l / num_layers * num_groups); runs of
            # layers per group may be uneven (5 layers, 2 groups: 0, 0, 0, 1, 1).
            group = int(index / c.num_hidden_layers * c.num_hidden_groups)
            for layer in self.groups[group]:
                hidden = layer(hidden, bias, training=training)
        return hidden

    def named_weights(self) -> list[tuple[str, Any]]:
        """``(checkpoint variable name, Keras variable)`` in the documented order.

        The names are those of the layout in ``config.embedding_layout``; the checkpoint
        importer assigns ``variable.assign(value)`` by name.
        """
        if not self.built:
            self.build()
        e = "bert/embeddings"
        out = [(f"{e}/word_embeddings", self.word_embeddings.embeddings)]
        projection = self.embedding_projection.weights
        if self.config.embedding_layout == "brightmart":
            out.append((f"{e}/word_embeddings_2", projection[0]))
        out += [(f"{e}/token_type_embeddings", self.token_type_embeddings.embeddings),
                (f"{e}/position_embeddings", self.position_embeddings.embeddings),
                (f"{e}/LayerNorm/gamma", self.embedding_norm.weights[0]),
                (f"{e}/LayerNorm/beta", self.embedding_norm.weights[1])]
        if self.config.embedding_layout == "google":
            out += [("bert/encoder/embedding_hidden_mapping_in/kernel", projection[0]),
                    ("bert/encoder/embedding_hidden_mapping_in/bias", projection[1])]
            for g, group in enumerate(self.groups):
                for k, layer in enumerate(group):
                    out += layer.named_weights(f"bert/encoder/transformer/group_{g}/inner_group_{k}")
        else:
            out += self.groups[0][0].named_weights("bert/encoder/layer_shared")
        return out

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        albert = AlbertConfig.from_dict(config.pop("config"))
        return cls(albert, **config)
