"""The relation-extraction stage: the relation model reads typed relations from each document.

The core (``RelationReader``) is plain Python over a loaded model (anything with
``predict(texts) -> [[Triple]]`` and ``version``, e.g. ``ner.relations.extractor.RelationExtractorModel``);
``ExtractRelationsFn`` wraps it for Beam. The sentences of a batch of documents (up to
64 Ki characters, ``beam.BatchElements``) go to the model in one batched call; relations come back as ``kg.text_relations.TypedRelation`` records, which the
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

    def __init__(self, model: RelationModel, batch_size: int = 64):
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1. Received: batch_size={batch_size!r}")
        self.model, self.batch_size = model, batch_size

    @classmethod
    def load(cls, model_dir: str | None, batch_size: int = 64, threads: int = 1, int8: bool = False) -> "RelationReader":
        """Loads ``model_dir`` (``None``: the bundled relation model); ``threads`` for each call
        on ONNX Runtime; ``int8``: int8 matrix products there."""
        from kgpipe.ner.relations.extractor import RelationExtractorModel
        from kgpipe.ner.relations import default_model_dir

        return cls(RelationExtractorModel.load(model_dir or default_model_dir(), threads=threads, int8=int8),
                   batch_size)

    def read(self, document: Document) -> list[TypedRelation]:
        return self.read_many([document])[0]

    def read_many(self, documents: Sequence[Document]) -> list[list[TypedRelation]]:
        """Per document, its relations; the sentences of all ``documents`` go to the model in one
        call (sorted by length there), which pads far less than a call per document: 2.5x the
        speed on 300 news articles (BENCHMARKS.md)."""
        spans = [list(sentence_spans(d.text)) for d in documents]
        texts = [d.text[s:e] for d, doc_spans in zip(documents, spans) for s, e in doc_spans]
        predicted = iter(self.model.predict(texts, batch_size=self.batch_size))
        types = {p.name: (p.subject_type, p.object_type) for p in getattr(self.model, "predicates", ())}
        out = []
        for doc_spans in spans:
            relations = []
            for (start, end), triples in zip(doc_spans, predicted):  # takes this document's rows only
                for t in triples:
                    relations.append(TypedRelation(
                        (start + t.subject[0], start + t.subject[1]), t.predicate,
                        (start + t.object[0], start + t.object[1]), (start, end),
                        round(min(1.0, max(0.0, float(t.confidence))), 4), self.model.version,
                        *types.get(t.predicate, ("", ""))))
            out.append(relations)
        return out


def element_chars(element) -> int:
    """Batch weight of a ``(Document, mentions, links)``: its characters (at least 1)."""
    return max(len(element[0].text), 1)


class ExtractRelationsFn(beam.DoFn):
    """Batches of ``(Document, [Mention], [Link])`` (from ``beam.BatchElements``, see
    ``batch_elements_kwargs``) -> ``(Document, [Mention], [Link], [TypedRelation])`` per document.

    The model loads once per worker process (a ``shared.Shared`` handle, as for the NER model
    and the linker), however many DoFn instances and threads use it. If reading a batch fails,
    its documents are read one by one; a document that fails alone gets a ``relations`` dead
    letter saying why and goes on without relations.
    """

    BATCH_CHARS = 65_536  # documents' characters per model call (as NER buffers them)

    def __init__(self, model_dir: str | None, batch_size: int = 64, threads: int = 1, int8: bool = False):
        from apache_beam.utils import shared

        self._model_dir, self._batch_size, self._threads, self._int8 = model_dir, batch_size, threads, int8
        self._handle = shared.Shared()  # pickled with the DoFn: its copies share one model
        self._relations = Metrics.counter(METRICS_NAMESPACE, "relations")
        self._failed = Metrics.counter(METRICS_NAMESPACE, "relations_failed_documents")

    @classmethod
    def batch_elements_kwargs(cls) -> dict:
        """``beam.BatchElements`` arguments: documents up to ``BATCH_CHARS`` characters a batch."""
        return {"min_batch_size": cls.BATCH_CHARS, "max_batch_size": cls.BATCH_CHARS,
                "element_size_fn": element_chars}

    def setup(self) -> None:
        self._reader = self._handle.acquire(
            lambda: RelationReader.load(self._model_dir, self._batch_size, self._threads, self._int8),
            tag=f"kgpipe-relations:{self._model_dir}:{self._batch_size}:{self._threads}:{self._int8}")

    def process(self, batch) -> Iterator:
        try:
            found = self._reader.read_many([document for document, _, _ in batch])
        except Exception:  # Find the culprits below; the other documents keep their relations.
            found = None
        for i, (document, mentions, links) in enumerate(batch):
            if found is not None:
                relations = found[i]
            else:
                try:
                    relations = self._reader.read(document)
                except Exception as error:  # One bad document must not fail the run.
                    self._failed.inc()
                    yield beam.pvalue.TaggedOutput(DEAD, DeadLetter(
                        document.id, "relations", f"{type(error).__name__}: {error}", document.text[:2000]))
                    relations = []
            self._relations.inc(len(relations))
            yield document, mentions, links, relations
