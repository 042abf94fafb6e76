"""Beam ``ModelHandler`` for kgpipe NER over whole documents: model logic lives in ``ner.tagger``.

Documents are batched (``BatchElements``, up to ``buffer_chars`` characters, the
rest flushed at the end of the bundle), so documents keep their text through
tagging and nothing joins windows back onto documents. Inside a batch, ``tag``
splits the documents into sentence windows, sorts them by padded length and cuts
model calls across documents (``plan_batches``): each call runs at one of the
model's fixed bucket lengths with at most ``max_batch_size`` rows and
``batch_tokens`` padded tokens. Those three numbers are decided here and nowhere
else. The handler is an ordinary Beam ``ModelHandler`` (``RunInference`` runs
it); the pipeline runs it with ``pipeline.transforms.TagMentions``, which loads
the model once per worker process and overlaps model calls with the stages after NER."""

from __future__ import annotations

import bisect
import dataclasses
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from kgpipe.kg.products.facts import ProductDocuments, ProductFacts, ProductFactsConfig, brand_name_length
from kgpipe.ner.windows import split_windows
from kgpipe.schemas.records import Document, Mention, TextWindow

METRICS_NAMESPACE = "kgpipe"
PRODUCT_LABELS = frozenset({"BRAND", "PRODUCT"})  # a head with one of these is a product head
_LOG = logging.getLogger("kgpipe")


def default_model_dir() -> str:
    """Path of the bundled default NER model on this machine (a worker resolves its own)."""
    import importlib.resources

    return str(importlib.resources.files("kgpipe.ner").joinpath("default_model"))


class Tagger(Protocol):
    """What the handler needs of a model (``ner.tagger.MentionTagger`` has it)."""

    version: str
    bucket_lengths: tuple[int, ...]
    max_window_chars: int

    def token_count(self, text: str) -> int: ...  # tokens including [CLS] and [SEP]

    head_labels: Mapping[str, tuple[str, ...]]  # head name -> the labels it emits

    def tag_batch(self, windows: Sequence[TextWindow],  # one model call per bucket
                  heads: Sequence[Sequence[str] | None] | None = None) -> list[list[Mention]]: ...


@dataclasses.dataclass(frozen=True)
class NerConfig:
    """How to load the NER model and batch its input: the one place batch sizes are decided.

    Attributes:
        model_dir: Model directory (``config.json``, weights, vocab); ``None`` for
            the bundled default, resolved on the worker.
        batch_tokens: Most padded tokens (rows x bucket length) in one model call.
        max_batch_size: Most windows (rows) in one model call.
        buffer_chars: Document characters buffered before tagging (batches of
            documents; windows of all of them are sorted and cut into model calls).
            Bounds memory; larger buffers pad less.
        device, mixed_precision: Passed to ``MentionTagger.load`` (``None``: automatic).
        kb: The run's KB (file or index directory; ``None``: the bundled KB), whose entity
            names fill the gazetteer of a model with KB gazetteer features.
        product_documents: Which documents are product text (``kg.products.facts``, as for
            product nodes); their windows decode only the model's product heads (heads with a
            ``PRODUCT_LABELS`` label) when it also has others: a news head's PER on 戴森 or 李宁
            in a title is noise there. ``None``: every head everywhere.
        score_decimals: Scores are rounded to this many decimals so that tiny
            float differences between batch shapes never change the output.
    """

    model_dir: str | None
    batch_tokens: int = 4096
    max_batch_size: int = 256
    buffer_chars: int = 65_536
    device: str | None = None
    mixed_precision: bool | None = None
    score_decimals: int = 4
    kb: str | None = None
    product_documents: ProductDocuments | None = None

    def __post_init__(self) -> None:
        if self.batch_tokens < 16:
            raise ValueError(f"`batch_tokens` must be >= 16. Received: batch_tokens={self.batch_tokens}")
        if self.max_batch_size < 1:
            raise ValueError(f"`max_batch_size` must be >= 1. Received: max_batch_size={self.max_batch_size}")
        if self.buffer_chars < 1:
            raise ValueError(f"`buffer_chars` must be >= 1. Received: buffer_chars={self.buffer_chars}")


@dataclasses.dataclass(frozen=True)
class BatchStats:
    """What tagging one batch of documents did (``NerModelHandler.tag``), for metrics.

    Attributes:
        windows: Windows the batch's documents were cut into.
        failed: Windows whose tagging failed (each becomes an ``ner`` dead letter).
        calls: Windows (rows) of each model call.
        chars: Characters of the windows tagged.
        real_tokens, padded_tokens: Tokens of the windows, and rows x bucket length of the calls.
        seconds: Wall-clock time of the whole batch (windows, model calls, decoding).
    """

    documents: int
    windows: int
    calls: tuple[int, ...]
    chars: int
    real_tokens: int
    padded_tokens: int
    seconds: float
    failed: int = 0


@dataclasses.dataclass(frozen=True)
class DocumentTags:
    """The inference result of one document.

    Attributes:
        mentions: The document's mentions in document order (offsets ``[start, end)`` into its text).
        failures: ``(window, error)`` for each window the model failed on (become dead letters).
        windows: How many windows the document was split into.
    """

    mentions: tuple[Mention, ...]
    failures: tuple[tuple[TextWindow, str], ...] = ()
    windows: int = 0


def _brand_name(mention: Mention) -> Mention:
    """A BRAND mention without the Latin series a tagger joined to its Chinese name ("苹果iPhone"
    -> 苹果, ``kg.products.facts.brand_name_length``), so that the brand is what gets linked."""
    if mention.label != "BRAND":
        return mention
    length = brand_name_length(mention.text)
    if length == len(mention.text):
        return mention
    return dataclasses.replace(mention, end=mention.start + length, text=mention.text[:length])


def bucket_length(bucket_lengths: Sequence[int], tokens: int) -> int:
    """The smallest bucket that holds ``tokens`` (the largest if none does)."""
    index = bisect.bisect_left(bucket_lengths, tokens)
    return bucket_lengths[min(index, len(bucket_lengths) - 1)]


def plan_batches(tokens: Sequence[int], bucket_lengths: Sequence[int], batch_tokens: int,
                 max_batch_size: int) -> list[tuple[int, list[int]]]:
    """Cuts windows into model calls: one bucket length per call, rows and padded tokens bounded.

    Args:
        tokens: Tokens of each window, [CLS]/[SEP] included.
        bucket_lengths: The model's padded lengths, ascending (empty: pad to the longest in the call).
        batch_tokens: Most padded tokens per call (a call holds at least one window).
        max_batch_size: Most windows per call.

    Returns:
        ``(padded length, window indices)`` per call, shortest windows first.
    """
    order = sorted(range(len(tokens)), key=lambda i: (tokens[i], i))
    calls: list[tuple[int, list[int]]] = []
    for i in order:
        length = bucket_length(bucket_lengths, tokens[i]) if bucket_lengths else tokens[i]
        if calls:
            last_length, rows = calls[-1]
            same = last_length == length or not bucket_lengths
            if same and len(rows) < max_batch_size and (len(rows) + 1) * length <= batch_tokens:
                rows.append(i)
                calls[-1] = (length, rows)
                continue
        calls.append((length, [i]))
    return calls


class NerModelHandler(ModelHandler[Document, PredictionResult, Tagger]):
    """Runs ``MentionTagger`` on batches of ``Document``s.

    Each ``PredictionResult`` pairs a document with its ``DocumentTags``.
    """

    METRICS_NAMESPACE = "kgpipe_ner"  # Latency, batch sizes, model loads (``record``; RunInference's own too).

    def __init__(self, config: NerConfig):
        super().__init__()
        self._config = config
        self._products: ProductFacts | None = None  # built on first use
        self._windows = Metrics.counter(METRICS_NAMESPACE, "ner_windows")  # Tagged (``windows`` less failures).
        self._split = Metrics.counter(METRICS_NAMESPACE, "windows")  # Cut from the documents.
        self._real_tokens = Metrics.counter(METRICS_NAMESPACE, "ner_real_tokens")
        self._padded_tokens = Metrics.counter(METRICS_NAMESPACE, "ner_padded_tokens")
        self._chars = Metrics.counter(METRICS_NAMESPACE, "ner_chars")
        self._call_rows = Metrics.distribution(self.METRICS_NAMESPACE, "ner_call_rows")
        self._batch_usec = Metrics.distribution(self.METRICS_NAMESPACE, "ner_batch_usec")
        self._batch_documents = Metrics.distribution(self.METRICS_NAMESPACE, "ner_batch_documents")
        self._load_msec = Metrics.distribution(self.METRICS_NAMESPACE, "ner_model_load_msec")

    @property
    def config(self) -> NerConfig:
        return self._config

    def load_model(self) -> Tagger:
        from kgpipe.ner.tagger import MentionTagger
        from kgpipe.pipeline.kb_names import KbNames

        tagger = MentionTagger.load(self._config.model_dir or default_model_dir(), device=self._config.device,
                                    mixed_precision=self._config.mixed_precision, kb_names=KbNames(self._config.kb))
        _LOG.info("NER model %s loaded in process %d", tagger.version, os.getpid())
        return tagger

    def run_inference(self, batch: Sequence[Document], model: Tagger,
                      inference_args: Mapping[str, Any] | None = None) -> Iterable[PredictionResult]:
        """Tags a batch of documents (``tag``) and counts it (``record``): the ``ModelHandler`` contract."""
        results, stats = self.tag(batch, model)
        self.record(stats)
        return results

    def tag(self, batch: Sequence[Document], model: Tagger) -> tuple[list[PredictionResult], BatchStats]:
        """Tags a batch of documents, their windows cut into model calls by ``plan_batches``.

        Touches no Beam metric, so it may run on a thread of its own (``pipeline.transforms``
        overlaps model calls with the stages after NER); ``record`` counts the returned stats.
        """
        started = time.perf_counter()
        windows = [w for document in batch for w in split_windows(document, model.max_window_chars)]
        heads = self._window_heads(batch, windows, model)
        tokens = [model.token_count(w.text) for w in windows]
        found: dict[int, list[Mention] | str] = {}
        calls: list[int] = []
        padded = 0
        for length, rows in plan_batches(tokens, model.bucket_lengths, self._config.batch_tokens,
                                         self._config.max_batch_size):
            group = [windows[i] for i in rows]
            found.update(zip(rows, self._tag(group, model, heads and [heads[i] for i in rows]), strict=True))
            calls.append(len(group))
            padded += length * len(group)
        results = self._per_document(batch, windows, found)
        return results, BatchStats(documents=len(batch), windows=len(windows), calls=tuple(calls),
                                   chars=sum(len(w.text) for w in windows), real_tokens=sum(tokens),
                                   padded_tokens=padded, seconds=time.perf_counter() - started,
                                   failed=sum(isinstance(f, str) for f in found.values()))

    def record(self, stats: BatchStats) -> None:
        """Counts one tagged batch in Beam metrics (call it on the bundle's own thread)."""
        for rows in stats.calls:
            self._call_rows.update(rows)
        self._split.inc(stats.windows)
        self._windows.inc(stats.windows - stats.failed)
        self._chars.inc(stats.chars)
        self._real_tokens.inc(stats.real_tokens)
        self._padded_tokens.inc(stats.padded_tokens)
        self._batch_usec.update(int(stats.seconds * 1e6))
        self._batch_documents.update(stats.documents)

    def record_load(self, seconds: float) -> None:
        """Counts one model load (once per worker process)."""
        self._load_msec.update(int(seconds * 1e3))

    def _per_document(self, batch: Sequence[Document], windows: list[TextWindow],
                      found: Mapping[int, list[Mention] | str]) -> list[PredictionResult]:
        mentions: dict[str, list[Mention]] = {d.id: [] for d in batch}
        failures: dict[str, list[tuple[TextWindow, str]]] = {d.id: [] for d in batch}
        counts = dict.fromkeys(mentions, 0)
        for i, window in enumerate(windows):
            counts[window.doc_id] += 1
            result = found[i]
            if isinstance(result, str):
                failures[window.doc_id].append((window, result))
            else:
                mentions[window.doc_id].extend(_brand_name(self._rounded(m)) for m in result)
        return [PredictionResult(d, DocumentTags(
            tuple(sorted(mentions[d.id], key=lambda m: (m.start, m.end, m.label))),
            tuple(failures[d.id]), counts[d.id])) for d in batch]

    def _window_heads(self, batch: Sequence[Document], windows: list[TextWindow],
                      model: Tagger) -> list[tuple[str, ...] | None] | None:
        """Per window, the heads to decode (``None``: all); ``None`` when every window takes all."""
        if self._config.product_documents is None:
            return None
        labels = getattr(model, "head_labels", {})
        product = tuple(h for h, hl in labels.items() if PRODUCT_LABELS.intersection(hl))
        if not product or len(product) == len(labels):
            return None
        if self._products is None:
            self._products = ProductFacts(ProductFactsConfig(documents=self._config.product_documents))
        titles = {d.id for d in batch if self._products.is_product_text(d)[0]}
        if not titles:
            return None
        return [product if w.doc_id in titles else None for w in windows]

    @staticmethod
    def _tag(windows: list[TextWindow], model: Tagger,
             heads: list[tuple[str, ...] | None] | None = None) -> list[list[Mention] | str]:
        """Tags one call's windows; if it fails, tags them one by one so only the bad ones fail."""
        def call(ws, hs):  # without heads, a Tagger's tag_batch(windows) is all it needs
            return model.tag_batch(ws) if hs is None else model.tag_batch(ws, heads=hs)

        try:
            return call(windows, heads)
        except Exception:
            pass  # Find the culprits below; the other windows of the call keep their mentions.
        out: list[list[Mention] | str] = []
        for i, window in enumerate(windows):
            try:
                out.extend(call([window], heads and heads[i:i + 1]))
            except Exception as error:
                out.append(f"{type(error).__name__}: {error}")
        return out

    def _rounded(self, mention: Mention) -> Mention:
        return dataclasses.replace(mention, score=round(float(mention.score), self._config.score_decimals))

    def get_num_bytes(self, batch: Sequence[Document]) -> int:
        return sum(len(d.text.encode("utf-8")) for d in batch)

    def get_metrics_namespace(self) -> str:
        return self.METRICS_NAMESPACE

    def batch_elements_kwargs(self) -> Mapping[str, Any]:
        """Arguments for ``beam.BatchElements``: documents up to ``buffer_chars`` characters per batch.

        The batch size is measured in characters (``element_size_fn``) and fixed
        (min = max), so Beam's adaptive sizing never shrinks it.
        """
        return {"min_batch_size": self._config.buffer_chars, "max_batch_size": self._config.buffer_chars,
                "element_size_fn": document_chars}


def document_chars(document: Document) -> int:
    """Batch weight of a document: its characters (at least 1, so empty documents still count)."""
    return max(len(document.text), 1)
