"""Export an encoder directory as a TF1 checkpoint in brightmart's albert_zh layout.

The checkpoint holds every encoder variable under the name ``AlbertEncoder.named_weights()``
gives for the brightmart layout (``bert/embeddings/word_embeddings``,
``bert/embeddings/word_embeddings_2``, ``bert/encoder/layer_shared/...``), plus, when the
directory comes from ``ner pretrain``, the masked-LM head under brightmart's
``cls/predictions/...`` names and ``global_step``, so brightmart's ``run_pretraining.py`` can
continue from it and its ``modeling.py`` can fine-tune it. ``albert_config.json`` (with
``ln_type``) and ``vocab.txt`` sit beside ``albert_model.ckpt.*``.

Variables are written by a TF1 ``Saver`` over ``tf.compat.v1.Variable`` objects created in a
private graph under their exact names; ``tf.train.Checkpoint`` would write object-graph names.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from kgpipe.ner.albert import AlbertConfig
from kgpipe.ner.checkpoints import CONFIG_FILE, VOCAB_FILE, load_encoder_weights

CHECKPOINT_PREFIX = "albert_model.ckpt"
# Fields of albert_zh's albert_config_*.json; the rest of AlbertConfig is ours.
_BRIGHTMART_FIELDS = ("attention_probs_dropout_prob", "directionality", "hidden_act",
                      "hidden_dropout_prob", "hidden_size", "embedding_size", "initializer_range",
                      "intermediate_size", "max_position_embeddings", "num_attention_heads",
                      "num_hidden_layers", "pooler_fc_size", "pooler_num_attention_heads",
                      "pooler_num_fc_layers", "pooler_size_per_head", "pooler_type",
                      "type_vocab_size", "vocab_size", "ln_type", "layer_norm_epsilon",
                      "embedding_layout")


def write_tf1_variables(variables: Mapping[str, np.ndarray], prefix: str | os.PathLike) -> str:
    """Saves ``variables`` under exactly their names as a TF1 checkpoint; returns the prefix."""
    graph = tf.Graph()
    with graph.as_default():
        # Python-side names v0, v1, ... avoid clashes; the Saver's dict keys are the saved names.
        tf_vars = {name: tf.compat.v1.Variable(np.asarray(value), name=f"v{i}")
                   for i, (name, value) in enumerate(variables.items())}
        saver = tf.compat.v1.train.Saver(var_list=tf_vars)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return saver.save(session, os.fspath(prefix), write_meta_graph=False)


def brightmart_config(config: AlbertConfig) -> dict:
    """``albert_config.json`` as albert_zh writes it (with our layout and epsilon kept)."""
    values = config.to_dict()
    values.update(directionality="bidi", pooler_fc_size=config.hidden_size,
                  pooler_num_attention_heads=config.num_attention_heads, pooler_num_fc_layers=3,
                  pooler_size_per_head=128, pooler_type="first_token_transform")
    return {k: values[k] for k in _BRIGHTMART_FIELDS}


def export_tf1(encoder_dir: str | os.PathLike, out_dir: str | os.PathLike) -> pathlib.Path:
    """Writes ``out_dir/albert_model.ckpt.*``, ``albert_config.json`` and ``vocab.txt``.

    Args:
        encoder_dir: an encoder directory in the brightmart layout (``ner pretrain`` output, or
            ``ner import-albert`` of an albert_zh checkpoint). A ``ner pretrain`` directory's
            masked-LM head (``pretrain/state.npz``) is exported too.
        out_dir: created if needed.

    Raises:
        ValueError: the encoder is in the Google layout (it has no brightmart names).
    """
    config, weights = load_encoder_weights(encoder_dir)
    if config.embedding_layout != "brightmart":
        raise ValueError(f"{encoder_dir}: --export-tf1 writes the brightmart layout; this encoder "
                         f"is embedding_layout={config.embedding_layout!r}")
    variables = dict(weights)
    variables.update(_pretrain_head(pathlib.Path(encoder_dir), config))
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tf1_variables(variables, out / CHECKPOINT_PREFIX)
    (out / CONFIG_FILE).write_text(json.dumps(brightmart_config(config), indent=2) + "\n",
                                   encoding="utf-8")
    shutil.copyfile(pathlib.Path(encoder_dir) / VOCAB_FILE, out / VOCAB_FILE)
    return out


def _pretrain_head(encoder_dir: pathlib.Path, config: AlbertConfig) -> dict[str, np.ndarray]:
    """The MLM head and global_step of a ``ner pretrain`` run directory, else nothing."""
    state = encoder_dir / "pretrain" / "state.npz"
    if not state.exists():
        return {}
    import keras  # the head's names come from the model itself

    from kgpipe.ner.albert_pretrain import AlbertMaskedLM

    model = AlbertMaskedLM(config)
    with np.load(state) as archive:
        stored = sorted((k for k in archive.files if k.startswith("model_")),
                        key=lambda k: int(k.split("_")[1]))
        if len(stored) != len(model.weights):
            raise ValueError(f"{state}: holds {len(stored)} model variables, the config gives "
                             f"{len(model.weights)}")
        for variable, key in zip(model.weights, stored):
            variable.assign(archive[key])
        step = int(archive["step"])
    head = {name: keras.ops.convert_to_numpy(v).astype(np.float32)
            for name, v in model.head_weights()}
    head["global_step"] = np.array(step, np.int64)
    return head
