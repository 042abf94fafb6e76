"""Configuration of the NER model (encoder, features, heads) and its JSON form."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from kgpipe.ner.albert_config import AlbertConfig
from kgpipe.ner.schemes import TagScheme, tag_set


HEAD_KINDS = ("crf", "globalpointer")


@dataclasses.dataclass(frozen=True)
class HeadConfig:
    """One head: the labels one corpus annotates.

    Attributes:
        kind: ``"crf"`` (tags in ``scheme`` over tokens, flat spans) or ``"globalpointer"``
            (a score per (start, end, label) token span; ``ner.globalpointer``).
        nested: a GlobalPointer head whose spans may nest (decoded without overlap
            resolution); flat heads keep the best-scoring non-overlapping spans.
        head_size: GlobalPointer query/key width per span score.
    """

    name: str
    labels: tuple[str, ...]
    scheme: str = "BIOES"
    kind: str = "crf"
    nested: bool = False
    head_size: int = 64

    def __post_init__(self):
        object.__setattr__(self, "labels", tuple(self.labels))
        TagScheme(self.scheme)
        if not self.labels:
            raise ValueError(f"head {self.name!r} needs at least one label. Received: labels=()")
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"head {self.name!r}: `kind` must be one of {HEAD_KINDS}. "
                             f"Received: kind={self.kind!r}")
        if self.nested and self.kind != "globalpointer":
            raise ValueError(f"head {self.name!r}: nested spans need kind='globalpointer'. "
                             f"Received: kind={self.kind!r}, nested=True")
        if self.head_size < 2 or self.head_size % 2:
            raise ValueError(f"head {self.name!r}: `head_size` must be an even int >= 2 (rotary "
                             f"encoding pairs dimensions). Received: head_size={self.head_size}")

    @property
    def tags(self) -> tuple[str, ...]:
        """CRF tag set; a GlobalPointer head scores one channel per label instead."""
        return tag_set(self.labels, self.scheme) if self.kind == "crf" else self.labels


@dataclasses.dataclass(frozen=True)
class NerConfig:
    """Hyper-parameters of ``ner.model.NerModel``.

    Attributes:
        albert: encoder configuration (``vocab_size`` = tokenizer vocabulary size).
        heads: one head (CRF or GlobalPointer) per training corpus.
        bigram_vocab_size, bigram_dim: bigram table (0 disables bigrams).
        lexicon_dim: width of the SoftLexicon feature vector (0 disables it).
        lstm_units: units per direction of the BiLSTM over the encoder (0 disables it).
        embedding_dropout: dropout on the summed input embeddings.
        output_dropout: dropout before the emission layers.
        max_sequence_length: longest input in tokens, including [CLS] and [SEP].
        bucket_lengths: padded lengths (tokens) inference runs at.
        name: short model name, used in the version string.
    """

    albert: AlbertConfig
    heads: tuple[HeadConfig, ...]
    bigram_vocab_size: int = 0
    bigram_dim: int = 64
    lexicon_dim: int = 0
    lstm_units: int = 256
    embedding_dropout: float = 0.3
    output_dropout: float = 0.3
    max_sequence_length: int = 256
    bucket_lengths: tuple[int, ...] = (32, 64, 128, 256)
    name: str = "default"

    def __post_init__(self):
        object.__setattr__(self, "heads", tuple(self.heads))
        object.__setattr__(self, "bucket_lengths", tuple(sorted(self.bucket_lengths)))
        if not self.heads:
            raise ValueError("`heads` must not be empty. Received: heads=()")
        if len({h.name for h in self.heads}) != len(self.heads):
            raise ValueError(f"head names must be unique. Received: {[h.name for h in self.heads]}")
        if self.max_sequence_length > self.albert.max_position_embeddings:
            raise ValueError("`max_sequence_length` exceeds the encoder's position table. Received: "
                             f"max_sequence_length={self.max_sequence_length}, "
                             f"max_position_embeddings={self.albert.max_position_embeddings}")
        if not self.bucket_lengths or self.bucket_lengths[-1] != self.max_sequence_length:
            raise ValueError("the largest bucket must equal `max_sequence_length`. Received: "
                             f"bucket_lengths={self.bucket_lengths}, "
                             f"max_sequence_length={self.max_sequence_length}")
        for name in ("embedding_dropout", "output_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {getattr(self, name)}")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sorted({label for head in self.heads for label in head.labels}))

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["heads"] = [dataclasses.asdict(h) for h in self.heads]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "NerConfig":
        values = dict(values)
        values["albert"] = AlbertConfig.from_dict(values["albert"])
        values["heads"] = tuple(HeadConfig(**h) for h in values["heads"])
        values["bucket_lengths"] = tuple(values["bucket_lengths"])
        return cls(**values)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "NerConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))
