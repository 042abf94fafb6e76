"""Model directory: save and load everything a tagger needs.

Layout::

    config.json          {"format", "name", "version", "model": NerConfig, "tokenizer": {...},
                          "lexicon": {...}, "labels": [...]}
    labels.json          entity types the model emits
    vocab.txt            tokenizer vocabulary (BERT style)
    bigrams.txt          bigram vocabulary (two tokens per line, tab separated)
    lexicon_extra.txt    extra lexicon words (``word<TAB>category<TAB>weight``); jieba's
                         dictionary is rebuilt from the installed jieba at load time
    gazetteer.txt        entity surfaces of the training data (same format), categories G_<label>;
                         absent for KB gazetteer features (config.json ``gazetteer.kb_types``:
                         label -> KB types), whose words come from the KB the tagger runs with
    word_vectors.txt     SoftLexicon word vectors (``ner.word_vectors``): word<TAB>frequency lines
    word_vectors.npy       and their float16 vectors
    weights.npz          float16 weights, keys ``NNNN:variable/path`` in model.weights order
    serving/             optional TF SavedModel, signature ``serving_default`` (see tagger)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from kgpipe.ner.config import NerConfig
from kgpipe.ner.features import BigramVocab, Featurizer
from kgpipe.ner.lexicon import Lexicon, build_lexicon, default_cache_dir, kb_gazetteer
from kgpipe.ner.tokenizer import Tokenizer

FORMAT = "kgpipe-ner/1"
logger = logging.getLogger(__name__)
# label -> KB types  ->  label -> names and aliases of the KB's entities of those types
KbNames = Callable[[Mapping[str, Sequence[str]]], Mapping[str, Iterable[str]]]
_LSTM_COUNTER = re.compile(r"^(bilstm/(?:forward|backward)_lstm)_\d+/")


def weight_key(path: str) -> str:
    """A weight's path without the model's own name and Keras' layer counters, the same in
    every process: ``ner_model_14/bilstm/forward_lstm_14/lstm_cell/kernel`` ->
    ``bilstm/forward_lstm/lstm_cell/kernel`` (also for ``weights.npz`` keys after ``NNNN:``)."""
    return _LSTM_COUNTER.sub(r"\1/", path.split("/", 1)[1])


def weights_hash(arrays: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:10]


def save_model_dir(path: str | os.PathLike, model, featurizer: Featurizer, *,
                   weights: list[np.ndarray] | None = None, dtype: str = "float16",
                   extra_meta: dict | None = None) -> str:
    """Writes a model directory; returns the version string.

    Args:
        weights: arrays to store instead of the model's current weights (e.g. EMA weights),
            in ``model.weights`` order.
        dtype: storage dtype of float weights.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config: NerConfig = model.config
    arrays = [np.asarray(w) for w in (weights if weights is not None else
                                      [v.numpy() for v in model.weights])]
    stored = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    hashed = stored + ([featurizer.word_vectors.vectors.astype(np.float16)]
                       if featurizer.word_vectors is not None else [])
    version = f"kgpipe-ner-{config.name}-{weights_hash(hashed)}"
    np.savez(path / "weights.npz", **{f"{i:04d}:{v.path}": a
                                      for i, (v, a) in enumerate(zip(model.weights, stored))})
    featurizer.tokenizer.save(path / "vocab.txt")
    featurizer.bigram_vocab.save(path / "bigrams.txt")
    lexicon = featurizer.lexicon
    lexicon_meta = None
    if lexicon is not None:
        lexicon.save_extra(path / "lexicon_extra.txt")
        lexicon_meta = {"jieba": getattr(lexicon, "uses_jieba", True),
                        "categories": list(lexicon.categories),
                        "max_word_length": lexicon.max_word_length,
                        "extra_file": "lexicon_extra.txt"}
    gazetteer_meta = None
    gazetteer = featurizer.gazetteer
    if gazetteer is not None:
        gazetteer_meta = {"categories": list(gazetteer.categories),
                          "max_word_length": gazetteer.max_word_length}
        if gazetteer.kb_types is not None:  # its words come from the KB at load time
            gazetteer_meta["kb_types"] = {label: list(types) for label, types in gazetteer.kb_types.items()}
        else:
            gazetteer.save_extra(path / "gazetteer.txt")
            gazetteer_meta["file"] = "gazetteer.txt"
    word_vectors_meta = None
    if featurizer.word_vectors is not None:
        word_vectors_meta = featurizer.word_vectors.save(path)
    meta = {"format": FORMAT, "gazetteer": gazetteer_meta, "word_vectors": word_vectors_meta, "name": config.name, "version": version,
            "model": config.to_dict(), "labels": list(config.labels),
            "tokenizer": {"vocab_file": "vocab.txt", "lowercase": True, "normalization": "NFKC"},
            "bigrams_file": "bigrams.txt", "lexicon": lexicon_meta, **(extra_meta or {})}
    with open(path / "config.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(path / "labels.json", "w", encoding="utf-8") as f:
        json.dump(list(config.labels), f)
        f.write("\n")
    return version


def load_featurizer(path: str | os.PathLike, meta: dict, *, kb_names: KbNames | None = None) -> Featurizer:
    """The model directory's featurizer.

    Args:
        kb_names: For a model with KB gazetteer features (``gazetteer.kb_types`` in config.json):
            label -> KB types in, label -> the names and aliases of the KB's entities of those
            types out (``pipeline.kb_names.KbNames``: the run's KB, the bundled one by default).
            Ignored by other models.
    """
    path = Path(path)
    tokenizer = Tokenizer.from_file(path / meta["tokenizer"]["vocab_file"])
    bigram_vocab = BigramVocab.load(path / meta["bigrams_file"])
    lexicon = None
    if meta.get("lexicon"):
        spec = meta["lexicon"]
        lexicon = build_lexicon(use_jieba=spec["jieba"], categories=spec["categories"],
                                max_word_length=spec["max_word_length"], cache_dir=default_cache_dir())
        lexicon.uses_jieba = spec["jieba"]
        lexicon.load_extra(path / spec["extra_file"])
        if list(lexicon.categories) != list(spec["categories"]):
            raise ValueError(f"lexicon categories {lexicon.categories} differ from the saved "
                             f"{spec['categories']}")
    gazetteer = None
    if meta.get("gazetteer"):
        spec = meta["gazetteer"]
        if spec.get("kb_types"):
            if kb_names is None:
                raise ValueError(
                    f"model {str(path)!r} has KB gazetteer features (labels -> KB types "
                    f"{spec['kb_types']}): load it with its KB's names, kb_names=KbNames(kb) "
                    "(kgpipe.pipeline.kb_names; kgpipe run and kgpipe ner pass --kb, the bundled KB by default)")
            gazetteer = load_kb_gazetteer(spec["kb_types"], kb_names, max_word_length=spec["max_word_length"])
            if list(gazetteer.categories) != list(spec["categories"]):
                raise ValueError(f"gazetteer categories {list(gazetteer.categories)} differ from the saved "
                                 f"{spec['categories']}")
        else:
            gazetteer = Lexicon(spec["categories"], max_word_length=spec["max_word_length"])
            gazetteer.load_extra(path / spec["file"])
    word_vectors = None
    if meta.get("word_vectors"):
        from kgpipe.ner.word_vectors import WordVectors
        word_vectors = WordVectors.load(path, meta["word_vectors"])
    return Featurizer(tokenizer, bigram_vocab, lexicon, gazetteer, word_vectors)


def load_kb_gazetteer(kb_types: Mapping[str, Sequence[str]], kb_names: KbNames, **kwargs) -> Lexicon:
    """The KB gazetteer of ``kb_types`` (label -> KB types), filled by ``kb_names``; ``kwargs`` go
    to ``ner.lexicon.kb_gazetteer``. Warns about a label whose types the KB does not have."""
    names = {label: list(words) for label, words in kb_names(kb_types).items()}
    for label in kb_types:
        if not names.get(label):
            logger.warning("the KB has no entity of types %s: the model's %s gazetteer features stay "
                           "empty", kb_types[label], label)
    return kb_gazetteer(names, kb_types, **kwargs)


def read_meta(path: str | os.PathLike) -> dict:
    config_path = Path(path) / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"no config.json in model directory {str(path)!r}")
    with open(config_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{config_path}: expected format {FORMAT!r}, got {meta.get('format')!r}")
    return meta


def read_weights(path: str | os.PathLike, config: NerConfig) -> list[tuple[str, np.ndarray]]:
    """``weights.npz`` as ``(key, array)`` in ``model.weights`` order (keys ``NNNN:path``).

    Directories written before 0-layer encoders stopped building a transformer layer carry that
    unused layer's weights (``albert/group_*``); they are skipped.
    """
    with np.load(Path(path) / "weights.npz") as data:
        keys = sorted(data.files)
        if config.albert.num_hidden_layers == 0:
            keys = [k for k in keys if "/albert/group_" not in k]
        return [(key, data[key]) for key in keys]


def load_weights(model, path: str | os.PathLike) -> None:
    """Assigns ``weights.npz`` (``read_weights``) to a built model, checking count and shapes."""
    stored = read_weights(path, model.config)
    if len(stored) != len(model.weights):
        raise ValueError(f"weights.npz holds {len(stored)} arrays, the model has "
                         f"{len(model.weights)} weights")
    for (key, array), variable in zip(stored, model.weights):
        if tuple(array.shape) != tuple(variable.shape):
            raise ValueError(f"{key}: stored shape {array.shape} != model shape {variable.shape}")
        variable.assign(array.astype(variable.dtype))


def load_model_dir(path: str | os.PathLike, *, kb_names: KbNames | None = None):
    """Returns ``(model, featurizer, meta)``; the model has float32 weights. ``kb_names``: as for
    ``load_featurizer``."""
    from kgpipe.ner.model import NerModel

    meta = read_meta(path)
    config = NerConfig.from_dict(meta["model"])
    featurizer = load_featurizer(path, meta, kb_names=kb_names)
    model = NerModel(config)
    model.build_all()
    load_weights(model, path)
    return model, featurizer, meta
