"""NER model: ALBERT encoder (+ bigram and lexicon input embeddings) -> BiLSTM -> one head per corpus.

Every layer and the CRF likelihood are written in ``keras.ops``, so the model runs under any
Keras backend (TensorFlow by default; JAX on machines without TensorFlow); TF-only serving code
(``tf.function`` signatures, SavedModel) lives in ``ner.tagger``.

Inputs (dict of Tensors, all with the same ``[batch_size, seq_length]`` leading shape, sequences
``[CLS] tokens [SEP]`` right-padded with 0):
    ``token_ids``  int32 [batch_size, seq_length]
    ``bigram_ids`` int32 [batch_size, seq_length]
    ``lexicon``    float [batch_size, seq_length, lexicon_dim]

Output: ``{head name: float32 scores}``, for positions 1.. (the [CLS] position is dropped, so
position ``t`` is content token ``t``): a CRF head gives emissions
[batch_size, seq_length - 1, num_tags] (transition scores live in its ``CrfHead``; decoding in
``ner.decoding``), a GlobalPointer head span scores
[batch_size, num_labels, seq_length - 1, seq_length - 1] (``ner.globalpointer``).
"""

from __future__ import annotations

import keras
from keras import ops

from kgpipe.ner.albert import AlbertEncoder
from kgpipe.ner.config import HeadConfig, NerConfig
from kgpipe.ner.globalpointer import GlobalPointerHead


class CrfHead(keras.layers.Layer):
    """Emission layer + linear-chain CRF parameters for one tag set.

    ``transitions[i, j]`` scores tag ``i`` followed by tag ``j``; ``start``/``end`` score the
    first/last tag.
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tags = num_tags
        self.emission = keras.layers.Dense(num_tags, name="emission", dtype="float32")

    def build(self, input_shape):
        self.emission.build(input_shape)
        zeros = keras.initializers.Zeros()
        self.transitions = self.add_weight(shape=(self.num_tags, self.num_tags), initializer=zeros,
                                           name="transitions", dtype="float32")
        self.start = self.add_weight(shape=(self.num_tags,), initializer=zeros, name="start",
                                     dtype="float32")
        self.end = self.add_weight(shape=(self.num_tags,), initializer=zeros, name="end",
                                   dtype="float32")
        self.built = True

    def call(self, hidden):
        return self.emission(ops.cast(hidden, "float32"))

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}


def crf_log_likelihood(emissions, tags, lengths, head: CrfHead):
    """Log-likelihood of gold tag paths under a linear-chain CRF (``keras.ops``, any backend).

    Args:
        emissions: float32 Tensor [batch_size, seq_length, num_tags].
        tags: int32 Tensor [batch_size, seq_length] (any value in [0, num_tags) past ``lengths``).
        lengths: int32 Tensor [batch_size], >= 1.
        head: the CRF parameters.

    Returns:
        float32 Tensor [batch_size].
    """
    trans, start, end = head.transitions, head.start, head.end
    num_tags = ops.shape(trans)[0]
    seq_length = ops.shape(emissions)[1]
    lengths = ops.cast(lengths, "int32")
    tags = ops.cast(tags, "int32")
    mask = ops.cast(ops.arange(seq_length)[None, :] < lengths[:, None], "float32")
    # Gold path score.
    unary = ops.sum(ops.take_along_axis(emissions, tags[:, :, None], axis=2)[:, :, 0] * mask,
                    axis=1)
    pair = ops.take(ops.reshape(trans, (-1,)), tags[:, :-1] * num_tags + tags[:, 1:])
    binary = ops.sum(pair * mask[:, 1:], axis=1)
    last = ops.take_along_axis(tags, (lengths - 1)[:, None], axis=1)[:, 0]
    gold = unary + binary + ops.take(start, tags[:, 0]) + ops.take(end, last)
    # Partition function by the forward algorithm; padded steps keep the previous alpha.
    alpha0 = start[None, :] + emissions[:, 0]

    def step(alpha, inputs):
        emission, m = inputs[:, :-1], inputs[:, -1:]
        new = ops.logsumexp(alpha[:, :, None] + trans[None], axis=1) + emission
        return ops.where(m > 0, new, alpha), None

    # One scanned tensor [seq_length - 1, batch, num_tags + 1], the mask as its last channel
    # (Keras' TF scan cannot check several inputs of unknown length against each other).
    # A length-0 scan (one-token batches) returns alpha0 unchanged.
    steps = ops.concatenate([emissions[:, 1:], mask[:, 1:, None]], axis=2)
    final, _ = ops.scan(step, alpha0, ops.transpose(steps, (1, 0, 2)))
    log_z = ops.logsumexp(final + end[None, :], axis=1)
    return gold - log_z


def _make_head(head: HeadConfig) -> keras.layers.Layer:
    if head.kind == "globalpointer":
        return GlobalPointerHead(len(head.labels), head.head_size, name=f"head_{head.name}")
    return CrfHead(len(head.tags), name=f"head_{head.name}")


class NerModel(keras.Model):
    """See the module docstring. ``config`` is a ``NerConfig``."""

    def __init__(self, config: NerConfig, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.config = config
        e = config.albert.embedding_size
        self.encoder = AlbertEncoder(config.albert, name="albert")
        self.bigram_embeddings = self.bigram_projection = self.lexicon_projection = None
        if config.bigram_vocab_size:
            self.bigram_embeddings = keras.layers.Embedding(
                config.bigram_vocab_size, config.bigram_dim, name="bigram_embeddings")
            self.bigram_projection = keras.layers.Dense(e, use_bias=False, name="bigram_projection")
        if config.lexicon_dim:
            self.lexicon_projection = keras.layers.Dense(e, name="lexicon_projection")
        self.embedding_dropout = keras.layers.Dropout(config.embedding_dropout)
        self.bilstm = None
        if config.lstm_units:
            # float32 even under a mixed policy: recurrent state in bf16 drifts, and the
            # cuDNN kernel takes float32/float16 only.
            self.bilstm = keras.layers.Bidirectional(
                keras.layers.LSTM(config.lstm_units, return_sequences=True, dtype="float32"),
                name="bilstm", dtype="float32")
        self.output_dropout = keras.layers.Dropout(config.output_dropout)
        self.heads = {h.name: _make_head(h) for h in config.heads}

    def _extra_embeddings(self, inputs, training):
        extra = None
        if self.bigram_embeddings is not None:
            bigram = self.bigram_embeddings(inputs["bigram_ids"])
            previous = ops.pad(bigram[:, :-1], ((0, 0), (1, 0), (0, 0)))
            extra = self.bigram_projection(ops.concatenate([previous, bigram], axis=-1))
        if self.lexicon_projection is not None:
            lexicon = self.lexicon_projection(ops.cast(inputs["lexicon"], self.compute_dtype))
            extra = lexicon if extra is None else extra + lexicon
        if extra is not None:
            extra = self.embedding_dropout(extra, training=training)
        return extra

    def call(self, inputs, training=False):
        token_ids = inputs["token_ids"]
        mask = ops.not_equal(token_ids, 0)
        extra = self._extra_embeddings(inputs, training)
        hidden = self.encoder(token_ids, padding_mask=mask, extra_embeddings=extra,
                              training=training)
        hidden = self.embedding_dropout(hidden, training=training)
        if self.bilstm is not None:
            hidden = self.bilstm(hidden, mask=mask, training=training)
        hidden = self.output_dropout(hidden[:, 1:], training=training)
        content = mask[:, 1:]
        return {name: head(hidden, token_mask=content) if isinstance(head, GlobalPointerHead)
                else head(hidden) for name, head in self.heads.items()}

    def build_all(self, lexicon_dim: int | None = None):
        """Creates every weight by calling the model once on a dummy batch."""
        import numpy as np

        dim = self.config.lexicon_dim if lexicon_dim is None else lexicon_dim
        self({"token_ids": np.array([[2, 5, 3]], np.int32),
              "bigram_ids": np.array([[2, 1, 2]], np.int32),
              "lexicon": np.zeros((1, 3, dim), np.float32)})

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(NerConfig.from_dict(config.pop("config")), **config)
