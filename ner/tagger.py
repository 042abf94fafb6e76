"""MentionTagger: load a model directory and tag batches of text windows (the Beam contract).

Offsets: a window's mentions carry character offsets ``[start, end)`` into the *document*
(``window.start`` + offset in the window), and ``mention.text == window.text[local range]``.
"""

from __future__ import annotations

import collections
import os
import threading
from typing import Sequence

import numpy as np

from kgpipe.ner.decoding import best_per_span, decode_batch, decode_globalpointer, merge_spans
from kgpipe.ner.features import Featurizer, Features
from kgpipe.ner.tokenizer import Encoding

CharSpan = tuple[int, int, str, float]
# "onnx": ONNX Runtime on CPU (``ner.onnx_runtime``); "tensorflow": the Keras model.
RUNTIMES = ("tensorflow", "onnx")


class MentionTagger:
    """Tags text windows with entity mentions; one instance is safe to share across threads.

    Attributes:
        version: ``kgpipe-ner-<name>-<hash of the stored weights>``.
        labels: entity types emitted.
        max_sequence_length: longest input in tokens, incl. [CLS] and [SEP].
        max_window_chars: longest window text ``tag_batch`` accepts, in characters.
        bucket_lengths: padded token lengths the model runs at.
    """

    def __init__(self, model, featurizer: Featurizer, *, version: str, device: str | None = None,
                 mixed_precision: bool = False, jit_compile: bool = False,
                 runtime: str = "tensorflow"):
        config = model.config
        self.model = model
        self.featurizer = featurizer
        self.version = version
        self.labels = config.labels
        self.max_sequence_length = config.max_sequence_length
        # Each character gives at most one token, so this many characters always fit.
        self.max_window_chars = config.max_sequence_length - 2
        self.bucket_lengths = config.bucket_lengths
        self.device = device
        self.mixed_precision = mixed_precision
        self._heads = list(config.heads)
        self._crf = [_crf_parameters(model, h) if h.kind == "crf" else None for h in self._heads]
        self._lexicon_dim = featurizer.lexicon_dim
        dtype = "bfloat16" if mixed_precision else "float32"
        self._lexicon_dtype = np.float32
        self._dtype = dtype
        if runtime not in RUNTIMES:
            raise ValueError(f"`runtime` must be one of {RUNTIMES}. Received: runtime={runtime!r}")
        from kgpipe.ner.onnx_runtime import StoredWeights

        if isinstance(model, StoredWeights):  # loaded without Keras: ONNX Runtime only
            if runtime != "onnx":
                raise ValueError("a model read as StoredWeights runs on ONNX Runtime only; load "
                                 f"it with MentionTagger.load(..., runtime={runtime!r})")
            self.serve = None
        else:
            self.serve = (_tf_serve(model, self._lexicon_dim, jit_compile) if _backend() == "tensorflow"
                          else _portable_serve(model, jit_compile))
        self.jit_compile = jit_compile
        self.fixed_rows = 64  # Rows of every XLA call (= predict_spans' default batch_size).
        self.runtime = runtime
        self._onnx = None
        if runtime == "onnx":
            from kgpipe.ner.onnx_runtime import OnnxEmissions

            self._onnx = OnnxEmissions(model)  # OnnxUnsupported for models it cannot translate
        self._lock = threading.Lock()
        self._cache: collections.OrderedDict[str, Encoding] = collections.OrderedDict()
        self._cache_size = 4096
        featurizer("预热 warm-up")  # builds the lexicon automata now, not inside the first batch

    @classmethod
    def load(cls, model_dir: str | os.PathLike, *, device: str | None = None,
             mixed_precision: bool | None = None, jit_compile: bool | None = None,
             runtime: str | None = None, kb_names=None) -> "MentionTagger":
        """Loads a model directory written by ``ner.model_dir.save_model_dir``.

        ``kb_names``: for a model with KB gazetteer features, where their names come from
        (``ner.model_dir.load_featurizer``; e.g. ``pipeline.kb_names.KbNames(kb)``).

        On a machine with a GPU the model runs there with bf16 mixed precision and XLA by
        default; on CPU in float32 without XLA, through ONNX Runtime when the model is one
        ``ner.onnx_runtime`` translates (same emissions within 1e-4; about twice as fast as
        TensorFlow there, see BENCHMARKS.md), else TensorFlow. Explicit arguments override
        the defaults (``runtime="onnx"`` raises ``OnnxUnsupported`` for other models).
        """
        if (device is None and runtime in (None, "onnx") and not mixed_precision and not jit_compile
                and not may_have_gpu()):
            tagger = cls._load_onnx(model_dir, required=runtime == "onnx", kb_names=kb_names)
            if tagger is not None:
                return tagger
        import keras

        from kgpipe.ner.model_dir import load_model_dir

        if device is None:
            device = "/GPU:0" if _has_gpu() else "/CPU:0"
        on_gpu = "GPU" in device.upper()
        mixed_precision = on_gpu if mixed_precision is None else mixed_precision
        jit_compile = on_gpu if jit_compile is None else jit_compile
        with _device_scope(device):
            if mixed_precision:
                previous = keras.config.dtype_policy()
                keras.config.set_dtype_policy("mixed_bfloat16")
                try:
                    model, featurizer, meta = load_model_dir(model_dir, kb_names=kb_names)
                finally:
                    keras.config.set_dtype_policy(previous)
            else:
                model, featurizer, meta = load_model_dir(model_dir, kb_names=kb_names)
        if runtime is None:
            runtime = "tensorflow" if on_gpu or mixed_precision or jit_compile else _onnx_or_tf(model)
        return cls(model, featurizer, version=meta["version"], device=device,
                   mixed_precision=mixed_precision, jit_compile=jit_compile, runtime=runtime)

    @classmethod
    def _load_onnx(cls, model_dir, *, required: bool, kb_names=None) -> "MentionTagger | None":
        """The CPU tagger on ONNX Runtime, read without importing Keras or TensorFlow (their
        import is most of a worker's start-up); None when ONNX Runtime is missing or does not
        translate the model, unless ``required``."""
        from kgpipe.ner.model_dir import load_featurizer, read_meta
        from kgpipe.ner.onnx_runtime import OnnxUnsupported, StoredWeights, check_supported

        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            if required:
                raise
            return None
        meta = read_meta(model_dir)
        stored = StoredWeights.from_model_dir(model_dir, meta)
        try:
            check_supported(stored)
        except OnnxUnsupported:
            if required:
                raise
            return None
        return cls(stored, load_featurizer(model_dir, meta, kb_names=kb_names), version=meta["version"],
                   device="/CPU:0", runtime="onnx")

    @property
    def nested_heads(self) -> tuple[str, ...]:
        """Names of the heads whose spans may nest (GlobalPointer heads trained on nested data)."""
        return tuple(head.name for head in self._heads if head.nested)

    @property
    def head_labels(self) -> dict[str, tuple[str, ...]]:
        """Head name -> the labels that head emits (``predict_spans(heads=...)`` names)."""
        return {head.name: head.labels for head in self._heads}

    def token_count(self, text: str) -> int:
        """Tokens of ``text`` including [CLS] and [SEP].

        The encoding computed on the way is cached briefly, since a caller that counts tokens
        (to pick a batch's bucket) tags the same text right after.
        """
        return len(self._encoding(text)) + 2

    def _encoding(self, text: str) -> Encoding:
        with self._lock:
            cached = self._cache.get(text)
        if cached is not None:
            return cached
        encoding = self.featurizer.tokenizer.encode(text)
        with self._lock:
            self._cache[text] = encoding
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return encoding

    def bucket_for(self, length: int) -> int:
        for bucket in self.bucket_lengths:
            if length <= bucket:
                return bucket
        raise ValueError(f"{length} tokens exceed max_sequence_length={self.max_sequence_length}")

    def featurize(self, texts: Sequence[str]) -> list[Features]:
        """Model inputs of each text (batch-featurised, with cached encodings)."""
        with self._lock:
            encodings = [self._cache.get(text) for text in texts]
        missing = [i for i, encoding in enumerate(encodings) if encoding is None]
        if missing:  # one batched tokenizer call for the texts not counted before
            for i, encoding in zip(missing, self.featurizer.tokenizer.encode_batch(
                    [texts[i] for i in missing])):
                encodings[i] = encoding
        return self.featurizer.batch(texts, encodings)

    def predict_spans(self, texts: Sequence[str], heads: Sequence[str] | None = None,
                      batch_size: int | None = None,
                      text_heads: Sequence[Sequence[str] | None] | None = None) -> list[list[CharSpan]]:
        """Per text, ``(start, end, label, score)`` character spans, sorted by position.

        Spans do not overlap, except those of nested (GlobalPointer) heads.

        Args:
            heads: names of the heads to decode (default all), merged by score.
            text_heads: per text, the heads to decode instead of ``heads`` (``None``: ``heads``),
                e.g. a product title's brand/product head only; the texts still share model calls.
            batch_size: most rows of one model call; ``None``: 256 on ONNX Runtime (larger
                batches cut numpy decoding's per-step overhead), else 64.

        Raises:
            ValueError: a text is longer than ``max_window_chars``, or a head is unknown.
        """
        if text_heads is not None and len(text_heads) != len(texts):
            raise ValueError(f"{len(texts)} texts need {len(texts)} text_heads. Received: {len(text_heads)}")
        asked = set(heads or ()) | {h for hs in text_heads or () for h in hs or ()}
        unknown = asked - set(self.head_labels)
        if unknown:
            raise ValueError(f"unknown heads {sorted(unknown)}; this model has "
                             f"{sorted(self.head_labels)}. Received: heads {sorted(asked)}")
        for text in texts:
            if len(text) > self.max_window_chars:
                raise ValueError(f"window of {len(text)} chars exceeds max_window_chars="
                                 f"{self.max_window_chars}; split documents into windows first")
        features = self.featurize(texts)
        results: list[list[CharSpan]] = [[] for _ in texts]
        batch_size = batch_size or (256 if self._onnx is not None else 64)
        for width, chunk in self._batches(features, batch_size):
            batch = [features[i] for i in chunk]
            row_heads = None if text_heads is None else [
                heads if text_heads[i] is None else text_heads[i] for i in chunk]
            for i, spans in zip(chunk, self._decode(batch, self._run(width, batch), heads, row_heads)):
                results[i] = spans
        return results

    def _batches(self, features: list[Features], batch_size: int):
        """``(padded length, text indices)`` of each model call, texts sorted by length.

        Both group texts by ``bucket_lengths`` (so a batch of mixed lengths does not pad short
        rows to the longest). TensorFlow pads to the bucket (one traced graph per bucket); ONNX
        Runtime takes any shape, so it pads to the longest row of the batch.
        """
        order = sorted(range(len(features)), key=lambda i: len(features[i]))
        groups: dict[int, list[int]] = {}
        for i in order:
            groups.setdefault(self.bucket_for(len(features[i])), []).append(i)
        for bucket, indices in groups.items():
            for k in range(0, len(indices), batch_size):
                chunk = indices[k:k + batch_size]
                yield (len(features[chunk[-1]]) if self._onnx is not None else bucket), chunk

    def _run(self, bucket: int, batch: list[Features]) -> dict[str, np.ndarray]:
        # Under XLA every distinct shape compiles anew: pad the rows too, so each
        # bucket runs at one shape [fixed_rows, bucket] and compiles once.
        rows = max(self.fixed_rows, len(batch)) if self.jit_compile else len(batch)
        token_ids = np.zeros((rows, bucket), np.int32)
        bigram_ids = np.zeros((rows, bucket), np.int32)
        lexicon = np.zeros((rows, bucket, self._lexicon_dim), np.float32)
        # Each row's real positions, filled at once from the rows laid end to end.
        real = np.arange(bucket)[None] < np.array([len(f) for f in batch])[:, None]
        token_ids[:len(batch)][real] = np.concatenate([f.token_ids for f in batch])
        bigram_ids[:len(batch)][real] = np.concatenate([f.bigram_ids for f in batch])
        lexicon[:len(batch)][real] = np.concatenate([f.lexicon for f in batch])
        if self._onnx is not None:
            return self._onnx(token_ids, bigram_ids, lexicon)
        with _device_scope(self.device or "/CPU:0"):
            outputs = self.serve(token_ids, bigram_ids, lexicon)
        return {name: np.asarray(v)[:len(batch)] for name, v in outputs.items()}

    def _decode(self, batch: list[Features], emissions: dict[str, np.ndarray],
                heads: Sequence[str] | None,
                row_heads: Sequence[Sequence[str] | None] | None = None) -> list[list[CharSpan]]:
        lengths = np.array([len(f.offsets) for f in batch])
        candidates: list[list] = [[] for _ in batch]
        nested: list[list] = [[] for _ in batch]  # spans of nested heads: kept as they are
        for head_config, crf in zip(self._heads, self._crf):
            if row_heads is not None:
                wanted = [hs is None or head_config.name in hs for hs in row_heads]
                if not any(wanted):
                    continue
            elif heads is not None and head_config.name not in heads:
                continue
            else:
                wanted = None
            if crf is None:
                decoded = decode_globalpointer(emissions[head_config.name], lengths,
                                               head_config.labels, nested=head_config.nested)
            else:
                tags, trans, start, end = crf
                decoded = decode_batch(emissions[head_config.name][:, :max(lengths.max(), 1)],
                                       lengths, trans, start, end, tags)
            for row, spans in enumerate(decoded):
                if wanted is None or wanted[row]:
                    (nested if head_config.nested else candidates)[row] += spans
        out = []
        for f, row_candidates, row_nested in zip(batch, candidates, nested):
            offsets = f.offsets
            spans = best_per_span(merge_spans(row_candidates) + row_nested)
            out.append([(offsets[s][0], offsets[e - 1][1], label, score)
                        for s, e, label, score in spans])
        return out

    def tag_batch(self, windows: Sequence, batch_size: int | None = None,
                  heads: Sequence[Sequence[str] | None] | None = None) -> list[list]:
        """Tags ``schemas.records.TextWindow``s; returns their ``Mention``s, window by window.

        Args:
            windows: The windows; the caller sizes the batch (``pipeline.handlers`` cuts it).
            batch_size: Most rows of one model call; ``None``: the whole batch in one call per
                bucket shape present (under XLA: ``fixed_rows``, the one compiled shape).
            heads: per window, the heads to decode (``None``: all), as ``predict_spans``'s
                ``text_heads``.

        Raises:
            ValueError: a window is longer than ``max_window_chars``.
        """
        from kgpipe.schemas.records import Mention

        rows = batch_size or (self.fixed_rows if self.jit_compile else max(len(windows), 1))
        spans = self.predict_spans([w.text for w in windows], batch_size=rows, text_heads=heads)
        return [[Mention(doc_id=w.doc_id, start=w.start + s, end=w.start + e, text=w.text[s:e],
                         label=label, score=round(score, 6), model=self.version)
                 for s, e, label, score in window_spans]
                for w, window_spans in zip(windows, spans)]

    def tag_text(self, text: str, doc_id: str = "text", heads: Sequence[str] | None = None) -> list:
        """Tags a text of any length, split into sentence windows by ``ner.windows``; ``heads``:
        the heads to decode (``None``: all)."""
        from kgpipe.ner.windows import split_windows
        from kgpipe.schemas.records import Document

        windows = split_windows(Document(id=doc_id, text=text), self.max_window_chars)
        return [m for ms in self.tag_batch(windows, heads=None if heads is None else [heads] * len(windows))
                for m in ms]

    def export_onnx(self, path: str | os.PathLike) -> None:
        """Writes the ONNX model of the CPU path (``ner.onnx_runtime.export_onnx``)."""
        from kgpipe.ner.onnx_runtime import export_onnx

        with open(path, "wb") as f:
            f.write(export_onnx(self.model))

    def export_saved_model(self, path: str | os.PathLike) -> None:
        """Writes a TF SavedModel whose ``serving_default`` takes (token_ids, bigram_ids,
        lexicon) of any batch size and returns per-head emission scores [batch, seq - 1, tags]."""
        import tensorflow as tf

        if self.serve is None:
            raise ValueError("this tagger was loaded for ONNX Runtime without Keras; load it with "
                             "MentionTagger.load(model_dir, runtime='tensorflow') to export a SavedModel")
        module = tf.Module()
        # Keras 3 variables wrap tf.Variables; track the wrapped ones so they are saved.
        module.variables_ = [v.value for v in self.model.weights]
        module.serve = self.serve
        tf.saved_model.save(module, str(path), signatures={"serving_default": self.serve})


def _onnx_or_tf(model) -> str:
    """"onnx" when ONNX Runtime is installed and translates ``model``, else "tensorflow"."""
    try:
        import onnxruntime  # noqa: F401

        from kgpipe.ner.onnx_runtime import OnnxUnsupported, check_supported
    except ImportError:
        return "tensorflow"
    try:
        check_supported(model)
    except OnnxUnsupported:
        return "tensorflow"
    return "onnx"


def _crf_parameters(model, head) -> tuple:
    """``(tags, transitions, start, end)`` of CRF head ``head`` (a ``HeadConfig``) as numpy."""
    from kgpipe.ner.onnx_runtime import StoredWeights

    if isinstance(model, StoredWeights):
        return (head.tags, *(model.head(head.name, part) for part in ("transitions", "start", "end")))
    layer = model.heads[head.name]
    return head.tags, layer.transitions.numpy(), layer.start.numpy(), layer.end.numpy()


def may_have_gpu() -> bool:
    """False when this machine surely has no GPU TensorFlow could use: on Linux, no NVIDIA or
    ROCm device node (checked without importing TensorFlow); elsewhere TensorFlow decides."""
    import sys

    if not sys.platform.startswith("linux"):
        return True
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"))


# --- backends: TensorFlow serves through tf.function; other Keras backends (JAX on machines
# without TensorFlow) through a jitted stateless call of the same keras.ops model.
def _backend() -> str:
    import keras

    return keras.backend.backend()


def _has_gpu() -> bool:
    if _backend() == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if _backend() == "jax":
        import jax

        return jax.default_backend() == "gpu"
    return False


def _device_scope(device: str):
    """``tf.device`` under TensorFlow; JAX places arrays on its default device itself."""
    if _backend() == "tensorflow":
        import tensorflow as tf

        return tf.device(device)
    import contextlib

    return contextlib.nullcontext()


def _tf_serve(model, lexicon_dim: int, jit_compile: bool):
    """A ``tf.function`` over the model with a fixed signature (SavedModel-exportable)."""
    import tensorflow as tf

    spec = [tf.TensorSpec([None, None], tf.int32, name="token_ids"),
            tf.TensorSpec([None, None], tf.int32, name="bigram_ids"),
            tf.TensorSpec([None, None, lexicon_dim], tf.float32, name="lexicon")]

    def serve(token_ids, bigram_ids, lexicon):
        outputs = model({"token_ids": token_ids, "bigram_ids": bigram_ids,
                         "lexicon": lexicon}, training=False)
        return {name: tf.cast(v, tf.float32) for name, v in outputs.items()}

    return tf.function(serve, input_signature=spec, jit_compile=jit_compile)


def _portable_serve(model, jit_compile: bool):
    """The model as a pure function of its variables (``stateless_call``), jitted under JAX."""
    from keras import ops

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def call(trainable, non_trainable, token_ids, bigram_ids, lexicon):
        outputs, _ = model.stateless_call(
            trainable, non_trainable,
            {"token_ids": token_ids, "bigram_ids": bigram_ids, "lexicon": lexicon}, training=False)
        return {name: ops.cast(v, "float32") for name, v in outputs.items()}

    if jit_compile and _backend() == "jax":
        import jax

        call = jax.jit(call)
    return lambda *inputs: call(trainable, non_trainable, *inputs)
