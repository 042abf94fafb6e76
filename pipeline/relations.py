"""The relation-extraction stage: the relation model reads typed relations from each document.

The core (``RelationReader``) is plain Python over a loaded model (anything with
``predict(texts) -> [[Triple]]`` and ``version``, e.g. ``ner.relations.extractor.RelationExtractorModel``);
``ExtractRelationsFn`` wraps it for Beam. Each document's sentences go to the model in one
batched call; relations come back as ``kg.text_relations.TypedRelation`` records, which the
triple builder resolves to the linked or NIL-minted entities of their spans.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import apache_beam as beam
from apache_beam.metrics import Metrics

from kgpipe.kg.text_relations import TypedRelation
from kgpipe.pipeline.handlers import METRICS_NAMESPACE
from kgpipe.schemas.records import DeadLetter, Document
from kgpipe.schemas.text import sentence_spans

DEAD = "dead_letter"


class RelationModel(Protocol):
    """What the stage needs of a relation model."""

    version: str

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[list]:
        """Triples with ``subject``/``object`` character spans, ``predicate`` and ``confidence``."""
        ...


class RelationReader:
    """Document -> ``TypedRelation`` records, in document order (deterministic)."""

    def __init__(self, model: RelationModel, batch_size: int = 32):
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1. Received: batch_size={batch_size!r}")
        self.model, self.batch_size = model, batch_size

    @classmethod
    def load(cls, model_dir: str | None, batch_size: int = 32) -> "RelationReader":
        """Loads ``model_dir`` (``None``: the bundled relation model)."""
        from kgpipe.ner.relations.extractor import RelationExtractorModel
        from kgpipe.ner.relations import default_model_dir

        return cls(RelationExtractorModel.load(model_dir or default_model_dir()), batch_size)

    def read(self, document: Document) -> list[TypedRelation]:
        spans = list(sentence_spans(document.text))
        predicted = self.model.predict([document.text[s:e] for s, e in spans], batch_size=self.batch_size)
        out = []
        for (start, end), triples in zip(spans, predicted):
            for t in triples:
                out.append(TypedRelation((start + t.subject[0], start + t.subject[1]), t.predicate,
                                         (start + t.object[0], start + t.object[1]), (start, end),
                                         min(1.0, max(0.0, float(t.confidence))), self.model.version))
        return out


class ExtractRelationsFn(beam.DoFn):
    """``(Document, [Mention], [Link])`` -> ``(Document, [Mention], [Link], [TypedRelation])``.

    The model loads once per worker process (a ``shared.Shared`` handle, as for the NER model
    and the linker), however many DoFn instances and threads use it. If reading a document fails, a ``relations`` dead letter
    says why and the document goes on without relations.
    """

    def __init__(self, model_dir: str | None, batch_size: int = 32):
        from apache_beam.utils import shared

        self._model_dir, self._batch_size = model_dir, batch_size
        self._handle = shared.Shared()  # pickled with the DoFn: its copies share one model
        self._relations = Metrics.counter(METRICS_NAMESPACE, "relations")
        self._failed = Metrics.counter(METRICS_NAMESPACE, "relations_failed_documents")

    def setup(self) -> None:
        self._reader = self._handle.acquire(
            lambda: RelationReader.load(self._model_dir, self._batch_size),
            tag=f"kgpipe-relations:{self._model_dir}:{self._batch_size}")

    def process(self, element) -> Iterator:
        document, mentions, links = element
        try:
            relations = self._reader.read(document)
        except Exception as error:  # One bad document must not fail the run.
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(DEAD, DeadLetter(document.id, "relations", f"{type(error).__name__}: "
                                                            f"{error}", document.text[:2000]))
            relations = []
        self._relations.inc(len(relations))
        yield document, mentions, links, relations
