"""Writes a complete run directory from records, without Beam.

The same layout as the Beam pipeline (``DIR/parquet/{documents,mentions,
links,triples}/``, ``DIR/rdf/*.nt``, ``DIR/manifests/``), built by the same
``TripleBuilder`` and writers: for tests, small batch jobs, benchmarks and
fixtures. Co-occurrence counts are summed over the documents as the
pipeline's ``CombinePerKey(sum)`` does.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kgpipe.kg import manifest
from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.parquet import ParquetRecordWriter
from kgpipe.kg.export.rdf import ShardWriter
from kgpipe.schemas.records import Document, Entity, Link, Mention, Triple


def build_triples(builder: TripleBuilder, documents: Sequence[Document],
                  annotations: Mapping[str, tuple[Sequence[Mention], Sequence[Link]]],
                  entities: Iterable[Entity] = (), language: str = "zh") -> list[Triple]:
    """Returns all triples of a run: run, documents, mentions, KB entities, co-occurrences."""
    triples = builder.run_triples()
    pairs: collections.Counter[tuple[str, str]] = collections.Counter()
    for document in documents:
        mentions, links = annotations.get(document.id, ((), ()))
        triples += builder.document_triples(document)
        triples += builder.mention_triples(document, mentions, links)
        pairs.update(builder.cooccurrence_pairs(document, links))
    for entity in entities:
        triples += builder.entity_triples(entity, language)
    for pair in sorted(pairs):
        triples += builder.cooccurrence_triples(pair, pairs[pair])
    return triples


def write_run(output_dir: str | os.PathLike[str], config: BuilderConfig, documents: Sequence[Document],
              annotations: Mapping[str, tuple[Sequence[Mention], Sequence[Link]]],
              entities: Iterable[Entity] = (), *, language: str = "zh", rdf_compress: bool = False,
              rdf_shard_size: int = 1_000_000, extra_manifest: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Builds and writes one run into ``output_dir``; returns its manifest."""
    out = Path(output_dir)
    builder = TripleBuilder(config)
    triples = build_triples(builder, documents, annotations, entities, language)
    mentions = [m for d in documents for m in annotations.get(d.id, ((), ()))[0]]
    links = [l for d in documents for l in annotations.get(d.id, ((), ()))[1]]
    for record_type, records in ((Document, documents), (Mention, mentions), (Link, links), (Triple, triples)):
        with ParquetRecordWriter(out, record_type, config.run_id) as writer:
            writer.write(records)
    with ShardWriter(out / "rdf", prefix=f"run-{config.run_id}", shard_size=rdf_shard_size,
                     compress=rdf_compress) as rdf_writer:
        rdf_writer.write_all(triples)
    record = {
        "run_id": config.run_id,
        "base_iri": config.base_iri,
        "extractor": config.extractor,
        "counts": {"documents": len(documents), "mentions": len(mentions), "links": len(links),
                   "triples": len(triples)},
        "rdf": [p.relative_to(out).as_posix() for p in rdf_writer.paths],
        **(extra_manifest or {}),
    }
    manifest.write_manifest(out, record)
    return record
