"""Import TF1 ALBERT checkpoints (brightmart albert_zh and Google ALBERT) into ``ner.albert``.

Both name layouts that ``ner.albert`` documents are read with an explicit name map, built from
the checkpoint's ``albert_config*.json``; nothing is matched by similarity. Every checkpoint
variable must be mapped or deliberately ignored, every encoder weight must be set, and every
shape must match, otherwise a ``ValueError`` lists the offending names.

Deliberately ignored (listed in ``import_report.json``):

* optimizer slots (``*/adam_m``, ``*/adam_v`` of BERT's AdamWeightDecay, ``*/lamb_m``,
  ``*/lamb_v`` of ALBERT's LAMB) and ``global_step``;
* the pre-training heads ``cls/...`` (masked LM, sentence order / next sentence);
* the pooler ``bert/pooler/dense/{kernel,bias}``, which is not part of the encoder.

Google's ``modeling.py`` creates ``embedding_hidden_mapping_in`` only when
``embedding_size != hidden_size``; without it the embeddings enter the transformer unchanged, so
the importer then sets our projection to the identity (kernel ``I``, bias 0) and says so in the
report. Google assigns layer ``l`` to group ``int(l / num_hidden_layers * num_hidden_groups)``;
when that uses only some groups (albert_zh's ``*_google_fast`` configs: 4 layers, 12 groups use
groups 0, 3, 6, 9) the used groups are renumbered ``0..n-1`` in order, which applies the same
weights to the same layers.

An imported encoder directory holds::

    albert_config.json    ner.albert.AlbertConfig (embedding_layout and groups resolved)
    vocab.txt             copied from the checkpoint directory
    encoder.weights.npz   one float32 array per encoder weight, keyed by the names that
                          AlbertEncoder.named_weights() gives (TF1 names of the layout)
    import_report.json    source checkpoint, layout, ignored and synthesised variables
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import shutil
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from kgpipe.ner.albert import AlbertConfig, AlbertEncoder

logger = logging.getLogger(__name__)

CONFIG_FILE = "albert_config.json"
VOCAB_FILE = "vocab.txt"
WEIGHTS_FILE = "encoder.weights.npz"
REPORT_FILE = "import_report.json"

_OPTIMIZER_SLOT_SUFFIXES = ("/adam_m", "/adam_v", "/lamb_m", "/lamb_v")
_IGNORED_NAMES = ("global_step", "bert/pooler/dense/kernel", "bert/pooler/dense/bias")
_IGNORED_PREFIXES = ("cls/",)
# Fields that fix weight shapes: taken from the checkpoint's JSON, never from our defaults.
_REQUIRED_CONFIG_FIELDS = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
                           "num_attention_heads", "intermediate_size",
                           "max_position_embeddings", "type_vocab_size")
_EMBEDDINGS = "bert/embeddings"
_MAPPING = "bert/encoder/embedding_hidden_mapping_in"
_SHARED_LAYER = "bert/encoder/layer_shared"

# One transformer layer: (Google suffix, brightmart suffix, shape as (rows, cols) in terms of
# "H" hidden_size and "I" intermediate_size; a 1-tuple is a vector).
_LAYER_VARIABLES = (
    ("attention_1/self/query/kernel", "attention/self/query/kernel", ("H", "H")),
    ("attention_1/self/query/bias", "attention/self/query/bias", ("H",)),
    ("attention_1/self/key/kernel", "attention/self/key/kernel", ("H", "H")),
    ("attention_1/self/key/bias", "attention/self/key/bias", ("H",)),
    ("attention_1/self/value/kernel", "attention/self/value/kernel", ("H", "H")),
    ("attention_1/self/value/bias", "attention/self/value/bias", ("H",)),
    ("attention_1/output/dense/kernel", "attention/output/dense/kernel", ("H", "H")),
    ("attention_1/output/dense/bias", "attention/output/dense/bias", ("H",)),
    ("LayerNorm/gamma", "attention/output/LayerNorm/gamma", ("H",)),
    ("LayerNorm/beta", "attention/output/LayerNorm/beta", ("H",)),
    ("ffn_1/intermediate/dense/kernel", "intermediate/dense/kernel", ("H", "I")),
    ("ffn_1/intermediate/dense/bias", "intermediate/dense/bias", ("I",)),
    ("ffn_1/intermediate/output/dense/kernel", "output/dense/kernel", ("I", "H")),
    ("ffn_1/intermediate/output/dense/bias", "output/dense/bias", ("H",)),
    ("LayerNorm_1/gamma", "output/LayerNorm/gamma", ("H",)),
    ("LayerNorm_1/beta", "output/LayerNorm/beta", ("H",)),
)


@dataclasses.dataclass(frozen=True)
class ImportPlan:
    """How one checkpoint maps onto one encoder.

    Attributes:
        config: our encoder's config, with ``embedding_layout`` and groups resolved.
        name_map: checkpoint variable name -> (encoder weight name, expected shape).
        ignored: checkpoint variables deliberately skipped (optimizer, heads, pooler).
        synthesised: encoder weight name -> array, for weights the layout implies but does not
            store (the identity ``embedding_hidden_mapping_in`` when E == H).
    """

    config: AlbertConfig
    name_map: dict[str, tuple[str, tuple[int, ...]]]
    ignored: tuple[str, ...]
    synthesised: dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class CheckpointWeights:
    """Encoder weights read from a checkpoint: ``weights`` maps encoder weight names to arrays."""

    config: AlbertConfig
    weights: dict[str, np.ndarray]
    checkpoint: str
    ignored: tuple[str, ...]
    synthesised: tuple[str, ...]


def detect_layout(variable_names: Iterable[str]) -> str:
    """Returns ``"google"`` or ``"brightmart"`` from the checkpoint's variable names."""
    names = set(variable_names)
    google = any(n.startswith("bert/encoder/transformer/") for n in names)
    brightmart = (f"{_EMBEDDINGS}/word_embeddings_2" in names
                  or any(n.startswith(_SHARED_LAYER + "/") for n in names))
    if google == brightmart:
        found = sorted(n for n in names if n.startswith("bert/"))[:20]
        raise ValueError("cannot tell the ALBERT layout: expected `bert/encoder/transformer/...` "
                         "(Google) or `bert/embeddings/word_embeddings_2` and "
                         "`bert/encoder/layer_shared/...` (brightmart), not both or neither. "
                         f"Received variables (first 20 under bert/): {found}")
    return "google" if google else "brightmart"


def google_group_schedule(num_hidden_layers: int, num_hidden_groups: int) -> list[int]:
    """The group Google's ``transformer_model`` gives each layer, in layer order."""
    return [int(layer / num_hidden_layers * num_hidden_groups)
            for layer in range(num_hidden_layers)]


def _resolve_groups(raw: Mapping[str, Any]) -> list[int]:
    """Checkpoint group indices used, in order.

    Renumbering them ``0..n-1`` keeps Google's schedule: with ``groups <= layers`` every group
    is used; with more groups than layers every layer gets its own group. So AlbertEncoder,
    which applies ``int(l / layers * n)``, uses the same weights for every layer, uneven runs
    (5 layers, 2 groups: 0, 0, 0, 1, 1) included.
    """
    return sorted(set(google_group_schedule(raw["num_hidden_layers"],
                                            raw.get("num_hidden_groups", 1))))


# Options of Google's AlbertConfig that change the computation; only their defaults are supported.
_UNSUPPORTED_OPTIONS = {"net_structure_type": 0, "down_scale_factor": 1, "gap_size": 0,
                        "num_memory_blocks": 0}


def _check_supported(raw: Mapping[str, Any]) -> None:
    bad = {k: raw[k] for k, default in _UNSUPPORTED_OPTIONS.items()
           if raw.get(k, default) not in (default, None)}
    if bad:
        raise ValueError(f"unsupported ALBERT config options (only "
                         f"{ {k: _UNSUPPORTED_OPTIONS[k] for k in bad} } are supported). "
                         f"Received: {bad}")


def _encoder_config(raw: Mapping[str, Any], layout: str, groups: int) -> AlbertConfig:
    missing = [f for f in _REQUIRED_CONFIG_FIELDS if f not in raw]
    if missing:
        raise ValueError(f"the ALBERT config lacks fields that fix weight shapes: {missing}. "
                         f"Received fields: {sorted(raw)}")
    declared = raw.get("embedding_layout", layout)
    if declared != layout:
        raise ValueError(f"the config says embedding_layout={declared!r} but the checkpoint's "
                         f"variables are in the {layout!r} layout")
    _check_supported(raw)
    values = {**raw, "embedding_layout": layout}
    if values.get("ln_type", "postln") is None:  # brightmart's modeling.py: anything but preln
        values["ln_type"] = "postln"
    if layout == "google":
        values["num_hidden_groups"] = groups
    else:  # brightmart's modeling.py shares one layer whatever the config says
        values.update(num_hidden_groups=1, inner_group_num=1)
    return AlbertConfig.from_dict(values)


def _embedding_map(c: AlbertConfig) -> dict[str, tuple[str, tuple[int, ...]]]:
    e = _EMBEDDINGS
    side = c.embedding_size if c.embedding_layout == "google" else c.hidden_size
    shapes = {f"{e}/word_embeddings": (c.vocab_size, c.embedding_size),
              f"{e}/token_type_embeddings": (c.type_vocab_size, side),
              f"{e}/position_embeddings": (c.max_position_embeddings, side),
              f"{e}/LayerNorm/gamma": (side,), f"{e}/LayerNorm/beta": (side,)}
    if c.embedding_layout == "google":
        shapes[f"{_MAPPING}/kernel"] = (c.embedding_size, c.hidden_size)
        shapes[f"{_MAPPING}/bias"] = (c.hidden_size,)
    else:
        shapes[f"{e}/word_embeddings_2"] = (c.embedding_size, c.hidden_size)
    return {name: (name, shape) for name, shape in shapes.items()}


def _layer_map(c: AlbertConfig, used_groups: list[int]) -> dict[str, tuple[str, tuple[int, ...]]]:
    dims = {"H": c.hidden_size, "I": c.intermediate_size}
    out = {}
    for google_suffix, brightmart_suffix, shape in _LAYER_VARIABLES:
        shape = tuple(dims[d] for d in shape)
        if c.embedding_layout == "brightmart":
            name = f"{_SHARED_LAYER}/{brightmart_suffix}"
            out[name] = (name, shape)
            continue
        for ours, theirs in enumerate(used_groups):
            for inner in range(c.inner_group_num):
                scope = "bert/encoder/transformer/group_{}/inner_group_%d" % inner
                out[f"{scope.format(theirs)}/{google_suffix}"] = (
                    f"{scope.format(ours)}/{google_suffix}", shape)
    return out


def _describe(problems: Mapping[str, list[str]]) -> str:
    """``"label (n): [names]; ..."`` for the non-empty lists, or ``""``."""
    return "; ".join(f"{label} ({len(names)}): {names}"
                     for label, names in problems.items() if names)


def _is_ignored(name: str) -> bool:
    return (name in _IGNORED_NAMES or name.endswith(_OPTIMIZER_SLOT_SUFFIXES)
            or name.startswith(_IGNORED_PREFIXES))


def plan_import(variable_shapes: Mapping[str, Iterable[int]],
                raw_config: Mapping[str, Any]) -> ImportPlan:
    """Maps checkpoint variables onto encoder weights, without reading any values.

    Args:
        variable_shapes: checkpoint variable name -> shape, as ``tf.train.list_variables`` gives.
        raw_config: the checkpoint's ``albert_config*.json`` as a dict.

    Raises:
        ValueError: the layout is unclear, or variables are unmapped, missing or mis-shaped
            (the message lists every offending name).
    """
    shapes = {name: tuple(int(d) for d in shape) for name, shape in variable_shapes.items()}
    layout = detect_layout(shapes)
    used_groups = _resolve_groups(raw_config) if layout == "google" else [0]
    config = _encoder_config(raw_config, layout, len(used_groups))
    name_map = {**_embedding_map(config), **_layer_map(config, used_groups)}
    synthesised = {}
    if layout == "google" and config.embedding_size == config.hidden_size \
            and not any(n.startswith(_MAPPING + "/") for n in shapes):
        synthesised = {f"{_MAPPING}/kernel": np.eye(config.hidden_size, dtype=np.float32),
                       f"{_MAPPING}/bias": np.zeros(config.hidden_size, np.float32)}
        for name in synthesised:
            del name_map[name]
    ignored = tuple(sorted(n for n in shapes if n not in name_map and _is_ignored(n)))
    unmapped = sorted(n for n in shapes if n not in name_map and not _is_ignored(n))
    missing = sorted(n for n in name_map if n not in shapes)
    wrong = sorted(f"{n}: checkpoint {list(shapes[n])}, expected {list(s)}"
                   for n, (_, s) in name_map.items() if n in shapes and shapes[n] != s)
    problems = _describe({"unmapped checkpoint variables": unmapped,
                          "missing variables": missing, "wrong shapes": wrong})
    if problems:
        raise ValueError(f"cannot import this {layout} ALBERT checkpoint into ner.albert: "
                         + problems)
    return ImportPlan(config, name_map, ignored, synthesised)


def resolve_checkpoint_prefix(checkpoint: str | os.PathLike) -> str:
    """Returns the TF1 checkpoint prefix for a directory or a prefix path.

    A directory is resolved through its ``checkpoint`` state file when that names an existing
    checkpoint, else through its only ``*.index`` file.
    """
    path = pathlib.Path(checkpoint)
    if not path.is_dir():
        if pathlib.Path(f"{path}.index").exists():
            return str(path)
        raise ValueError(f"no TF1 checkpoint (`<prefix>.index`) at {str(path)!r}")
    latest = tf.train.latest_checkpoint(str(path))
    if latest:
        return latest
    prefixes = sorted(str(p)[: -len(".index")] for p in path.glob("*.index"))
    if len(prefixes) != 1:
        raise ValueError(f"expected exactly one `*.index` checkpoint in {str(path)!r}; pass "
                         f"the prefix itself. Received: {prefixes}")
    return prefixes[0]


def _find_one(directory: pathlib.Path, pattern: str, what: str) -> pathlib.Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        raise ValueError(f"expected exactly one {what} ({pattern}) in {str(directory)!r}; pass "
                         f"its path explicitly. Received: {[p.name for p in found]}")
    return found[0]


def _source_dir(checkpoint: str | os.PathLike, prefix: str) -> pathlib.Path:
    """Where the config and vocabulary sit: the directory given, else the prefix's."""
    path = pathlib.Path(checkpoint)
    return path if path.is_dir() else pathlib.Path(prefix).parent


def _read_raw_config(path: pathlib.Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_checkpoint_weights(checkpoint: str | os.PathLike, *,
                            config_path: str | os.PathLike | None = None) -> CheckpointWeights:
    """Reads a TF1 ALBERT checkpoint and maps it onto ``ner.albert.AlbertEncoder`` weights.

    Args:
        checkpoint: checkpoint directory or prefix (``.../albert_model.ckpt``).
        config_path: the checkpoint's ``albert_config*.json``; by default the only
            ``albert_config*.json`` beside the checkpoint.

    Returns:
        The resolved config and float32 arrays keyed by encoder weight name, e.g.
        ``bert/embeddings/word_embeddings`` of shape [vocab_size, embedding_size].

    Raises:
        ValueError: see ``plan_import``; also for non-float variables.
    """
    prefix = resolve_checkpoint_prefix(checkpoint)
    directory = _source_dir(checkpoint, prefix)
    config_file = pathlib.Path(config_path) if config_path is not None \
        else _find_one(directory, "albert_config*.json", "ALBERT config")
    reader = tf.train.load_checkpoint(prefix)
    plan = plan_import(reader.get_variable_to_shape_map(), _read_raw_config(config_file))
    dtypes = reader.get_variable_to_dtype_map()
    not_float = sorted(n for n in plan.name_map if not dtypes[n].is_floating)
    if not_float:
        received = [(n, dtypes[n].name) for n in not_float]
        raise ValueError(f"expected float variables. Received: {received}")
    weights = {ours: np.asarray(reader.get_tensor(theirs), dtype=np.float32)
               for theirs, (ours, _) in plan.name_map.items()}
    weights.update(plan.synthesised)
    if plan.ignored:
        logger.info("ignored %d checkpoint variables: %s", len(plan.ignored), plan.ignored)
    return CheckpointWeights(plan.config, weights, prefix, plan.ignored,
                             tuple(sorted(plan.synthesised)))


def assign_encoder_weights(encoder: AlbertEncoder, weights: Mapping[str, np.ndarray]) -> None:
    """Sets every weight of ``encoder`` from ``weights`` (keyed as ``named_weights()`` names them).

    Raises:
        ValueError: a name is missing or unexpected, a shape differs, or the encoder owns a
            weight that ``named_weights()`` does not list (it would be left unset).
    """
    named = encoder.named_weights()
    names = [name for name, _ in named]
    shapes = {name: tuple(np.shape(value)) for name, value in weights.items()}
    listed = {id(v) for _, v in named}
    problems = _describe({
        "encoder weights without a value": sorted(set(names) - set(weights)),
        "values for no encoder weight": sorted(set(weights) - set(names)),
        "wrong shapes": sorted(f"{n}: given {list(shapes[n])}, encoder {list(v.shape)}"
                               for n, v in named if n in shapes and shapes[n] != tuple(v.shape)),
        "encoder weights missing from named_weights(), left unset":
            sorted(v.path for v in encoder.weights if id(v) not in listed)})
    if problems:
        raise ValueError("cannot set the encoder's weights: " + problems)
    for name, variable in named:
        variable.assign(np.asarray(weights[name], dtype=variable.dtype))


def import_checkpoint(checkpoint_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                      config_path: str | os.PathLike | None = None,
                      vocab_path: str | os.PathLike | None = None) -> pathlib.Path:
    """Converts a TF1 ALBERT checkpoint into a kgpipe encoder directory (see module docstring).

    Args:
        checkpoint_dir: directory holding the checkpoint, ``albert_config*.json`` and
            ``vocab.txt`` (or a checkpoint prefix, with ``config_path`` and ``vocab_path``).
        out_dir: directory to write; created if needed, our files in it are overwritten.
        config_path: overrides the ``albert_config*.json`` found beside the checkpoint.
        vocab_path: overrides the ``vocab.txt`` found beside the checkpoint.

    Returns:
        ``out_dir`` as a ``pathlib.Path``.

    Raises:
        ValueError: unmapped, missing or mis-shaped variables; a vocabulary whose size differs
            from the word embeddings'; missing files.
    """
    loaded = load_checkpoint_weights(checkpoint_dir, config_path=config_path)
    source_dir = _source_dir(checkpoint_dir, loaded.checkpoint)
    vocab = pathlib.Path(vocab_path) if vocab_path is not None else source_dir / VOCAB_FILE
    if not vocab.is_file():
        raise ValueError(f"no vocabulary at {str(vocab)!r}; pass vocab_path (a BERT-style "
                         "vocab.txt, one token a line)")
    with open(vocab, encoding="utf-8") as f:
        vocab_size = sum(1 for _ in f)
    if vocab_size != loaded.config.vocab_size:
        raise ValueError(f"{str(vocab)!r} has {vocab_size} lines but the word embeddings have "
                         f"{loaded.config.vocab_size} rows")
    encoder = AlbertEncoder(loaded.config)
    assign_encoder_weights(encoder, loaded.weights)  # proves every encoder weight is set
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    loaded.config.to_json(out / CONFIG_FILE)
    shutil.copyfile(vocab, out / VOCAB_FILE)
    np.savez(out / WEIGHTS_FILE, **loaded.weights)
    report = {"checkpoint": str(pathlib.Path(loaded.checkpoint).resolve()),
              "embedding_layout": loaded.config.embedding_layout,
              "num_weights": len(loaded.weights), "ignored": list(loaded.ignored),
              "synthesised": list(loaded.synthesised)}
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    logger.info("imported %s (%s layout) into %s", loaded.checkpoint,
                loaded.config.embedding_layout, out)
    return out


def load_encoder_weights(
        encoder_dir: str | os.PathLike) -> tuple[AlbertConfig, dict[str, np.ndarray]]:
    """Reads an encoder directory's config and weights (as written by ``import_checkpoint``)."""
    directory = pathlib.Path(encoder_dir)
    config = AlbertConfig.from_json(directory / CONFIG_FILE)
    with np.load(directory / WEIGHTS_FILE) as archive:
        weights = {name: archive[name] for name in archive.files}
    return config, weights


def load_encoder(encoder_dir: str | os.PathLike) -> AlbertEncoder:
    """Builds an ``AlbertEncoder`` from an encoder directory, every weight set."""
    config, weights = load_encoder_weights(encoder_dir)
    encoder = AlbertEncoder(config)
    assign_encoder_weights(encoder, weights)
    return encoder
