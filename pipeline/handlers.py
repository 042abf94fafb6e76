"""Beam ``ModelHandler`` for kgpipe NER: all model logic lives in ``ner.tagger``.

``load_model`` delegates to ``MentionTagger.load`` and ``run_inference`` to
``MentionTagger.tag_batch``. Batches come from ``SortAndBatchElements`` (see
``batch_elements_kwargs``): windows sorted by padded length and cut at a
padded-token budget, so padding stays small and every batch runs at one of the
model's fixed bucket shapes (on a GPU, XLA compiles once per bucket).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from kgpipe.schemas.records import Mention, TextWindow


def default_model_dir() -> str:
    """Path of the bundled default NER model on this machine (a worker resolves its own)."""
    import importlib.resources

    return str(importlib.resources.files("kgpipe.ner").joinpath("default_model"))

METRICS_NAMESPACE = "kgpipe"


class Tagger(Protocol):
    """What the handler needs of a model (``ner.tagger.MentionTagger`` has it)."""

    version: str
    bucket_lengths: tuple[int, ...]
    max_window_chars: int

    def token_count(self, text: str) -> int: ...  # tokens including [CLS] and [SEP]

    def tag_batch(self, windows: Sequence[TextWindow]) -> list[list[Mention]]: ...


@dataclasses.dataclass(frozen=True)
class NerConfig:
    """How to load and batch the NER model.

    Attributes:
        model_dir: Model directory (``config.json``, weights, vocab); ``None``
            for the bundled default, resolved on the worker.
        bucket_lengths: The model's padded lengths (from its config.json), so a
            batch is weighed in padded tokens; empty: weigh by length alone.
        batch_tokens: Budget of padded tokens in one batch.
        max_batch_size: Most windows in one batch.
        device, mixed_precision: Passed to ``MentionTagger.load`` (``None``: automatic).
        score_decimals: Scores are rounded to this many decimals so that tiny
            float differences between batch shapes never change the output.
    """

    model_dir: str | None
    bucket_lengths: tuple[int, ...] = ()
    batch_tokens: int = 4096
    max_batch_size: int = 256
    device: str | None = None
    mixed_precision: bool | None = None
    score_decimals: int = 4

    def __post_init__(self) -> None:
        if self.batch_tokens < 16:
            raise ValueError(f"`batch_tokens` must be >= 16. Received: batch_tokens={self.batch_tokens}")
        if self.max_batch_size < 1:
            raise ValueError(f"`max_batch_size` must be >= 1. Received: max_batch_size={self.max_batch_size}")


def window_weight(window: TextWindow, bucket_lengths: Sequence[int] = ()) -> int:
    """Batch weight of a window: its padded length (characters + [CLS]/[SEP] bound its tokens)."""
    tokens = len(window.text) + 2
    return bucket_length(bucket_lengths, tokens) if bucket_lengths else tokens


@dataclasses.dataclass(frozen=True)
class NerFailure:
    """The inference result of a window the model failed on (becomes a dead letter)."""

    error: str


def bucket_length(bucket_lengths: Sequence[int], tokens: int) -> int:
    """The smallest bucket that holds ``tokens`` (the largest if none does)."""
    index = bisect.bisect_left(bucket_lengths, tokens)
    return bucket_lengths[min(index, len(bucket_lengths) - 1)]


class NerModelHandler(ModelHandler[TextWindow, PredictionResult, Tagger]):
    """Runs ``MentionTagger`` on batches of ``TextWindow``s.

    Each ``PredictionResult`` pairs a window with its mentions (document offsets).
    """

    METRICS_NAMESPACE = "kgpipe_ner"  # RunInference's own metrics (latency, batch sizes).

    def __init__(self, config: NerConfig):
        super().__init__()
        self._config = config
        self._windows = Metrics.counter(METRICS_NAMESPACE, "ner_windows")
        self._real_tokens = Metrics.counter(METRICS_NAMESPACE, "ner_real_tokens")
        self._padded_tokens = Metrics.counter(METRICS_NAMESPACE, "ner_padded_tokens")
        self._chars = Metrics.counter(METRICS_NAMESPACE, "ner_chars")

    def load_model(self) -> Tagger:
        from kgpipe.ner.tagger import MentionTagger

        return MentionTagger.load(
            self._config.model_dir or default_model_dir(),
            device=self._config.device,
            mixed_precision=self._config.mixed_precision,
        )

    def run_inference(
        self,
        batch: Sequence[TextWindow],
        model: Tagger,
        inference_args: Mapping[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        """Tags a batch, one model call per bucket shape present in it."""
        tokens = {id(w): model.token_count(w.text) for w in batch}  # [CLS]/[SEP] included

        def bucket(window: TextWindow) -> int:
            return bucket_length(model.bucket_lengths, tokens[id(window)])

        results: list[PredictionResult] = []
        for length, group in itertools.groupby(sorted(batch, key=bucket), key=bucket):
            windows = list(group)
            for window, mentions in zip(windows, self._tag(windows, model), strict=True):
                inference = mentions if isinstance(mentions, NerFailure) else [self._rounded(m) for m in mentions]
                results.append(PredictionResult(window, inference))
            self._windows.inc(len(windows))
            self._chars.inc(sum(len(w.text) for w in windows))
            self._real_tokens.inc(sum(tokens[id(w)] for w in windows))
            self._padded_tokens.inc(length * len(windows))
        return results

    @staticmethod
    def _tag(windows: list[TextWindow], model: Tagger) -> list[list[Mention] | NerFailure]:
        """Tags a group; if it fails, tags its windows one by one so only the bad ones fail."""
        try:
            return model.tag_batch(windows)
        except Exception:
            pass  # Find the culprits below; the other windows of the batch keep their mentions.
        out: list[list[Mention] | NerFailure] = []
        for window in windows:
            try:
                out.extend(model.tag_batch([window]))
            except Exception as error:
                out.append(NerFailure(f"{type(error).__name__}: {error}"))
        return out

    def _rounded(self, mention: Mention) -> Mention:
        return dataclasses.replace(mention, score=round(float(mention.score), self._config.score_decimals))

    def get_num_bytes(self, batch: Sequence[TextWindow]) -> int:
        return sum(len(w.text.encode("utf-8")) for w in batch)

    def get_metrics_namespace(self) -> str:
        return self.METRICS_NAMESPACE

    def batch_elements_kwargs(self) -> Mapping[str, Any]:
        """Arguments for ``beam.SortAndBatchElements`` (weights are padded tokens)."""
        return {
            "min_batch_size": 1,
            "max_batch_size": self._config.max_batch_size,
            "max_batch_weight": self._config.batch_tokens,
            "element_size_fn": functools.partial(window_weight, bucket_lengths=self._config.bucket_lengths),
        }

    def should_skip_batching(self) -> bool:
        # The pipeline batches with SortAndBatchElements before RunInference:
        # BatchElements would cut batches in arrival order, mixing lengths.
        return True
