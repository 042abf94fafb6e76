"""kgpipe's Beam transforms: thin wrappers around the stage cores.

``ReadDocuments -> TagMentions -> LinkMentions -> AssembleDocument -> Write*``,
one fused chain that streams documents: nothing groups documents, windows,
mentions or triples; corpus-wide aggregates (co-occurrence counts, linked KB
entities) are combined per small key. Every DoFn keeps a small picklable config, loads heavy state once
per worker in ``setup`` and delegates the work to a core from ``ner``,
``linking`` or ``kg``. Bad records go to a dead-letter output with a reason;
counters live here, never in the cores.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import time
from collections.abc import Iterator, Sequence

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import shared

from kgpipe.kg.assemble import DocumentRecords, RunAssembler
from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.export.rdf import ntriples_columns, ntriples_line
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.pipeline.coders import RecordBatch
from kgpipe.pipeline.handlers import METRICS_NAMESPACE, NerModelHandler
from kgpipe.pipeline.model_process import NerModelProcess
from kgpipe.pipeline.readers import MAX_PAYLOAD_CHARS, InputFormat, open_input, read_documents, short_names
from kgpipe.schemas.arrow import columns_to_table, to_table
from kgpipe.schemas.records import DeadLetter, Document, Link, Mention, Triple

_LOG = logging.getLogger("kgpipe.progress")

DEAD = "dead_letter"
PAIRS = "cooccurrence_pairs"
ENTITIES = "linked_entities"
CATEGORIES = "product_categories"
NTRIPLES = "ntriples"


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


def _line_of(ref: str) -> int | None:
    """The line number at the end of a ``path:line`` reference, if any."""
    _, _, line = ref.rpartition(":")
    return int(line) if line.isdigit() else None


class ReadFileFn(beam.DoFn):
    """Reads one shard of an input file into Documents; bad records go to the dead-letter output.

    An element is ``(path, short name, shard, shards)``: the shard keeps the records
    whose line number is ``shard`` modulo ``shards`` (records without a line number,
    e.g. a whole-file error, go to shard 0), so the documents of one file spread
    over workers without a grouping that would hold them all.
    """

    def __init__(self, input_format: InputFormat, language: str, tsv_columns: Sequence[str] | None):
        self._format = input_format
        self._language = language
        self._tsv_columns = tsv_columns
        self._read = _counter("documents_read")
        self._bad = _counter("read_dead_letters")

    def process(self, element: tuple[str, str, int, int]) -> Iterator:
        path, name, shard, shards = element
        for record in self._records(path, name):
            ref = record.input_ref if isinstance(record, DeadLetter) else record.source
            if (_line_of(ref) or 0) % shards != shard:
                continue
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


class _DocumentIdsFn(ReadFileFn):
    """Reads a whole file into ``(document id, (source order, source))``, uncounted (the id pass)."""

    def process(self, element: tuple[str, str]) -> Iterator:
        path, name = element
        for record in self._records(path, name):
            if isinstance(record, Document):
                yield record.id, (_source_order(record), record.source)


class _FirstSourceFn(beam.CombineFn):
    """Per document id: the first ``(source order, source)`` and how many records carry the id."""

    def create_accumulator(self):
        return None, 0

    def add_input(self, accumulator, value):
        first, count = accumulator
        return (value if first is None or tuple(value[0]) < tuple(first[0]) else first), count + 1

    def merge_accumulators(self, accumulators):
        first, count = None, 0
        for other, n in accumulators:
            if other is not None and (first is None or tuple(other[0]) < tuple(first[0])):
                first = other
            count += n
        return first, count

    def extract_output(self, accumulator):
        return accumulator


class ReadDocuments(beam.PTransform):
    """Reads JSON Lines, text, TSV or Parquet files into unique ``Document``s, streaming.

    Outputs: ``documents`` (``Document``) and ``dead_letter`` (``DeadLetter``:
    unreadable records, and later duplicates of a document id, which keep the
    first by (path, line)). Default ids are ``name:line`` with the file's path
    relative to the inputs' common folder. Documents are never grouped: a first
    pass reads only ids and combines them per id (small keys), and the ids that
    are duplicated, or seen in earlier runs (``--incremental``), reach the
    document pass as side inputs.

    Args:
        min_shards: Each file is read as ``ceil(min_shards / files)`` shards, so one big
            file still spreads over several workers.
    """

    def __init__(
        self,
        paths: Sequence[str],
        input_format: InputFormat = InputFormat.AUTO,
        language: str = "zh",
        tsv_columns: Sequence[str] | None = None,
        seen_files: Sequence[str] = (),
        min_shards: int = 4,
    ):
        super().__init__()
        self._files = sorted(short_names(list(paths)).items())
        self._read_fn = ReadFileFn(input_format, language, tsv_columns)
        self._ids_fn = _DocumentIdsFn(input_format, language, tsv_columns)
        self._seen_files = list(seen_files)
        self._shards = max(1, -(-min_shards // max(len(self._files), 1)))

    def expand(self, pbegin):
        duplicated = (
            pbegin
            | "IdFiles" >> beam.Create(self._files)
            | "SpreadIdFiles" >> beam.Reshuffle()
            | "ReadIds" >> beam.ParDo(self._ids_fn)
            | "FirstPerId" >> beam.CombinePerKey(_FirstSourceFn())
            | "Duplicated" >> beam.FlatMap(lambda kv: [(kv[0], kv[1][0][1])] if kv[1][1] > 1 else [])
        )
        seen = pbegin | "SeenFiles" >> beam.Create(self._seen_files)
        if self._seen_files:  # --incremental: ids of earlier runs, read in parallel.
            seen = (seen | "ReadSeenIds" >> beam.io.ReadAllFromParquet(columns=["id"])
                    | "KeySeen" >> beam.Map(lambda row: (row["id"], True)))
        shards = [(path, name, k, self._shards) for path, name in self._files for k in range(self._shards)]
        read = (
            pbegin
            | "Files" >> beam.Create(shards)
            | "SpreadFiles" >> beam.Reshuffle()
            | "Parse" >> beam.ParDo(self._read_fn).with_outputs(DEAD, main="documents")
        )
        unique = read.documents | "FirstDocument" >> beam.ParDo(
            _FirstDocumentFn(), beam.pvalue.AsDict(duplicated), beam.pvalue.AsDict(seen)
        ).with_outputs(DEAD, main="documents")
        dead = (read[DEAD], unique[DEAD]) | "FlattenDead" >> beam.Flatten()
        return {"documents": unique.documents, DEAD: dead}


def _source_order(document: Document) -> tuple[str, int]:
    path, _, line = document.source.rpartition(":")
    return (path, int(line)) if line.isdigit() else (document.source, 0)


class _FirstDocumentFn(beam.DoFn):
    """Keeps a document unless another record of its id came first or an earlier run has it.

    Side inputs: ``duplicated`` (id -> source of its first record, only for ids
    read more than once) and ``seen`` (ids of earlier runs).
    """

    def __init__(self):
        self._duplicates = _counter("documents_duplicate")
        self._skipped = _counter("documents_skipped_seen")
        self._kept = _counter("documents")

    def process(self, document: Document, duplicated: dict, seen: dict) -> Iterator:
        first = duplicated.get(document.id)
        if first is not None and first != document.source:
            self._duplicates.inc()
            message = f"duplicate document id {document.id!r}; first seen at {first}"
            yield beam.pvalue.TaggedOutput(DEAD, _dead(document.source, "read", message, document.text))
            return
        if document.id in seen:
            self._skipped.inc()
            return
        self._kept.inc()
        yield document


class TagMentions(beam.PTransform):
    """Batched NER over whole documents: ``Document`` -> ``(Document, [Mention])``, plus dead letters.

    Documents are batched by characters (``NerModelHandler.batch_elements_kwargs``)
    and the windows of a batch are tagged together, so documents keep their text
    and no join brings mentions back to them. A window the model fails on becomes
    a ``ner`` dead letter; its document is still written, without that window's
    mentions (counted as ``ner_failed_windows``).

    Args:
        model_process: Tag in a child process of each worker process (``NerModelProcess``),
            one batch ahead of the stages after NER, which then run beside it on another
            core; ``False``: tag in the worker's own thread. Outputs are the same.
    """

    def __init__(self, handler: NerModelHandler, progress: bool = False, total: int | None = None,
                 model_process: bool = False):
        super().__init__()
        self._handler = handler
        self._progress = progress
        self._total = total  # Documents expected, for the progress lines' share and ETA (None: unknown).
        self._model_process = model_process
        self._handle = shared.Shared()

    def start_model_process(self) -> NerModelProcess | None:
        """Starts this process's model process now, so the model loads while the pipeline starts.

        For runners that run the pipeline in this process; its DoFns then use this one. Keep the
        returned object until the run ends (the handle holds it weakly). ``None`` without ``model_process``.
        """
        if not self._model_process:
            return None
        return self._handle.acquire(lambda: NerModelProcess(self._handler), tag=_model_tag(self._handler, True))

    def expand(self, documents):
        results = (documents
                   | "Batch" >> beam.BatchElements(**self._handler.batch_elements_kwargs())
                   | "Tag" >> beam.ParDo(_TagBatchesFn(self._handler, self._handle, self._model_process)))
        if self._progress:
            results = results | "Progress" >> beam.ParDo(LogProgressFn("documents tagged", total=self._total))
        tagged = results | "Mentions" >> beam.ParDo(_MentionsFn()).with_outputs(DEAD, main="documents")
        return {"documents": tagged.documents, DEAD: tagged[DEAD]}


def _model_tag(handler: NerModelHandler, model_process: bool) -> str:
    config = handler.config
    return f"kgpipe-ner:{config.model_dir}:{config.device}:{model_process}"


class _TagBatchesFn(beam.DoFn):
    """Batches of documents -> one ``PredictionResult(Document, DocumentTags)`` per document.

    The model loads once per worker process (a ``shared.Shared`` handle, as in
    ``RunInference``): in it, or with ``model_process`` in one child process of it
    (``NerModelProcess``). Then batch k is tagged in the child while this process
    runs the stages fused after this one (linking, triples, writing) on batch k-1;
    results keep the batches' order, the bundle's last batch is emitted in
    ``finish_bundle``, and metrics are counted here (Beam's metrics belong to the
    bundle's thread).
    """

    def __init__(self, handler: NerModelHandler, handle: shared.Shared, model_process: bool = False):
        self._handler = handler
        self._handle = handle
        self._model_process = model_process

    def setup(self) -> None:
        tag = _model_tag(self._handler, self._model_process)
        self._load_seconds = None
        if self._model_process:
            self._model, self._child = None, self._handle.acquire(lambda: NerModelProcess(self._handler), tag=tag)
            return

        def load():
            started = time.perf_counter()
            model = self._handler.load_model()
            self._load_seconds = time.perf_counter() - started  # Counted in the first bundle.
            return model

        self._model, self._child = self._handle.acquire(load, tag=tag), None

    def start_bundle(self) -> None:
        self._pending: collections.deque = collections.deque()
        if self._load_seconds is not None:
            self._handler.record_load(self._load_seconds)
            self._load_seconds = None

    def process(self, batch: Sequence[Document]) -> Iterator:
        if self._child is None:
            yield from self._emit(self._handler.tag(batch, self._model))
            return
        self._pending.append(self._child.submit(batch))
        while len(self._pending) > 1:
            yield from self._emit(self._child.result(self._pending.popleft()))

    def finish_bundle(self) -> Iterator:
        while self._pending:
            for result in self._emit(self._child.result(self._pending.popleft())):
                yield GlobalWindows.windowed_value_at_end_of_window(result)

    def _emit(self, tagged: tuple) -> list:
        results, stats, *loaded = tagged
        if loaded and loaded[0] is not None:
            self._handler.record_load(loaded[0])
        self._handler.record(stats)
        return results


class _MentionsFn(beam.DoFn):
    """``PredictionResult(Document, DocumentTags)`` -> ``(Document, [Mention])`` and window dead letters."""

    def __init__(self):
        self._failed = _counter("ner_failed_windows")

    def process(self, result) -> Iterator:
        document, tags = result.example, result.inference
        for window, error in tags.failures:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(DEAD, _dead(f"{window.doc_id}@{window.start}", "ner", error, window.text))
        yield document, list(tags.mentions)


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
    """A DoFn around the run's ``RunAssembler``, counting the triples it makes."""

    def __init__(self, config: BuilderConfig):
        self._config = config
        self._triples = _counter("triples")

    def setup(self) -> None:
        self._assembler = RunAssembler(self._config)


@beam.typehints.with_output_types(DocumentRecords)
class AssembleDocumentFn(_TriplesFn):
    """``(Document, [Mention], [Link])`` -> ``DocumentRecords``, plus co-occurring pairs, linked KB ids
    and the product category classes used.

    Pairs, entity ids and category classes leave as ``(key, 1)`` for ``CombinePerKey(sum)``: corpus-wide
    aggregates over small keys, never a grouping of documents. If building the
    document's triples fails, it is still written with its mentions and links.
    """

    def __init__(self, config: BuilderConfig):
        super().__init__(config)
        self._mentions = _counter("mentions")

    def process(self, element) -> Iterator:
        document, mentions, links, *typed = element  # (..., [TypedRelation]) with --relations
        try:
            records = self._assembler.document(document, mentions, links, typed[0] if typed else ())
        except Exception as error:  # The document and its mentions are still written.
            _counter("documents_partial").inc()
            yield beam.pvalue.TaggedOutput(DEAD, _dead(document.id, "triples", error, document.text))
            records = DocumentRecords(document, tuple(mentions), tuple(links), (), (), (), ())
        self._triples.inc(len(records.triples))
        self._mentions.inc(len(records.mentions))
        yield records
        for pair in records.pairs:
            yield beam.pvalue.TaggedOutput(PAIRS, (pair, 1))
        for entity_id in records.entity_ids:
            yield beam.pvalue.TaggedOutput(ENTITIES, (entity_id, 1))
        for category in records.categories:
            yield beam.pvalue.TaggedOutput(CATEGORIES, (category, 1))


@beam.typehints.with_output_types(RecordBatch)
class EntityTriplesFn(_TriplesFn):
    """``(KB entity id, documents)`` -> ``[Triple]``: the entity's types, labels and aliases (once per entity)."""

    def __init__(self, linker_config: LinkerConfig, linker_handle: shared.Shared, builder: BuilderConfig):
        super().__init__(builder)
        self._linker_config = linker_config
        self._handle = linker_handle
        self._entities = _counter("entities_linked")

    def setup(self) -> None:
        super().setup()
        self._linker = _shared_linker(self._handle, self._linker_config)

    def process(self, element) -> Iterator:
        entity_id, _ = element
        entity = self._linker.entity(entity_id)
        if entity is None:
            yield beam.pvalue.TaggedOutput(DEAD, _dead(entity_id, "triples", "linked entity id not in the KB"))
            return
        triples = self._assembler.entity(entity)
        self._entities.inc()
        self._triples.inc(len(triples))
        yield RecordBatch(triples)


@beam.typehints.with_output_types(RecordBatch)
class CategoryTriplesFn(_TriplesFn):
    """``(category class IRI, titles)`` -> ``[Triple]``: the class, its parent and labels (once per class)."""

    def process(self, element) -> Iterator:
        category, _ = element
        triples = self._assembler.category(category)
        self._triples.inc(len(triples))
        yield RecordBatch(triples)


@beam.typehints.with_output_types(pa.Table)
class CooccurrenceStatementsFn(_TriplesFn):
    """``((iri_a, iri_b), count)`` -> the weighted co-occurrence statements, ready to write.

    A run has tens of thousands of pairs, seven triples each; they are built column by column
    (``RunAssembler.cooccurrences``), never as ``Triple`` objects, ``pairs_per_element`` pairs at
    a time: each batch leaves as one Arrow table (main output) and one N-Triples text
    (``NTRIPLES``), the same rows and lines the record writers would make of those triples.
    """

    def __init__(self, config: BuilderConfig, pairs_per_element: int = 8192):
        super().__init__(config)
        self._pairs_per_element = pairs_per_element

    def start_bundle(self) -> None:
        self._pairs: list = []
        self._counts: list = []

    def process(self, element) -> Iterator:
        pair, count = element
        self._pairs.append(tuple(pair))
        self._counts.append(count)
        if len(self._pairs) >= self._pairs_per_element:
            yield from self._flush(lambda value: value)

    def finish_bundle(self) -> Iterator:
        if self._pairs:
            yield from self._flush(GlobalWindows.windowed_value_at_end_of_window)

    def _flush(self, emit) -> Iterator:
        columns = self._assembler.cooccurrences(self._pairs, self._counts)
        self._triples.inc(len(columns["subject"]))
        self._pairs, self._counts = [], []
        yield emit(columns_to_table(Triple, columns, self._config.run_id))
        lines = ntriples_columns(columns)
        if lines:
            yield beam.pvalue.TaggedOutput(NTRIPLES, emit(lines[:-1]))


@beam.typehints.with_output_types(pa.Table)
class RecordsToTableFn(beam.DoFn):
    """Lists of records -> Arrow tables of about ``rows_per_table`` rows (one Parquet row group each)."""

    def __init__(self, run_id: str, rows_per_table: int = 65_536):
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


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class LogProgressFn(beam.DoFn):
    """Passes elements through, logging a progress line every few seconds per worker and at the end.

    With ``total`` (records expected, e.g. input lines counted while hashing
    the inputs) the lines show the share done and an ETA:
    ``documents tagged: 1,200 of ~5,000 (24%), 35.2/s, ETA 1m48s``. Counts are
    per worker; on several workers the ETA is a worker's, which is the run's
    when the work is spread evenly.
    """

    def __init__(self, what: str, every_seconds: float = 5.0, total: int | None = None):
        self._what = what
        self._every = every_seconds
        self._total = total

    def setup(self) -> None:
        self._count = self._logged = 0
        self._started = self._last = None

    def _line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self._count / elapsed
        if not self._total:
            return f"{self._what}: {self._count:,} ({rate:.1f}/s on this worker)"
        share = min(self._count / self._total, 1.0)
        left = max(self._total - self._count, 0) / rate if rate else 0.0
        eta = f", ETA {_duration(left)}" if left else f" in {_duration(elapsed)}"
        return f"{self._what}: {self._count:,} of ~{self._total:,} ({share:.0%}), {rate:.1f}/s{eta}"

    def process(self, element) -> Iterator:
        now = time.monotonic()
        if self._started is None:  # Rates count from the first element, not from model loading.
            self._started = self._last = now
        self._count += 1
        if now - self._last >= self._every:
            self._last, self._logged = now, self._count
            _LOG.info("%s", self._line(now))
        yield element

    def finish_bundle(self) -> None:
        # The last count of a bundle, so the log does not fall silent before the writes.
        if self._started is not None and self._count != self._logged:
            self._logged = self._count
            _LOG.info("%s", self._line(time.monotonic()))


def dead_letter_json(dead: DeadLetter) -> str:
    """One dead-letter JSON line."""
    return json.dumps(
        {"input_ref": dead.input_ref, "stage": dead.stage, "error": dead.error, "payload": dead.payload},
        ensure_ascii=False,
    )
