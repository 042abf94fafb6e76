"""Writes a complete run directory from records, without Beam.

The same layout as the Beam pipeline (``DIR/parquet/{documents,mentions,
links,triples}/``, ``DIR/rdf/*.nt``, ``DIR/manifests/``), assembled by the same
``kg.assemble.RunAssembler`` as the pipeline and written through the same Arrow
converter: for tests, small batch jobs, benchmarks and fixtures. Co-occurrence
counts are summed over the documents as the pipeline's ``CombinePerKey(sum)``
does; the run node states the same counts as the pipeline's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kgpipe.kg import manifest
from kgpipe.kg.assemble import DocumentRecords, RunAssembler, RunCounts, count_pairs
from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.parquet import ParquetRecordWriter
from kgpipe.kg.export.rdf import ShardWriter
from kgpipe.schemas.records import Document, Entity, Link, Mention, Triple

Annotations = Mapping[str, tuple[Sequence[Mention], Sequence[Link]]]


def assemble_documents(assembler: RunAssembler, documents: Sequence[Document],
                       annotations: Annotations) -> list[DocumentRecords]:
    """Returns each document's records (a document without annotations has none)."""
    return [assembler.document(d, *annotations.get(d.id, ((), ()))) for d in documents]


def run_triples(assembler: RunAssembler, records: Sequence[DocumentRecords], entities: Iterable[Entity] = (),
                language: str | None = "zh") -> list[Triple]:
    """Returns all triples of a run: run node, documents, mentions, KB entities, product categories,
    co-occurrences.

    Args:
        entities: The KB entities to describe (each once, in id order).
        language: Language tag of the entities' names (``None``: the builder's ``kb_language``).
    """
    triples = [t for record in records for t in record.triples]
    for entity in sorted({e.id: e for e in entities}.values(), key=lambda e: e.id):
        triples += assembler.entity(entity, language)
    for category in sorted({c for record in records for c in record.categories}):
        triples += assembler.category(category)
    pairs = count_pairs(records)
    for pair in sorted(pairs):
        triples += assembler.cooccurrence(pair, pairs[pair])
    counts = RunCounts(len(records), sum(len(r.mentions) for r in records), len(triples))
    return assembler.run_node(counts) + triples


def build_triples(builder: TripleBuilder, documents: Sequence[Document], annotations: Annotations,
                  entities: Iterable[Entity] = (), language: str = "zh") -> list[Triple]:
    """Returns all triples of a run (see ``run_triples``), for callers holding a ``TripleBuilder``."""
    assembler = RunAssembler(builder.config, builder.relation_extractors)
    return run_triples(assembler, assemble_documents(assembler, documents, annotations), entities, language)


def write_run(output_dir: str | os.PathLike[str], config: BuilderConfig, documents: Sequence[Document],
              annotations: Annotations, entities: Iterable[Entity] = (), *, language: str = "zh",
              rdf_compress: bool = False, rdf_shard_size: int = 1_000_000,
              extra_manifest: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Builds and writes one run into ``output_dir``; returns its manifest."""
    out = Path(output_dir)
    assembler = RunAssembler(config)
    records = assemble_documents(assembler, documents, annotations)
    triples = run_triples(assembler, records, entities, language)
    mentions = [m for r in records for m in r.mentions]
    links = [l for r in records for l in r.links]
    for record_type, rows in ((Document, documents), (Mention, mentions), (Link, links), (Triple, triples)):
        with ParquetRecordWriter(out, record_type, config.run_id) as writer:
            writer.write(rows)
    with ShardWriter(out / "rdf", prefix=f"run-{config.run_id}", shard_size=rdf_shard_size,
                     compress=rdf_compress) as rdf_writer:
        rdf_writer.write_all(triples)
    record = {
        "run_id": config.run_id,
        "base_iri": config.base_iri,
        "extractor": config.extractor,
        "provenance": config.provenance.value,
        "counts": {"documents": len(documents), "mentions": len(mentions), "links": len(links),
                   "triples": len(triples)},
        "rdf": [p.relative_to(out).as_posix() for p in rdf_writer.paths],
        **(extra_manifest or {}),
    }
    manifest.write_manifest(out, record)
    return record
