"""ALBERT's hyper-parameters (``albert_config.json``), apart from the Keras layers.

Kept free of Keras and TensorFlow so that code which only reads a model directory's config
(the ONNX Runtime CPU path, the pipeline's planning) does not import them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

_ACTIVATIONS = ("gelu", "gelu_new", "gelu_exact", "relu", "tanh", "swish")
_LAYOUTS = ("google", "brightmart")
_LN_TYPES = ("postln", "preln")


@dataclasses.dataclass(frozen=True)
class AlbertConfig:
    """Hyper-parameters of an ALBERT encoder, with the field names of ``albert_config.json``.

    ``num_hidden_layers`` may be 0: the encoder then returns the projected embeddings.
    """

    vocab_size: int
    embedding_size: int = 128
    hidden_size: int = 312
    num_hidden_layers: int = 4
    num_attention_heads: int = 12
    intermediate_size: int = 1248
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    initializer_range: float = 0.02
    num_hidden_groups: int = 1
    inner_group_num: int = 1
    ln_type: str = "postln"
    embedding_layout: str = "google"
    layer_norm_epsilon: float = 1e-12

    def __post_init__(self):
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_attention_heads",
                     "intermediate_size", "max_position_embeddings", "type_vocab_size",
                     "num_hidden_groups", "inner_group_num"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        if self.num_hidden_layers < 0:
            raise ValueError("`num_hidden_layers` must be >= 0. "
                             f"Received: num_hidden_layers={self.num_hidden_layers}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("`hidden_size` must be divisible by `num_attention_heads`. Received: "
                             f"hidden_size={self.hidden_size}, "
                             f"num_attention_heads={self.num_attention_heads}")
        if self.num_hidden_layers and self.num_hidden_groups > self.num_hidden_layers:
            raise ValueError("`num_hidden_groups` must be at most `num_hidden_layers` (a group "
                             f"no layer uses). Received: num_hidden_layers={self.num_hidden_layers}"
                             f", num_hidden_groups={self.num_hidden_groups}")
        if self.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"`hidden_act` must be one of {_ACTIVATIONS}. "
                             f"Received: hidden_act={self.hidden_act!r}")
        if self.embedding_layout not in _LAYOUTS:
            raise ValueError(f"`embedding_layout` must be one of {_LAYOUTS}. "
                             f"Received: embedding_layout={self.embedding_layout!r}")
        if self.ln_type not in _LN_TYPES:
            raise ValueError(f"`ln_type` must be one of {_LN_TYPES}. "
                             f"Received: ln_type={self.ln_type!r}")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1). "
                                 f"Received: {name}={getattr(self, name)}")
        if self.embedding_layout == "brightmart" and (self.num_hidden_groups, self.inner_group_num) != (1, 1):
            raise ValueError("the brightmart layout has one shared layer; received "
                             f"num_hidden_groups={self.num_hidden_groups}, "
                             f"inner_group_num={self.inner_group_num}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "AlbertConfig":
        """Builds a config from ``albert_config.json`` fields; unknown fields are ignored."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in fields})

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike) -> "AlbertConfig":
        """Reads a config from a JSON file path or a JSON string."""
        text = str(path_or_text)
        if not text.lstrip().startswith("{"):
            with open(path_or_text, encoding="utf-8") as f:
                text = f.read()
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Returns the config as JSON, also writing it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "AlbertConfig":
        """albert_zh presets: ``tiny``, ``small``, ``base``, ``large`` (vocab 21128)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset; expected one of {sorted(PRESETS)}. Received: {name!r}")
        return cls.from_dict({**PRESETS[name], **overrides})


# albert_zh (brightmart) and albert_*_google_zh release configurations.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(vocab_size=21128, embedding_size=128, hidden_size=312, num_hidden_layers=4,
                 num_attention_heads=12, intermediate_size=1248),
    "small": dict(vocab_size=21128, embedding_size=128, hidden_size=384, num_hidden_layers=6,
                  num_attention_heads=12, intermediate_size=1536),
    "base": dict(vocab_size=21128, embedding_size=128, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, intermediate_size=3072),
    "large": dict(vocab_size=21128, embedding_size=128, hidden_size=1024, num_hidden_layers=24,
                  num_attention_heads=16, intermediate_size=4096),
}
