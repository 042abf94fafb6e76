"""Relation model directory and batched prediction.

Layout::

    config.json    {"format": "kgpipe-re/1", "version", "model": RelationConfig,
                    "predicates": [{"name", "subject_type", "object_type"}], "card": {...}}
    vocab.json     {"chars": [...], "bigrams": [...]} (0 pad, 1 unknown)
    weights.npz    float16 weights, keys ``NNNN:variable/path`` in ``model.weights`` order
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kgpipe.ner.relations.data import Predicate
from kgpipe.ner.relations.config import RelationConfig
from kgpipe.ner.relations.decoding import PairScores, decode
from kgpipe.ner.tokenizer import normalize_text

FORMAT = "kgpipe-re/1"
_SPECIALS = ("<pad>", "<unk>")


def normalize_char(char: str) -> str:
    """NFKC + lower case, one character in, one out (offsets stay character offsets)."""
    folded = unicodedata.normalize("NFKC", char).lower()
    return folded if len(folded) == 1 else char


_CLAUSE_BREAK = re.compile(r"[，。；！？]")


def plausible_span(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` can be a subject or object: no clause punctuation inside unless
    it is a title in 《》 (《没关系，是爱情啊》). 21 of DuIE train's 17,890 subjects and objects have
    such punctuation, all titles of works, 17 of them in 《》 in their sentence; of the shipped
    model's triples on its training sentences, those this rule drops (莫言，莫言) are wrong 55 times
    in 59 (none on the dev slice)."""
    return not _CLAUSE_BREAK.search(text, start, end) or (
        start > 0 and text[start - 1] == "《" and end < len(text) and text[end] == "》")


class CharVocab:
    """Characters and character bigrams -> ids (0 pad, 1 unknown)."""

    def __init__(self, chars: Sequence[str], bigrams: Sequence[str]):
        self.chars, self.bigrams = list(chars), list(bigrams)
        self.char_index = {c: i for i, c in enumerate(self.chars)}
        self.bigram_index = {b: i for i, b in enumerate(self.bigrams)}
        self._tables = None  # sorted code keys and their ids, for ``encode_batch``

    @classmethod
    def build(cls, texts: Iterable[str], min_bigram_count: int = 2) -> "CharVocab":
        chars, pairs = collections.Counter(), collections.Counter()
        for text in texts:
            norm = [normalize_char(c) for c in text]
            chars.update(norm)
            pairs.update(a + b for a, b in zip(norm, norm[1:] + ["\x00"]))
        bigrams = [b for b, n in pairs.most_common() if n >= min_bigram_count]
        return cls(list(_SPECIALS) + sorted(chars), list(_SPECIALS) + bigrams)

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """int32 [len(text)] character ids and bigram ids (character i with i + 1)."""
        batch = self.encode_batch([text])
        return batch["char_ids"][0, :len(text)], batch["bigram_ids"][0, :len(text)]

    def encode_batch(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """``{"char_ids", "bigram_ids"}`` int32 [batch, longest text], right-padded with 0.

        Vectorised: the texts' normalised code points are looked up in sorted key tables
        (character: its code point; bigram: ``a << 21 | b``, ``b = 0`` after the last character,
        the ``"\\x00"`` of the string keys), the same ids as the ``char_index`` /
        ``bigram_index`` dictionaries.
        """
        if self._tables is None:
            self._tables = (_key_table({ord(c): i for i, c in enumerate(self.chars) if len(c) == 1}),
                            _key_table({ord(b[0]) << 21 | ord(b[1]): i for i, b in enumerate(self.bigrams)
                                        if len(b) == 2}))
        lengths = np.array([len(t) for t in texts], np.int64)
        n = max(1, int(lengths.max(initial=0)))
        chars, bigrams = np.zeros((len(texts), n), np.int32), np.zeros((len(texts), n), np.int32)
        joined = normalize_text("".join(texts))
        if joined:
            codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)
            following = np.append(codes[1:], 0)
            following[np.cumsum(lengths)[lengths > 0] - 1] = 0  # each text's last character
            real = np.arange(n)[None, :] < lengths[:, None]
            chars[real] = _lookup(self._tables[0], codes)
            bigrams[real] = _lookup(self._tables[1], codes << 21 | following)
        return {"char_ids": chars, "bigram_ids": bigrams}


def _key_table(ids: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(sorted(ids), np.int64)
    return keys, np.array([ids[k] for k in keys.tolist()], np.int32)


def _lookup(table: tuple[np.ndarray, np.ndarray], queries: np.ndarray) -> np.ndarray:
    """The id of each query key, 1 (unknown) where the table lacks it."""
    keys, ids = table
    if not len(keys):
        return np.ones(len(queries), np.int32)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[at] == queries, ids[at], 1).astype(np.int32)


@dataclasses.dataclass(frozen=True)
class Triple:
    """A predicted triple: ``[start, end)`` character spans in the text and a confidence in (0, 1)."""

    subject: tuple[int, int]
    predicate: str
    object: tuple[int, int]
    confidence: float


def pad_batch(vocab: CharVocab, texts: Sequence[str], lexicon: str = "") -> dict[str, np.ndarray]:
    """``{"char_ids", "bigram_ids"}`` int32 [batch, longest text], right-padded with 0; with a
    ``lexicon`` kind (``RelationConfig.lexicon``) also ``"lexicon"`` float32 [batch, longest
    text, its width], zeros at padding."""
    inputs = vocab.encode_batch(texts)
    if lexicon:
        inputs["lexicon"] = lexicon_features(texts, inputs["char_ids"].shape[1], lexicon)
    return inputs


_LEXICONS: dict = {}  # kind -> ner.lexicon.Lexicon, built once per process


def lexicon_features(texts: Sequence[str], n: int, kind: str = "jieba") -> np.ndarray:
    """float32 [len(texts), n, width]: the SoftLexicon features of each text's characters
    (``ner.lexicon.Lexicon.features`` of jieba's dictionary, as the NER model's category
    features), zeros after a text's end. The texts are matched in one pass, joined by NUL (no
    dictionary word holds one), so a text's features do not depend on its batch-mates."""
    from kgpipe.ner.lexicon import BASE_CATEGORIES, build_lexicon, default_cache_dir

    if kind != "jieba":
        raise ValueError(f"`lexicon` must be 'jieba'. Received: lexicon={kind!r}")
    if kind not in _LEXICONS:
        _LEXICONS[kind] = build_lexicon(categories=BASE_CATEGORIES, cache_dir=default_cache_dir())
    lexicon = _LEXICONS[kind]
    out = np.zeros((len(texts), n, lexicon.feature_dim), np.float32)
    joined = "\x00".join(normalize_text(text) for text in texts)
    if joined:
        features = lexicon.features(joined, normalized=True)
        start = 0
        for row, text in enumerate(texts):
            out[row, :len(text)] = features[start:start + len(text)]
            start += len(text) + 1
    return out


class RelationExtractorModel:
    """A loaded relation model: ``predict(texts)`` -> triples per text.

    ``model`` is the Keras ``RelationModel`` (training, saving, TensorFlow serving); a model
    loaded for ONNX Runtime (``load(..., backend="onnx")``) has ``model=None`` and serves through
    ``serve`` (``inputs -> score arrays``, inputs as ``encode`` returns them; the contract of
    ``RelationModel.predict_factors``).
    """

    def __init__(self, model, vocab: CharVocab, predicates: Sequence[Predicate],
                 version: str = "untrained", card: dict | None = None, threshold: float = 0.0, *,
                 config: RelationConfig | None = None, serve=None, backend: str = "keras"):
        if model is None and (config is None or serve is None):
            raise ValueError("A relation extractor without a Keras model needs `config` and `serve`. Received: "
                             f"model=None, config={config!r}, serve={serve!r}")
        self.model, self.vocab, self.predicates = model, vocab, tuple(predicates)
        # Logit cut for entity, head and tail scores (0: probability 0.5), stored with the model.
        self.threshold = float(threshold)
        self.config: RelationConfig = config or model.config
        self.version, self.card = version, dict(card or {})
        self.backend = backend
        self._serve = serve or _compiled(model)

    def encode(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model inputs of ``texts`` (``pad_batch`` with this model's lexicon)."""
        return pad_batch(self.vocab, texts, self.config.lexicon)

    def predict(self, texts: Sequence[str], batch_size: int = 32,
                threshold: float | None = None) -> list[list[Triple]]:
        """Triples of each text (texts longer than ``max_length`` are read in consecutive windows).

        ``threshold``: the logit cut for this call (default: the model's ``threshold``).

        Returns:
            One list per text, sorted by (subject, predicate, object) offsets.
        """
        cut = self.threshold if threshold is None else float(threshold)
        step = self.config.max_length
        windows = [(i, s) for i, t in enumerate(texts) for s in range(0, max(len(t), 1), step)]
        windows.sort(key=lambda w: len(texts[w[0]][w[1]:w[1] + step]))
        out: list[list[Triple]] = [[] for _ in texts]
        for b in range(0, len(windows), batch_size):
            chunk = windows[b:b + batch_size]
            pieces = [texts[i][s:s + step] for i, s in chunk]
            scores = {k: np.asarray(v) for k, v in self._serve(self.encode(pieces)).items()}
            for row, ((i, s), piece) in enumerate(zip(chunk, pieces)):
                head, tail = (PairScores(*(scores[f"{name}_{part}"][row] for part in ("pair", "end", "start")))
                              for name in ("head", "tail"))
                for ss, se, p, os_, oe, score in decode(scores["entity"][row], head, tail, len(piece), cut):
                    if not (plausible_span(piece, ss, se) and plausible_span(piece, os_, oe)):
                        continue
                    out[i].append(Triple((s + ss, s + se), self.config.predicates[p], (s + os_, s + oe),
                                         float(1.0 / (1.0 + np.exp(-score)))))
        for triples in out:
            triples.sort(key=lambda t: (t.subject, t.predicate, t.object))
        return out

    def save(self, path: str | os.PathLike, card: dict | None = None) -> str:
        """Writes the model directory (float16 weights); returns the version string."""
        if self.model is None:
            raise ValueError(f"This relation model was loaded for {self.backend}; load it with "
                             f"backend='keras' to save it.")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        stored = [np.asarray(v.numpy()) for v in self.model.weights]
        stored = [a.astype(np.float16) if a.dtype.kind == "f" else a for a in stored]
        digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in stored))
        if self.threshold:  # it changes what the model predicts, so it is part of the version
            digest.update(f"threshold={self.threshold!r}".encode())
        self.version = f"kgpipe-re-{digest.hexdigest()[:10]}"
        np.savez(path / "weights.npz", **{f"{i:04d}:{v.path}": a
                                          for i, (v, a) in enumerate(zip(self.model.weights, stored))})
        (path / "vocab.json").write_text(json.dumps({"chars": self.vocab.chars, "bigrams": self.vocab.bigrams},
                                                    ensure_ascii=False), encoding="utf-8")
        self.card = {**self.card, **(card or {})}
        meta = {"format": FORMAT, "version": self.version, "model": self.config.to_dict(),
                "decode_threshold": self.threshold,
                "predicates": [dataclasses.asdict(p) for p in self.predicates], "card": self.card}
        (path / "config.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        return self.version

    @classmethod
    def load(cls, path: str | os.PathLike, backend: str = "auto", threads: int = 1,
             int8: bool = False) -> "RelationExtractorModel":
        """Loads a directory written by ``save``.

        ``backend``: ``"onnx"`` serves on ONNX Runtime's CPU provider without importing Keras or
        TensorFlow (same triples up to float rounding); ``"keras"`` builds the Keras model (needed
        to train on or save); ``"auto"`` is ONNX where onnxruntime is installed and no GPU can be
        present, else Keras. ``threads``: ONNX Runtime's threads for one call. ``int8``: serve
        the ONNX graph with its matrix products and LSTM dynamically quantised to int8 (about
        twice the speed on CPU, slightly different scores; BENCHMARKS.md); the version gains
        ``+int8``, so provenance and run ids say so. It needs the ONNX backend.

        Raises:
            ValueError: naming the file when it is missing or not a kgpipe relation model, an
                unknown ``backend``, or ``int8`` with the Keras backend.
        """
        if backend not in ("auto", "onnx", "keras"):
            raise ValueError(f"`backend` must be 'auto', 'onnx' or 'keras'. Received: backend={backend!r}")
        if int8 and (backend == "keras" or not _onnx_available(gpu_ok=True)):
            raise ValueError("int8 relation scoring runs on ONNX Runtime: it needs onnxruntime installed and "
                             f"the onnx backend. Received: backend={backend!r}")
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"`threads` must be an integer >= 1. Received: threads={threads!r}")
        path = Path(path)
        config_file = path / "config.json"
        if not config_file.is_file() or not (path / "weights.npz").is_file():
            raise ValueError(f"{path}: not a relation model directory (needs config.json and weights.npz)")
        meta = json.loads(config_file.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{config_file}: format must be {FORMAT!r}. Received: {meta.get('format')!r}")
        vocab_data = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        vocab = CharVocab(vocab_data["chars"], vocab_data["bigrams"])
        config = RelationConfig.from_dict(meta["model"])
        rest = ([Predicate(**p) for p in meta["predicates"]], meta["version"], meta.get("card"))
        threshold = meta.get("decode_threshold", 0.0)
        if backend == "auto":
            backend = "onnx" if int8 or _onnx_available() else "keras"
        if backend == "onnx":
            from kgpipe.ner.relations.onnx_runtime import OnnxRelationScores, read_arrays

            arrays = read_arrays(path)
            _check_arrays(path, arrays, config)
            if int8:
                rest = (rest[0], rest[1] + "+int8", rest[2])
            return cls(None, vocab, *rest, threshold=threshold, config=config,
                       serve=OnnxRelationScores(arrays, config, threads, int8=int8), backend="onnx")
        from kgpipe.ner.relations.model import RelationModel

        model = RelationModel(config)
        model.build_all()
        with np.load(path / "weights.npz") as weights:
            arrays = [weights[k] for k in sorted(weights.files)]
        if len(arrays) != len(model.weights):
            raise ValueError(f"{path / 'weights.npz'}: {len(arrays)} arrays, the model has {len(model.weights)}")
        for variable, array in zip(model.weights, arrays):
            variable.assign(array.astype(variable.dtype))
        return cls(model, vocab, *rest, threshold=threshold)


def onnx_serves() -> bool:
    """Whether ``load(backend="auto")`` serves on ONNX Runtime here."""
    return _onnx_available()


def _onnx_available(gpu_ok: bool = False) -> bool:
    """onnxruntime is installed (and, unless ``gpu_ok``, no GPU can be present, where Keras is faster)."""
    import importlib.util

    from kgpipe.ner.tagger import may_have_gpu

    return importlib.util.find_spec("onnxruntime") is not None and (gpu_ok or not may_have_gpu())


def _check_arrays(path: Path, arrays: dict[str, np.ndarray], config: RelationConfig) -> None:
    """One clear error for weights that do not fit ``config`` (before ONNX sees them)."""
    u, h, p = config.lstm_units, config.head_size, len(config.predicates)
    inputs = config.embedding_dim + 2 * config.bigram_dim + (config.lexicon_units if config.lexicon_dim else 0)
    expected = {"char_embeddings/embeddings": (config.vocab_size, config.embedding_dim),
                "bigram_embeddings/embeddings": (config.bigram_vocab_size, config.bigram_dim)}
    if config.lexicon_dim:
        expected.update({"lexicon_projection/kernel": (config.lexicon_dim, config.lexicon_units),
                         "lexicon_projection/bias": (config.lexicon_units,)})
    for d in ("forward", "backward"):
        expected.update({f"bilstm/{d}_lstm/lstm_cell/kernel": (inputs, 4 * u),
                         f"bilstm/{d}_lstm/lstm_cell/recurrent_kernel": (u, 4 * u),
                         f"bilstm/{d}_lstm/lstm_cell/bias": (4 * u,)})
    for name, labels in (("entity", 2), ("head", p), ("tail", p)):
        expected.update({f"{name}/query_key/kernel": (2 * u, 2 * h), f"{name}/query_key/bias": (2 * h,),
                         f"{name}/label_bias/kernel": (2 * h, 2 * labels), f"{name}/label_bias/bias": (2 * labels,)})
    for key, shape in expected.items():
        if key not in arrays:
            raise ValueError(f"{path / 'weights.npz'}: no array for {key!r}")
        if arrays[key].shape != shape:
            raise ValueError(f"{path / 'weights.npz'}: {key!r} has shape {arrays[key].shape}, the config "
                             f"says {shape}")
    if len(arrays) != len(expected):
        raise ValueError(f"{path / 'weights.npz'}: {len(arrays)} arrays, the model has {len(expected)}")


def _compiled(model):
    """The model's inference call (``RelationModel.predict_factors``: no dense pair tensors):
    one ``tf.function`` for every batch shape under TensorFlow (eager Keras spent most of
    prediction in per-op dispatch), the plain call elsewhere."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return model.predict_factors
    import tensorflow as tf

    spec = {"char_ids": tf.TensorSpec([None, None], tf.int32), "bigram_ids": tf.TensorSpec([None, None], tf.int32)}
    if model.config.lexicon_dim:
        spec["lexicon"] = tf.TensorSpec([None, None, model.config.lexicon_dim], tf.float32)
    return tf.function(lambda inputs: model.predict_factors(inputs), input_signature=[spec])
