"""``kgpipe export``: a run's triples as Turtle, JSON-LD, N-Triples or N-Quads.

Turtle and JSON-LD go through one in-memory rdflib graph, so they are for
small outputs (``max_triples`` guards it). N-Triples and N-Quads stream from
the triples Parquet into shards (``kg.export.rdf.ShardWriter``), any size;
N-Quads put each run in its own named graph, ``<base>graph/<run id>``.
"""

from __future__ import annotations

import dataclasses
import enum
import gzip
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from kgpipe.kg import manifest
from kgpipe.kg.export.parquet import dataset, iter_records
from kgpipe.kg.export.rdf import ShardWriter, format_double, run_graph_iri
from kgpipe.schemas import vocab
from kgpipe.schemas.records import TermKind, Triple


class ExportFormat(str, enum.Enum):
    """Output formats of ``kgpipe export``."""

    TURTLE = "turtle"
    JSONLD = "json-ld"
    NTRIPLES = "nt"
    NQUADS = "nq"
    NEO4J = "neo4j"  # neo4j-admin import CSV files (kg.export.neo4j), from the Parquet tables.

    @property
    def streamed(self) -> bool:
        return self in (ExportFormat.NTRIPLES, ExportFormat.NQUADS)


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """Options of ``export``.

    Attributes:
        format: The output format.
        run_id: Only this run (default: all runs).
        max_triples: Most triples Turtle / JSON-LD will hold in memory.
        compress: Gzip N-Triples / N-Quads shards.
        shard_size: Lines per N-Triples / N-Quads shard.
        base_iri: Base of the run graph IRIs (default: from the run manifest).
    """

    format: ExportFormat
    run_id: str | None = None
    max_triples: int = 500_000
    compress: bool = False
    shard_size: int = 1_000_000
    base_iri: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.format, ExportFormat):
            try:
                object.__setattr__(self, "format", ExportFormat(self.format))
            except ValueError:
                raise ValueError(f"`format` must be one of {[f.value for f in ExportFormat]}. "
                                 f"Received: format={self.format!r}") from None
        for name in ("max_triples", "shard_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be positive. Received: {name}={getattr(self, name)!r}")


def _term(triple: Triple) -> tuple[rdflib.URIRef, rdflib.URIRef, rdflib.term.Node]:
    if triple.object_kind is TermKind.IRI:
        obj: rdflib.term.Node = rdflib.URIRef(triple.object)
    else:
        obj = rdflib.Literal(triple.object, lang=triple.language,
                             datatype=rdflib.URIRef(triple.datatype) if triple.datatype else None)
    return rdflib.URIRef(triple.subject), rdflib.URIRef(triple.predicate), obj


def _count(output_dir: Path, run_id: str | None) -> int:
    data = dataset(output_dir, Triple)
    if data is None:
        return 0
    import pyarrow.dataset as ds

    return data.count_rows(filter=ds.field("run_id") == run_id if run_id else None)


def _graph_from_shards(output_dir: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((output_dir / "rdf").rglob("*.n[tq]*")):
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        fmt = ox.RdfFormat.N_QUADS if ".nq" in path.name else ox.RdfFormat.N_TRIPLES
        triples = (q.triple for q in ox.parse(raw, fmt))
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")
    return graph


def _base_iri(output_dir: Path, config: ExportConfig) -> str:
    if config.base_iri:
        return config.base_iri
    for record in reversed(manifest.read_manifests(output_dir)):
        if record.get("base_iri") and (config.run_id is None or record.get("run_id") == config.run_id):
            return record["base_iri"]
    return vocab.DEFAULT_BASE_IRI


def export(output_dir: str | Path, target: str | Path, config: ExportConfig) -> dict[str, Any]:
    """Exports a run directory's triples; returns ``{"format", "triples", "paths"}``.

    ``target`` is a file for Turtle / JSON-LD and a directory for shards and Neo4j CSV files
    (for which ``"triples"`` counts relationships, ``"nodes"`` nodes, and ``"command"`` is the import command).

    Raises:
        ValueError: If Turtle / JSON-LD would exceed ``max_triples``, or there is nothing to export.
    """
    output_dir, target = Path(output_dir), Path(target)
    if config.format is ExportFormat.NEO4J:
        from kgpipe.kg.export.neo4j import export_neo4j
        from kgpipe.kg.stores.runs import StoreError

        try:
            result = export_neo4j(output_dir, target, config.run_id)
        except StoreError as error:  # No such run: a bad argument here.
            raise ValueError(str(error)) from None
        return {"format": config.format.value, "triples": result["relationships"], "paths": result["paths"],
                "nodes": result["nodes"], "command": result["command"]}
    rows = _count(output_dir, config.run_id)
    if config.format.streamed:
        if not rows:
            raise ValueError(f"No triples Parquet under {output_dir}/parquet/triples to export.")
        return _export_shards(output_dir, target, config)
    if rows > config.max_triples:
        raise ValueError(
            f"{rows:,} triples are too many for {config.format.value} through rdflib (max_triples="
            f"{config.max_triples:,}). Export N-Triples or N-Quads (streamed), or raise --max_triples.")
    graph = rdflib.Graph()
    for prefix, namespace in vocab.PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    if rows:
        for triple in iter_records(output_dir, Triple, run_id=config.run_id):
            graph.add(_term(triple))
    else:
        graph += _graph_from_shards(output_dir)
        if len(graph) > config.max_triples:
            raise ValueError(f"{len(graph):,} triples exceed max_triples={config.max_triples:,}.")
    if not len(graph):
        raise ValueError(f"No triples found under {output_dir} (parquet/triples or rdf/).")
    target.parent.mkdir(parents=True, exist_ok=True)
    if config.format is ExportFormat.JSONLD:
        text = graph.serialize(format="json-ld", context=dict(vocab.PREFIXES), auto_compact=True)
        target.write_text(json.dumps(_typed_doubles(json.loads(text)), ensure_ascii=False, indent=2) + "\n", "utf-8")
    else:
        graph.serialize(target, format="turtle", encoding="utf-8")
    return {"format": config.format.value, "triples": len(graph), "paths": [str(target)]}


def _typed_doubles(node: Any) -> Any:
    """Writes every xsd:double as a typed value object, ``{"@value": "1.0", "@type": "xsd:double"}``.

    rdflib's compacted JSON-LD writes doubles as bare JSON numbers, and a JSON-LD
    processor reads a whole number such as ``1.0`` as an xsd:integer. Under an
    active context rdflib writes only xsd:double literals as JSON floats
    (integers as ints, booleans as bools), so every float here was a double.
    """
    if isinstance(node, float):
        return {"@value": format_double(node), "@type": "xsd:double"}
    if isinstance(node, list):
        return [_typed_doubles(item) for item in node]
    if isinstance(node, dict):
        return {key: value if key == "@context" else _typed_doubles(value) for key, value in node.items()}
    return node


def _export_shards(output_dir: Path, target: Path, config: ExportConfig) -> dict[str, Any]:
    base = _base_iri(output_dir, config)
    data = dataset(output_dir, Triple)
    runs = [config.run_id] if config.run_id else sorted(set(data.to_table(columns=["run_id"])["run_id"].to_pylist()))
    paths, total = [], 0
    for run_id in runs:
        graph = run_graph_iri(base, run_id) if config.format is ExportFormat.NQUADS else None
        with ShardWriter(target, prefix=f"run-{run_id}", shard_size=config.shard_size, compress=config.compress,
                         graph=graph) as writer:
            total += writer.write_all(iter_records(output_dir, Triple, run_id=run_id))
        paths += [str(p) for p in writer.paths]
    return {"format": config.format.value, "triples": total, "paths": paths}
