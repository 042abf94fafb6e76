"""kgpipe's Beam transforms: thin wrappers around the stage cores.

``ReadDocuments -> SplitWindows -> TagMentions -> LinkMentions -> BuildTriples
-> Write*``. Every DoFn keeps a small picklable config, loads heavy state once
per worker in ``setup`` and delegates the work to a core from ``ner``,
``linking`` or ``kg``. Bad records go to a dead-letter output with a reason;
counters live here, never in the cores.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import RunInference
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import shared

from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.rdf import ntriples_line
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.ner.windows import split_windows
from kgpipe.pipeline.handlers import METRICS_NAMESPACE, NerFailure, NerModelHandler
from kgpipe.pipeline.readers import MAX_PAYLOAD_CHARS, InputFormat, open_input, read_documents, short_names
from kgpipe.schemas.arrow import to_table
from kgpipe.schemas.records import DeadLetter, Document, Link, Mention, TextWindow

_LOG = logging.getLogger("kgpipe.progress")

DEAD = "dead_letter"
PAIRS = "cooccurrence_pairs"


def _counter(name: str):
    return Metrics.counter(METRICS_NAMESPACE, name)


def _dead(ref: str, stage: str, error: Exception | str, payload: str = "") -> DeadLetter:
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return DeadLetter(input_ref=ref, stage=stage, error=message, payload=payload[:MAX_PAYLOAD_CHARS])


def match_inputs(patterns: Sequence[str]) -> list[str]:
    """Expands input files and globs, sorted; raises if a pattern matches nothing."""
    paths: set[str] = set()
    for pattern, result in zip(patterns, FileSystems.match(list(patterns)), strict=True):
        found = [m.path for m in result.metadata_list]
        if not found:
            raise FileNotFoundError(f"No input file matches {pattern!r}.")
        paths.update(found)
    return sorted(paths)


class ReadFileFn(beam.DoFn):
    """Reads one input file ``(path, short name)`` into Documents; bad records go to the dead-letter output."""

    def __init__(self, input_format: InputFormat, language: str, tsv_columns: Sequence[str] | None):
        self._format = input_format
        self._language = language
        self._tsv_columns = tsv_columns
        self._read = _counter("documents_read")
        self._bad = _counter("read_dead_letters")

    def process(self, element: tuple[str, str]) -> Iterator:
        path, name = element
        for record in self._records(path, name):
            if isinstance(record, DeadLetter):
                self._bad.inc()
                yield beam.pvalue.TaggedOutput(DEAD, record)
            else:
                self._read.inc()
                yield record

    def _records(self, path: str, name: str) -> Iterator:
        fmt = InputFormat.for_path(path) if self._format is InputFormat.AUTO else self._format
        try:
            stream = open_input(path)  # Decompresses .gz/.bz2 strictly: a file cut short is a dead letter.
        except Exception as error:  # Vanished or unreadable since the inputs were matched.
            yield _dead(f"{path}:*", "read", f"cannot open {path}: {error!r}")
            return
        with stream:
            if fmt is InputFormat.PARQUET and not stream.seekable():
                stream = io.BytesIO(stream.read())
            yield from read_documents(
                stream, path, fmt, name=name, language=self._language, tsv_columns=self._tsv_columns
            )


class ReadDocuments(beam.PTransform):
    """Reads JSON Lines, text, TSV or Parquet files into unique ``Document``s.

    Outputs: ``documents`` (``Document``) and ``dead_letter`` (``DeadLetter``:
    unreadable records, and later duplicates of a document id, which keep the
    first by (path, line)). Default ids are ``name:line`` with the file's path
    relative to the inputs' common folder.
    """

    def __init__(
        self,
        paths: Sequence[str],
        input_format: InputFormat = InputFormat.AUTO,
        language: str = "zh",
        tsv_columns: Sequence[str] | None = None,
        seen_files: Sequence[str] = (),
    ):
        super().__init__()
        self._files = sorted(short_names(list(paths)).items())
        self._read_fn = ReadFileFn(input_format, language, tsv_columns)
        self._seen_files = list(seen_files)

    def expand(self, pbegin):
        read = (
            pbegin
            | "Files" >> beam.Create(self._files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "Parse" >> beam.ParDo(self._read_fn).with_outputs(DEAD, main="documents")
        )
        grouped = {"documents": read.documents | "KeyById" >> beam.Map(lambda d: (d.id, d))}
        if self._seen_files:  # --incremental: an anti-join on the ids of earlier runs, read in parallel.
            grouped["seen"] = (
                pbegin
                | "SeenFiles" >> beam.Create(self._seen_files)
                | "ReadSeenIds" >> beam.io.ReadAllFromParquet(columns=["id"])
                | "KeySeen" >> beam.Map(lambda row: (row["id"], True))
            )
        unique = (
            grouped
            | "GroupById" >> beam.CoGroupByKey()
            | "FirstPerId" >> beam.ParDo(_FirstDocumentFn()).with_outputs(DEAD, main="documents")
        )
        dead = (read[DEAD], unique[DEAD]) | "FlattenDead" >> beam.Flatten()
        return {"documents": unique.documents, DEAD: dead}


def _source_order(document: Document) -> tuple[str, int]:
    path, _, line = document.source.rpartition(":")
    return (path, int(line)) if line.isdigit() else (document.source, 0)


class _FirstDocumentFn(beam.DoFn):
    """``(id, {"documents": [...], "seen": [...]})`` -> the first document, unless seen in an earlier run."""

    def __init__(self):
        self._duplicates = _counter("documents_duplicate")
        self._skipped = _counter("documents_skipped_seen")
        self._kept = _counter("documents")

    def process(self, element) -> Iterator:
        doc_id, grouped = element
        documents = list(grouped["documents"])
        if not documents:
            return  # An id of an earlier run that is not in this input.
        first, *rest = sorted(documents, key=_source_order)
        for duplicate in rest:
            self._duplicates.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD,
                _dead(duplicate.source, "read", f"duplicate document id {doc_id!r}; first seen at {first.source}",
                      duplicate.text),
            )
        if any(grouped.get("seen", ())):
            self._skipped.inc()
            return
        self._kept.inc()
        yield first


class SplitWindowsFn(beam.DoFn):
    """Splits a document into sentence windows that fit the model."""

    def __init__(self, max_window_chars: int):
        self._max_window_chars = max_window_chars
        self._windows = _counter("windows")

    def process(self, document: Document) -> Iterator[TextWindow]:
        windows = split_windows(document, self._max_window_chars)
        self._windows.inc(len(windows))
        yield from windows


class TagMentions(beam.PTransform):
    """Batched NER over windows: ``TextWindow`` -> ``(doc_id, Mention)``, plus dead letters.

    A window the model fails on becomes a ``ner`` dead letter; its document is
    still written, without that window's mentions (counted as ``ner_failed_windows``).
    """

    def __init__(self, handler: NerModelHandler, progress: bool = False):
        super().__init__()
        self._handler = handler
        self._progress = progress

    def expand(self, windows):
        batches = windows | "SortAndBatch" >> beam.SortAndBatchElements(**self._handler.batch_elements_kwargs())
        inference = RunInference(self._handler).with_exception_handling()
        results, failed = batches | "RunInference" >> inference
        if self._progress:
            results = results | "Progress" >> beam.ParDo(LogProgressFn("windows tagged"))
        tagged = results | "Mentions" >> beam.ParDo(_MentionsFn()).with_outputs(DEAD, main="mentions")
        batch_dead = failed.failed_inferences | "FailedBatches" >> beam.FlatMap(_failed_windows)
        dead = (tagged[DEAD], batch_dead) | "NerDead" >> beam.Flatten()
        return {"mentions": tagged.mentions, DEAD: dead}


class _MentionsFn(beam.DoFn):
    def __init__(self):
        self._failed = _counter("ner_failed_windows")

    def process(self, result) -> Iterator:
        window, inference = result.example, result.inference
        if isinstance(inference, NerFailure):
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(DEAD, _dead(f"{window.doc_id}@{window.start}", "ner", inference.error,
                                                       window.text))
            return
        for mention in inference:
            yield mention.doc_id, mention


def _error_text(error) -> str:
    """RunInference reports ``(type, repr, traceback lines)``; keep the readable part."""
    if isinstance(error, tuple) and len(error) >= 2:
        return str(error[1])
    return f"{type(error).__name__}: {error}" if isinstance(error, Exception) else str(error)


def _failed_windows(failure) -> Iterator[DeadLetter]:
    batch, error = failure
    _counter("ner_failed_windows").inc(len(batch))
    for window in batch:
        yield _dead(f"{window.doc_id}@{window.start}", "ner", _error_text(error), window.text)


def _shared_linker(handle: shared.Shared, config: LinkerConfig) -> EntityLinker:
    """The worker's one linker for ``config`` (loaded on first use, shared by DoFns and threads)."""
    return handle.acquire(lambda: EntityLinker.load(config), tag=f"kgpipe-linker:{config.kb_path}:{config.kb_format}")


class LinkMentionsFn(beam.DoFn):
    """``(Document, [Mention])`` -> ``(Document, [Mention], [Link])``; the KB loads once per worker.

    If linking a document fails, a ``link`` dead letter says why and the document
    is still written with its mentions and no links (counted as ``documents_partial``).
    """

    def __init__(self, config: LinkerConfig, linker_handle: shared.Shared):
        self._config = config
        self._handle = linker_handle
        self._links = _counter("links")
        self._nil = _counter("links_nil")
        self._partial = _counter("documents_partial")
        self._dictionary = _counter("dictionary_mentions")
        self._msec = Metrics.distribution(METRICS_NAMESPACE, "link_msec_per_document")

    def setup(self) -> None:
        self._linker = _shared_linker(self._handle, self._config)

    def process(self, element) -> Iterator:
        document, mentions = element
        started = time.perf_counter()
        extra: list[Mention] = []
        links: list[Link] = []
        try:
            extra = self._linker.detect_mentions(document, mentions) if self._config.dictionary_mentions else []
            mentions = sorted([*mentions, *extra], key=lambda m: (m.start, m.end, m.label))
            links = self._linker.link(document, mentions)
        except Exception as error:  # One bad document must not fail the run: it is written unlinked.
            self._partial.inc()
            yield beam.pvalue.TaggedOutput(DEAD, _dead(document.id, "link", error, document.text))
        self._dictionary.inc(len(extra))
        self._links.inc(len(links))
        self._nil.inc(sum(link.is_nil for link in links))
        self._msec.update(int((time.perf_counter() - started) * 1000))
        yield document, mentions, links


class _TriplesFn(beam.DoFn):
    """A DoFn around a ``TripleBuilder``, counting the triples it makes."""

    def __init__(self, config: BuilderConfig):
        self._config = config
        self._triples = _counter("triples")

    def setup(self) -> None:
        self._builder = TripleBuilder(self._config)


class BuildTriplesFn(_TriplesFn):
    """``(Document, [Mention], [Link])`` -> the document's ``[Triple]``, plus co-occurring entity pairs.

    Triples travel as one list per document: a Beam element per triple would
    cost more than building the triple.
    """

    def process(self, element) -> Iterator:
        document, mentions, links = element
        try:
            triples = [
                *self._builder.document_triples(document),
                *self._builder.mention_triples(document, mentions, links),
            ]
            pairs = self._builder.cooccurrence_pairs(document, links)
        except Exception as error:  # The document and its mentions are still written.
            _counter("documents_partial").inc()
            yield beam.pvalue.TaggedOutput(DEAD, _dead(document.id, "triples", error, document.text))
            return
        self._triples.inc(len(triples))
        yield triples
        for pair in pairs:
            yield beam.pvalue.TaggedOutput(PAIRS, (pair, 1))


class EntityTriplesFn(_TriplesFn):
    """KB entity id -> ``[Triple]``: the entity's types, labels and aliases (once per entity)."""

    def __init__(self, linker_config: LinkerConfig, linker_handle: shared.Shared, builder: BuilderConfig):
        super().__init__(builder)
        self._linker_config = linker_config
        self._handle = linker_handle
        self._entities = _counter("entities_linked")

    def setup(self) -> None:
        super().setup()
        self._linker = _shared_linker(self._handle, self._linker_config)

    def process(self, entity_id: str) -> Iterator:
        entity = self._linker.entity(entity_id)
        if entity is None:
            yield beam.pvalue.TaggedOutput(DEAD, _dead(entity_id, "triples", "linked entity id not in the KB"))
            return
        triples = self._builder.entity_triples(entity)
        self._entities.inc()
        self._triples.inc(len(triples))
        yield triples


class CooccurrenceTriplesFn(_TriplesFn):
    """``((iri_a, iri_b), count)`` -> ``[Triple]``: the weighted co-occurrence statement."""

    def process(self, element) -> Iterator:
        pair, count = element
        triples = self._builder.cooccurrence_triples(tuple(pair), count)
        self._triples.inc(len(triples))
        yield triples


class RecordsToTableFn(beam.DoFn):
    """Lists of records -> Arrow tables of about ``rows_per_table`` rows (one Parquet row group each)."""

    def __init__(self, run_id: str, rows_per_table: int = 100_000):
        self._run_id = run_id
        self._rows_per_table = rows_per_table

    def start_bundle(self) -> None:
        self._buffer: list = []

    def process(self, records: Sequence) -> Iterator:
        self._buffer.extend(records)
        if len(self._buffer) >= self._rows_per_table:
            yield to_table(self._buffer, self._run_id)
            self._buffer = []

    def finish_bundle(self) -> Iterator:
        if self._buffer:
            yield GlobalWindows.windowed_value_at_end_of_window(to_table(self._buffer, self._run_id))
        self._buffer = []


def ntriples_chunk(triples: Sequence) -> str:
    """One text element holding the N-Triples lines of a list of triples (no final newline)."""
    return "".join(ntriples_line(t) for t in triples)[:-1]


class LogProgressFn(beam.DoFn):
    """Passes elements through, logging a progress line every few seconds per worker."""

    def __init__(self, what: str, every_seconds: float = 5.0):
        self._what = what
        self._every = every_seconds

    def setup(self) -> None:
        self._count = 0
        self._started = self._last = None

    def process(self, element) -> Iterator:
        now = time.monotonic()
        if self._started is None:  # Rates count from the first element, not from model loading.
            self._started = self._last = now
        self._count += 1
        if now - self._last >= self._every:
            self._last = now
            rate = self._count / max(now - self._started, 1e-9)
            _LOG.info("%s: %d (%.1f/s on this worker)", self._what, self._count, rate)
        yield element


def dead_letter_json(dead: DeadLetter) -> str:
    """One dead-letter JSON line."""
    return json.dumps(
        {"input_ref": dead.input_ref, "stage": dead.stage, "error": dead.error, "payload": dead.payload},
        ensure_ascii=False,
    )


def sorted_mentions(element) -> tuple[Document, list[Mention]] | None:
    """CoGroupByKey result -> (document, mentions in document order); None for orphans."""
    _, grouped = element
    documents = list(grouped["documents"])
    if not documents:
        return None
    mentions: Iterable[Mention] = grouped["mentions"]
    return documents[0], sorted(mentions, key=lambda m: (m.start, m.end, m.label))


def linked_entity_ids(element) -> Iterator[str]:
    _, _, links = element
    for link in links:
        if link.entity_id is not None:
            yield link.entity_id


def mentions_of(element) -> list[Mention]:
    return element[1]


def links_of(element) -> list[Link]:
    return element[2]
