"""Tiny TF1 ALBERT checkpoints in the brightmart and Google layouts, for tests.

Variables are random numpy arrays saved under their original names by a TF1 ``Saver`` in a
``tf.Graph``, so ``tf.train.load_checkpoint`` reads them back exactly as it reads a released
albert_zh or Google ALBERT checkpoint.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

TINY = dict(vocab_size=30, embedding_size=8, hidden_size=16, num_attention_heads=2,
            intermediate_size=32, num_hidden_layers=2, max_position_embeddings=24,
            type_vocab_size=2, hidden_act="gelu", hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0, initializer_range=0.02)

_GOOGLE_LAYER = {  # suffix -> shape in terms of H and I
    "attention_1/self/query/kernel": "HH", "attention_1/self/query/bias": "H",
    "attention_1/self/key/kernel": "HH", "attention_1/self/key/bias": "H",
    "attention_1/self/value/kernel": "HH", "attention_1/self/value/bias": "H",
    "attention_1/output/dense/kernel": "HH", "attention_1/output/dense/bias": "H",
    "LayerNorm/gamma": "H", "LayerNorm/beta": "H",
    "ffn_1/intermediate/dense/kernel": "HI", "ffn_1/intermediate/dense/bias": "I",
    "ffn_1/intermediate/output/dense/kernel": "IH", "ffn_1/intermediate/output/dense/bias": "H",
    "LayerNorm_1/gamma": "H", "LayerNorm_1/beta": "H"}
_BRIGHTMART_LAYER = {
    "attention/self/query/kernel": "HH", "attention/self/query/bias": "H",
    "attention/self/key/kernel": "HH", "attention/self/key/bias": "H",
    "attention/self/value/kernel": "HH", "attention/self/value/bias": "H",
    "attention/output/dense/kernel": "HH", "attention/output/dense/bias": "H",
    "attention/output/LayerNorm/gamma": "H", "attention/output/LayerNorm/beta": "H",
    "intermediate/dense/kernel": "HI", "intermediate/dense/bias": "I",
    "output/dense/kernel": "IH", "output/dense/bias": "H",
    "output/LayerNorm/gamma": "H", "output/LayerNorm/beta": "H"}


def tiny_config(layout: str, **overrides: Any) -> dict[str, Any]:
    """``albert_config.json`` fields of a tiny model; Google configs carry group fields."""
    config = dict(TINY)
    if layout == "google":
        config.update(num_hidden_groups=1, inner_group_num=1, down_scale_factor=1,
                      net_structure_type=0, gap_size=0, num_memory_blocks=0)
    else:  # as in albert_config_tiny.json
        config.update(directionality="bidi", pooler_type="first_token_transform", ln_type="postln")
    config.update(overrides)
    return config


def _random(rng: np.random.Generator, shape: tuple[int, ...], name: str) -> np.ndarray:
    if name.endswith("gamma"):
        return (1.0 + 0.2 * rng.standard_normal(shape)).astype(np.float32)
    scale = 0.1 if name.endswith(("beta", "bias")) else 0.3
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def encoder_variables(config: Mapping[str, Any], layout: str,
                      rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random encoder variables with their checkpoint names (no pooler, heads or optimizer)."""
    c = config
    dims = {"H": c["hidden_size"], "I": c["intermediate_size"]}
    side = c["embedding_size"] if layout == "google" else c["hidden_size"]
    e = "bert/embeddings"
    shapes = {f"{e}/word_embeddings": (c["vocab_size"], c["embedding_size"]),
              f"{e}/token_type_embeddings": (c["type_vocab_size"], side),
              f"{e}/position_embeddings": (c["max_position_embeddings"], side),
              f"{e}/LayerNorm/gamma": (side,), f"{e}/LayerNorm/beta": (side,)}
    if layout == "brightmart":
        shapes[f"{e}/word_embeddings_2"] = (c["embedding_size"], c["hidden_size"])
        for suffix, dim in _BRIGHTMART_LAYER.items():
            shapes[f"bert/encoder/layer_shared/{suffix}"] = tuple(dims[d] for d in dim)
    else:
        if c["embedding_size"] != c["hidden_size"]:  # as Google's transformer_model
            shapes["bert/encoder/embedding_hidden_mapping_in/kernel"] = (c["embedding_size"],
                                                                         c["hidden_size"])
            shapes["bert/encoder/embedding_hidden_mapping_in/bias"] = (c["hidden_size"],)
        layers, groups = c["num_hidden_layers"], c.get("num_hidden_groups", 1)
        used = sorted({int(l / layers * groups) for l in range(layers)})
        for group in used:
            for inner in range(c.get("inner_group_num", 1)):
                scope = f"bert/encoder/transformer/group_{group}/inner_group_{inner}"
                for suffix, dim in _GOOGLE_LAYER.items():
                    shapes[f"{scope}/{suffix}"] = tuple(dims[d] for d in dim)
    return {name: _random(rng, shape, name) for name, shape in shapes.items()}


def training_variables(config: Mapping[str, Any], encoder: Mapping[str, np.ndarray],
                       rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Pooler, MLM/SOP heads, Adam slots and global_step, as a pre-training checkpoint holds."""
    h, e, v = config["hidden_size"], config["embedding_size"], config["vocab_size"]
    extra = {"bert/pooler/dense/kernel": (h, h), "bert/pooler/dense/bias": (h,),
             "cls/predictions/transform/dense/kernel": (h, e),
             "cls/predictions/transform/dense/bias": (e,),
             "cls/predictions/transform/LayerNorm/gamma": (e,),
             "cls/predictions/transform/LayerNorm/beta": (e,),
             "cls/predictions/output_bias": (v,),
             "cls/seq_relationship/output_weights": (2, h),
             "cls/seq_relationship/output_bias": (2,)}
    out = {name: _random(rng, shape, name) for name, shape in extra.items()}
    for name, value in encoder.items():
        out[f"{name}/adam_m"] = np.zeros_like(value)
        out[f"{name}/adam_v"] = np.zeros_like(value)
    out["global_step"] = np.array(1000, dtype=np.int64)
    return out


def write_tf1_checkpoint(variables: Mapping[str, np.ndarray], prefix: str | pathlib.Path,
                         *, state_file: bool = True) -> str:
    """Saves ``variables`` under their names with a TF1 ``Saver``; returns the prefix."""
    graph = tf.Graph()
    with graph.as_default():
        tf_vars = {name: tf.compat.v1.Variable(value, name=f"v{i}")
                   for i, (name, value) in enumerate(variables.items())}
        saver = tf.compat.v1.train.Saver(var_list=tf_vars)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saved = saver.save(session, str(prefix), write_meta_graph=False,
                               write_state=state_file)
    return saved


def write_vocab(path: pathlib.Path, size: int) -> None:
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [chr(0x4E00 + i) for i in range(size - len(tokens))]
    path.write_text("\n".join(tokens) + "\n", encoding="utf-8")


def write_albert_dir(directory: pathlib.Path, config: Mapping[str, Any],
                     variables: Mapping[str, np.ndarray], *,
                     config_name: str = "albert_config.json", prefix: str = "albert_model.ckpt",
                     state_file: bool = True) -> pathlib.Path:
    """A released-model directory: checkpoint, ``config_name`` and ``vocab.txt``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_tf1_checkpoint(variables, directory / prefix, state_file=state_file)
    (directory / config_name).write_text(json.dumps(dict(config), indent=2), encoding="utf-8")
    write_vocab(directory / "vocab.txt", config["vocab_size"])
    return directory
