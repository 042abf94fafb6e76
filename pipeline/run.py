"""Builds and runs the kgpipe Beam pipeline: text -> NER -> linking -> Parquet + RDF.

``run(argv)`` is what ``kgpipe run`` calls; tests pass ``test_pipeline``.
The pipeline is runner-agnostic. With no ``--runner`` (or ``DirectRunner``)
it runs on Beam's FnApiRunner directly, which honours
``--direct_running_mode``/``--direct_num_workers``; Beam 2.77's DirectRunner
would first try to download the Prism binary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
from apache_beam.utils import shared

from kgpipe.kg import commit, manifest
from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.rdf import ntriples_line
from kgpipe.linking.linker import LinkerConfig, kb_version
from kgpipe.pipeline import transforms as T
from kgpipe.pipeline.coders import RecordBatch
from kgpipe.pipeline.handlers import METRICS_NAMESPACE, NerConfig, NerModelHandler
from kgpipe.pipeline.options import KgpipeOptions, RdfCompression, RunConfig, check_flags, local_model_dir
from kgpipe.pipeline.preflight import ModelInfo, UsageError, check_inputs, check_kb, check_output
from kgpipe.pipeline.readers import InputFormat
from kgpipe.schemas import arrow
from kgpipe.schemas.records import Document, Link, Mention, Triple

__version__ = "0.1.0"
_LOG = logging.getLogger("kgpipe")
_PROGRESS = logging.getLogger("kgpipe.progress")


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """A resolved run: config, matched input files, versions and the derived run id."""

    config: RunConfig
    input_files: tuple[str, ...]
    model: ModelInfo
    versions: Mapping[str, str]
    input_digests: tuple[str, ...]
    run_id: str
    seen_files: tuple[str, ...] = ()
    expected_documents: int | None = None  # Input lines, when known cheaply (progress lines' ETA).

    @classmethod
    def resolve(cls, config: RunConfig) -> "RunPlan":
        """Matches inputs, reads versions and derives the run id (same inputs, config and
        versions: same id; an incremental run also depends on the documents already seen)."""
        files = tuple(check_inputs(config.inputs))
        model = ModelInfo.read(local_model_dir(config))
        check_kb(config.kb_path)
        versions = {"kgpipe": __version__, "model": model.version, "kb": kb_version(config.kb_path)}
        hashed = [_digest(p) for p in files]
        digests = tuple(f"{os.path.basename(p)}:{digest}" for p, (digest, _) in zip(files, hashed))
        # An incremental run depends on which runs came before it.
        earlier = manifest.completed_runs(config.output_dir) if config.incremental else []
        seen_files = tuple(str(p) for p in manifest.completed_document_files(config.output_dir)) if earlier else ()
        run_id = manifest.derive_run_id(
            digests, {**config.fingerprint(), "after_runs": earlier if config.incremental else None}, versions
        )
        expected = _expected_documents(config, files, [lines for _, lines in hashed])
        return cls(config, files, model, versions, digests, run_id, seen_files, expected)

    @property
    def extractor(self) -> str:
        return f"kgpipe/{self.versions['kgpipe']} ner={self.versions['model']} kb={self.versions['kb']}"

    def output(self, *parts: str) -> str:
        """Where this run writes ``parts``: its staging folder, committed into the output when complete."""
        return FileSystems.join(self.config.output_dir, commit.STAGING_DIR, self.run_id, *parts)

    def final(self, *parts: str) -> str:
        """Where ``parts`` are visible once the run is committed."""
        return FileSystems.join(self.config.output_dir, *parts)


def _digest(path: str) -> tuple[str, int]:
    """(``sha256:<hex>`` of a file's bytes, its newline count), on any Beam filesystem, in one pass."""
    digest, lines = hashlib.sha256(), 0
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return "sha256:" + digest.hexdigest(), lines


def _expected_documents(config: RunConfig, files: Sequence[str], lines: Sequence[int]) -> int | None:
    """Documents a run expects (for progress lines), when every input is uncompressed lines; else None."""
    line_formats = (InputFormat.JSONL, InputFormat.TEXT, InputFormat.TSV)
    for path in files:
        fmt = InputFormat.for_path(path) if config.input_format is InputFormat.AUTO else config.input_format
        if fmt not in line_formats or path.lower().endswith((".gz", ".gzip", ".bz2", ".zst", ".deflate")):
            return None
    return sum(lines)


def _is_local(path: str) -> bool:
    return "://" not in path


def _parquet(record_lists, plan: RunPlan, record_type: type, label: str, part: str = "", rows: int = 65_536):
    """Writes a PCollection of record lists as Parquet files of one table (zstd, ``rows``-row groups).

    Args:
        part: Suffix of the files' run prefix, for a second writer into the same table.
        rows: Records per Arrow table (one row group); bounds what a worker buffers.
    """
    tables = record_lists | f"{label}Tables" >> beam.ParDo(T.RecordsToTableFn(plan.run_id, rows))
    return _parquet_tables(tables, plan, record_type, label, part)


def _parquet_tables(tables, plan: RunPlan, record_type: type, label: str, part: str = ""):
    """Writes a PCollection of Arrow tables of ``record_type`` rows as Parquet files (one row group each)."""
    table = arrow.TABLES[record_type]
    prefix = f"{plan.run_id}-{part}" if part else plan.run_id
    return tables | f"Write{label}Parquet" >> beam.io.WriteToParquetBatched(
        plan.output("parquet", table, prefix),
        schema=arrow.schema_for(record_type),
        codec="zstd",
        file_name_suffix=".parquet",
    )


def _rdf(triple_lists, plan: RunPlan, label: str, part: str = "", num_shards: int = 0):
    """Writes a PCollection of triple lists as N-Triples shards (``num_shards`` 0: one per bundle, streamed)."""
    text = triple_lists | f"{label}NTriples" >> beam.FlatMap(
        lambda triples: [T.ntriples_chunk(triples)] if triples else []).with_output_types(str)
    return _rdf_text(text, plan, label, part, num_shards)


def _rdf_text(text, plan: RunPlan, label: str, part: str = "", num_shards: int = 0):
    """Writes a PCollection of N-Triples texts (lines without a final newline) as shards."""
    gzip = plan.config.rdf_compression is RdfCompression.GZIP
    prefix = f"{plan.run_id}-{part}" if part else plan.run_id
    return text | f"Write{label}RDF" >> beam.io.WriteToText(
        plan.output("rdf", prefix), file_name_suffix=".nt.gz" if gzip else ".nt", num_shards=num_shards,
        compression_type="gzip" if gzip else "uncompressed")


def ner_transform(plan: RunPlan) -> T.TagMentions:
    """The run's NER transform (``build`` adds it; ``_execute`` may start its model process first)."""
    config = plan.config
    handler = NerModelHandler(NerConfig(
        model_dir=config.model_dir, batch_tokens=config.batch_tokens, max_batch_size=config.max_batch_size,
        device=config.device, mixed_precision=config.mixed_precision, kb=config.kb_path,
        product_documents=config.product_facts if config.product_heads else None,
    ))
    return T.TagMentions(handler, progress=config.progress, total=plan.expected_documents,
                         model_process=config.ner_process)


def build(root: beam.Pipeline, plan: RunPlan, tag_mentions: T.TagMentions | None = None) -> None:
    """Adds the kgpipe graph to ``root``: one streamed chain per document, combiners for the rest.

    Documents flow ``read -> tag -> link -> assemble -> write`` in one fused stage
    (no grouping of documents, windows, mentions or triples; a written record
    leaves memory). Co-occurrence pairs and linked KB ids are combined per key
    (``CombinePerKey(sum)``); their triples are written by their own writers (a
    Flatten with the document triples would make the runner hold those).
    """
    config = plan.config
    read = root | "ReadDocuments" >> T.ReadDocuments(
        plan.input_files, config.input_format, config.language, config.tsv_columns, plan.seen_files
    )
    tagged = read["documents"] | "TagMentions" >> (tag_mentions or ner_transform(plan))
    linker_config = LinkerConfig(kb_path=config.kb_path, dictionary_mentions=config.dictionary_mentions,
                                 linker_dir=config.linker_dir)
    linker_handle = shared.Shared()
    linked = tagged["documents"] | "LinkMentions" >> beam.ParDo(
        T.LinkMentionsFn(linker_config, linker_handle)).with_outputs(T.DEAD, main="linked")
    documents, relations_dead = linked.linked, ()
    if config.relations:  # --relations: (document, mentions, links) gains its TypedRelations
        from kgpipe.pipeline.relations import ExtractRelationsFn

        extract = ExtractRelationsFn(config.relation_model_dir, threads=config.relation_threads,
                                     int8=config.relation_int8)
        extracted = (
            linked.linked
            | "BatchForRelations" >> beam.BatchElements(**ExtractRelationsFn.batch_elements_kwargs())
            | "ExtractRelations" >> beam.ParDo(extract).with_outputs(T.DEAD, main="documents"))
        documents, relations_dead = extracted.documents, (extracted[T.DEAD],)
    builder = BuilderConfig(run_id=plan.run_id, base_iri=config.base_iri, extractor=plan.extractor,
                            kb_language=config.kb_language, provenance=config.provenance,
                            product_documents=config.product_facts)
    assembled = documents | "AssembleDocuments" >> beam.ParDo(T.AssembleDocumentFn(builder)).with_outputs(
        T.DEAD, T.PAIRS, T.ENTITIES, T.CATEGORIES, main="records")
    records = assembled.records
    entity_triples = (
        assembled[T.ENTITIES]
        | "CountEntities" >> beam.CombinePerKey(sum)
        | "EntityTriples" >> beam.ParDo(T.EntityTriplesFn(linker_config, linker_handle, builder)).with_outputs(
            T.DEAD, main="triples")
    )
    category_triples = (
        assembled[T.CATEGORIES]
        | "CountCategories" >> beam.CombinePerKey(sum)
        | "CategoryTriples" >> beam.ParDo(T.CategoryTriplesFn(builder))
    )
    # KB entities and product category classes: the run's once-per-key descriptions, written together.
    described = (entity_triples.triples, category_triples) | "EntitiesAndCategories" >> beam.Flatten()
    cooccurrence = (
        assembled[T.PAIRS]
        | "CountPairs" >> beam.CombinePerKey(sum)
        | "CooccurrenceStatements" >> beam.ParDo(T.CooccurrenceStatementsFn(builder)).with_outputs(
            T.NTRIPLES, main="tables")
    )
    _parquet(records | "DocumentLists" >> _batches(lambda r: (r.document,)), plan, Document, "Documents", rows=1024)
    _parquet(records | "MentionLists" >> _batches(lambda r: r.mentions), plan, Mention, "Mentions")
    _parquet(records | "LinkLists" >> _batches(lambda r: r.links), plan, Link, "Links")
    document_triples = records | "TripleLists" >> _batches(lambda r: r.triples)
    _parquet(document_triples, plan, Triple, "Triples")
    _parquet(described, plan, Triple, "EntityTriples", part="entities")
    _parquet_tables(cooccurrence.tables, plan, Triple, "CooccurrenceTriples", part="cooccurrence")
    _rdf(document_triples, plan, "Documents", num_shards=config.rdf_shards)
    _rdf(described, plan, "Entities", part="entities")
    _rdf_text(cooccurrence[T.NTRIPLES], plan, "Cooccurrence", part="cooccurrence")
    dead = (
        read[T.DEAD], tagged[T.DEAD], linked[T.DEAD], assembled[T.DEAD], entity_triples[T.DEAD], *relations_dead
    ) | "AllDeadLetters" >> beam.Flatten()
    _ = (
        dead
        | "CountDead" >> beam.Map(_count_dead)
        | "DeadJson" >> beam.Map(T.dead_letter_json)
        | "WriteDeadLetters" >> beam.io.WriteToText(
            plan.output("dead_letter", plan.run_id), file_name_suffix=".jsonl", num_shards=1)
    )


def _batches(records_of) -> beam.Map:
    """``DocumentRecords`` -> ``RecordBatch`` of the records ``records_of`` picks (sized cheaply by Beam)."""
    return beam.Map(lambda r: RecordBatch(records_of(r))).with_output_types(RecordBatch)


def _count_dead(dead):
    beam.metrics.Metrics.counter(METRICS_NAMESPACE, f"dead_letters_{dead.stage}").inc()
    return dead


def _runner_options(argv: Sequence[str] | None) -> tuple[PipelineOptions, Any]:
    """Parses flags; picks the FnApiRunner for the direct runner (see module doc)."""
    check_flags(argv or [])
    options = PipelineOptions(argv)
    standard = options.view_as(StandardOptions)
    workers = options.view_as(KgpipeOptions).workers
    if workers < 0:
        raise ValueError(f"--workers must be >= 0 (0: one per CPU core). Received: --workers {workers}")
    workers = workers or os.cpu_count() or 1
    if workers > 1 and standard.runner in (None, "DirectRunner", "direct"):
        direct = options.view_as(DirectOptions)
        if direct.direct_running_mode not in (None, "in_memory", "multi_processing") or (
                direct.direct_num_workers not in (None, 1, workers)):
            raise ValueError("--workers sets --direct_running_mode multi_processing and --direct_num_workers; "
                             f"give one or the other. Received: --workers {workers}, --direct_running_mode "
                             f"{direct.direct_running_mode}, --direct_num_workers {direct.direct_num_workers}")
        direct.direct_running_mode, direct.direct_num_workers = "multi_processing", workers
    if standard.runner in (None, "DirectRunner", "direct"):
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner

        standard.runner = None
        return options, FnApiRunner()
    return options, None


def _in_this_process(options: PipelineOptions, runner: Any) -> bool:
    """Whether the direct runner runs the pipeline's DoFns in this process (not in worker processes)."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    mode = options.view_as(DirectOptions).direct_running_mode
    return isinstance(runner, FnApiRunner) and mode in (None, "in_memory", "multi_threading")


def _output_lock(config: RunConfig):
    """Holds a local output folder for one run and cleans up after killed runs first."""
    if not _is_local(config.output_dir):
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def held():
        with commit.RunLock(config.output_dir):
            for line in commit.recover(config.output_dir):
                _LOG.warning("%s: %s", config.output_dir, line)
            yield

    return held()


def _check_other_runs(plan: RunPlan) -> None:
    """Refuses an output folder holding another run unless --append, --overwrite or --incremental."""
    config = plan.config
    if config.append or config.overwrite or config.incremental:
        return
    (found,) = FileSystems.match([plan.final(manifest.MANIFEST_DIR, "*.json")])
    others = sorted(os.path.basename(m.path) for m in found.metadata_list)
    others = [name for name in others if plan.run_id not in name]
    if others:
        shown = ", ".join(name.removesuffix(".json") for name in others[:3]) + (" ..." if len(others) > 3 else "")
        raise UsageError(
            f"--output {config.output_dir!r} already holds another run ({shown}) of other inputs or settings; "
            "pass --append to add this run beside it, --overwrite to replace it, or choose another --output")


def _clear_staging(plan: RunPlan) -> None:
    """Deletes what an earlier attempt of this run left in its staging folder (remote outputs)."""
    (found,) = FileSystems.match([plan.output("**")])
    stale = [m.path for m in found.metadata_list]
    if stale:
        FileSystems.delete(stale)


def run(argv: Sequence[str] | None = None, test_pipeline: beam.Pipeline | None = None) -> dict[str, Any]:
    """Runs kgpipe; returns the run summary (also written to ``DIR/summary.json``).

    The run writes into ``DIR/_staging/<run id>/`` and is committed into ``DIR``
    only when complete (``kg.commit``): a failed or killed run leaves ``DIR``'s
    earlier runs as they were.

    Raises:
        UsageError: Bad flags, inputs, output, model or KB (found before the pipeline starts).
        kg.commit.CommitError: The finished run could not be moved into place (``DIR`` unchanged).
    """
    options, runner = _runner_options(argv)
    config = RunConfig.from_options(options)
    check_output(config.output_dir)
    with _output_lock(config):
        plan = RunPlan.resolve(config)
        _check_other_runs(plan)
        if not _is_local(config.output_dir):
            _clear_staging(plan)
        try:
            summary = _execute(plan, options, runner, test_pipeline)
        except BaseException:
            if _is_local(config.output_dir):  # Leave no temporary files behind (a kill leaves them to recover()).
                commit.discard(config.output_dir, plan.run_id)
            raise
    return summary


def _execute(plan: RunPlan, options: PipelineOptions, runner: Any, test_pipeline: beam.Pipeline | None):
    """Runs the pipeline into the staging folder, then commits the run; returns the summary."""
    started = time.monotonic()
    tag_mentions = ner_transform(plan)
    # A runner that runs the pipeline in this process finds the model process already loading the model.
    early = tag_mentions.start_model_process() if test_pipeline is None and _in_this_process(options, runner) else None
    root = test_pipeline or beam.Pipeline(runner=runner, options=options)
    build(root, plan, tag_mentions)
    result = root.run()
    result.wait_until_finish()
    del early
    summary = _summary(plan, result, time.monotonic() - started)
    if plan.config.progress:
        _PROGRESS.info("pipeline done in %.1fs; committing run %s into %s", summary["seconds"], plan.run_id,
                       plan.config.output_dir)
    _write_run_node(plan, summary)
    _write_json(plan.output("summary.json"), summary)
    _commit(plan, summary)
    return summary


def _commit(plan: RunPlan, summary: Mapping[str, Any]) -> None:
    """Makes the staged run visible, manifest last (see ``kg.commit``)."""
    record = _manifest(plan, summary)
    if _is_local(plan.config.output_dir):
        staged = commit.staging_dir(plan.config.output_dir, plan.run_id)
        files = [p.as_posix() for p in commit.staged_files(staged) if p.parts[0] in commit.DATA_FOLDERS]
        record.update(files=files, rows=commit.file_rows(staged, files))
        commit.commit(plan.config.output_dir, record, replace_all=plan.config.overwrite)
        return
    # Other filesystems have no atomic rename: files are renamed into place, then the manifest is written.
    (found,) = FileSystems.match([plan.output("**")])
    sources = sorted(m.path for m in found.metadata_list)
    prefix = plan.output("")
    FileSystems.rename(sources, [plan.final(path[len(prefix):].lstrip("/")) for path in sources])
    _write_json(plan.final(manifest.MANIFEST_DIR, f"{plan.run_id}.json"), record)


def _metric_value(metric) -> Any:
    return metric.committed if metric.committed is not None else metric.attempted


def _counters(result) -> dict[str, int]:
    query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        name = counter.key.metric.name
        totals[name] = totals.get(name, 0) + int(_metric_value(counter) or 0)
    return totals


def _inference_stats(result) -> dict[str, float]:
    """Time spent tagging batches, batch sizes and model loads (``NerModelHandler.record``)."""
    query = result.metrics().query(MetricsFilter().with_namespace(NerModelHandler.METRICS_NAMESPACE))
    stats = {"ner_seconds": 0.0, "ner_batches": 0, "ner_mean_batch_size": 0.0, "ner_mean_call_rows": 0.0,
             "model_load_seconds": 0.0, "model_loads": 0}
    for dist in query["distributions"]:
        value, name = _metric_value(dist), dist.key.metric.name
        if value is None or not value.count:
            continue
        if name == "ner_batch_usec":
            stats["ner_seconds"] += value.sum / 1e6
            stats["ner_batches"] += value.count
        elif name == "ner_batch_documents":
            stats["ner_mean_batch_size"] = round(value.sum / value.count, 2)
        elif name == "ner_call_rows":  # Windows per model call (pipeline.handlers).
            stats["ner_mean_call_rows"] = round(value.sum / value.count, 2)
        elif name == "ner_model_load_msec":  # Once per worker process.
            stats["model_load_seconds"] = max(stats["model_load_seconds"], value.max / 1e3)
            stats["model_loads"] += value.count
    return stats


def _summary(plan: RunPlan, result, seconds: float) -> dict[str, Any]:
    """Counts per stage, dead letters per stage, throughput and padding waste of a finished run."""
    counts = _counters(result)
    ner = _inference_stats(result)
    padded = counts.get("ner_padded_tokens", 0)
    dead = {k.removeprefix("dead_letters_"): v for k, v in sorted(counts.items()) if k.startswith("dead_letters_")}
    return {
        "run_id": plan.run_id,
        "versions": dict(plan.versions),
        "inputs": list(plan.input_files),
        "output": plan.config.output_dir,
        "counts": {k: v for k, v in sorted(counts.items()) if not k.startswith("dead_letters_")}
        | {"links_kb": counts.get("links", 0) - counts.get("links_nil", 0)},
        "dead_letters": dead,
        "seconds": round(seconds, 3),
        "throughput": {
            "documents_per_second": round(counts.get("documents", 0) / seconds, 2) if seconds else None,
            "pipeline_chars_per_second": round(counts.get("ner_chars", 0) / seconds, 1) if seconds else None,
            "ner_chars_per_second": (
                round(counts.get("ner_chars", 0) / ner["ner_seconds"], 1) if ner["ner_seconds"] else None
            ),
        },
        "ner": {k: round(v, 3) if isinstance(v, float) else v for k, v in ner.items()},
        "padding_waste": round(1 - counts.get("ner_real_tokens", 0) / padded, 4) if padded else 0.0,
    }


def _write_run_node(plan: RunPlan, summary: Mapping[str, Any]) -> None:
    """Adds the run's own node (a prov:Activity with its counts) to the RDF and triples table."""
    counts = summary["counts"]
    builder = TripleBuilder(BuilderConfig(run_id=plan.run_id, base_iri=plan.config.base_iri, extractor=plan.extractor))
    triples = builder.run_triples(
        {"documents": counts.get("documents", 0), "mentions": counts.get("links", 0),
         "triples": counts.get("triples", 0)}
    )
    gzip = plan.config.rdf_compression is RdfCompression.GZIP
    path = plan.output("rdf", f"{plan.run_id}-run.nt" + (".gz" if gzip else ""))
    with FileSystems.create(path, compression_type="gzip" if gzip else "uncompressed") as f:
        f.write("".join(ntriples_line(t) for t in triples).encode("utf-8"))
    with FileSystems.create(plan.output("parquet", "triples", f"{plan.run_id}-run.parquet")) as f:
        pq.write_table(arrow.to_table(triples, plan.run_id), f, compression="zstd")


def _manifest(plan: RunPlan, summary: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "run_id": plan.run_id,
        "inputs": [{"path": p, "digest": d.split(":", 1)[1]} for p, d in zip(plan.input_files, plan.input_digests)],
        "config": plan.config.fingerprint(),
        "versions": dict(plan.versions),
        "counts": summary["counts"],
        "dead_letters": summary["dead_letters"],
        "incremental": plan.config.incremental,
        "base_iri": plan.config.base_iri,
        "seconds": summary["seconds"],
        "throughput": summary["throughput"],
    }


def _write_json(path: str, payload: Mapping[str, Any]) -> None:
    with FileSystems.create(path) as f:
        f.write((json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
