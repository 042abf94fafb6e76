"""Beam coders for kgpipe's large elements: encoded as before (pickle), sized cheaply.

Beam's SDK harness estimates the byte size of the elements on every PCollection edge by
encoding a sample of them: the first ten always, then about ten in ``i`` (reservoir style).
kgpipe's elements are few and large (a document's records and triples, an Arrow table of up
to 65,536 rows), so nearly every one is sampled, and Beam's default coder
pickled it whole just to measure it, once per edge: on the 1,000-news run that was 5 s of
the 13 s after the last NER batch (BENCHMARKS.md, issue 13). The coders here encode exactly
as the default does and estimate a size from a few records (``RecordBatch``), from Arrow's
buffer sizes (``pa.Table``) or from the parts of a ``DocumentRecords``.

``RecordBatch`` is the element type of every list of records the pipeline writes; importing
this module registers the coders for it, ``DocumentRecords`` and ``pa.Table``.
"""

from __future__ import annotations

import pickle
from typing import Any

import apache_beam as beam
import pyarrow as pa

from kgpipe.kg.assemble import DocumentRecords

_SAMPLE = 8  # Records pickled to estimate a batch's size.


class RecordBatch(tuple):
    """Records of one kind (``schemas.records``) that travel as one Beam element."""

    __slots__ = ()


def _estimate(records: tuple) -> int:
    """Estimated pickled size of a tuple of records, from at most ``_SAMPLE`` of them."""
    n = len(records)
    if n <= _SAMPLE:
        return len(pickle.dumps(tuple(records), pickle.HIGHEST_PROTOCOL))
    sample = tuple(records[::n // _SAMPLE][:_SAMPLE])
    return len(pickle.dumps(sample, pickle.HIGHEST_PROTOCOL)) * n // len(sample)


class _PickleCoder(beam.coders.Coder):
    """Pickles (as Beam's fallback coder does for these types); subclasses estimate sizes cheaply."""

    def encode(self, value: Any) -> bytes:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def decode(self, encoded: bytes) -> Any:
        return pickle.loads(encoded)

    def is_deterministic(self) -> bool:
        return False


class RecordBatchCoder(_PickleCoder):
    """``RecordBatch``: pickled; its size estimated from a few of its records."""

    def estimate_size(self, value: RecordBatch) -> int:
        return _estimate(value)

    def to_type_hint(self):
        return RecordBatch


class DocumentRecordsCoder(_PickleCoder):
    """``DocumentRecords``: pickled; its size estimated from its text and a few of each kind of record."""

    def estimate_size(self, value: DocumentRecords) -> int:
        parts = (value.mentions, value.links, value.triples, value.pairs, value.entity_ids, value.categories)
        return 3 * len(value.document.text) + sum(_estimate(part) for part in parts)

    def to_type_hint(self):
        return DocumentRecords


class ArrowTableCoder(_PickleCoder):
    """``pa.Table``: pickled (Arrow's IPC format inside); its size is its buffers' (``nbytes``)."""

    def estimate_size(self, value: pa.Table) -> int:
        return value.nbytes

    def to_type_hint(self):
        return pa.Table


beam.coders.registry.register_coder(RecordBatch, RecordBatchCoder)
beam.coders.registry.register_coder(DocumentRecords, DocumentRecordsCoder)
beam.coders.registry.register_coder(pa.Table, ArrowTableCoder)
