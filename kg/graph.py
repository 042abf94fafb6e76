"""Graph analytics over a run's triples Parquet (``kgpipe graph stats DIR``).

Two views of the same triples:

* the RDF graph: node counts by ``rdf:type`` and statement counts by
  predicate (IRI-valued statements are edges, literal-valued ones attributes);
* the entity graph: an undirected networkx graph whose nodes are entities
  (anything typed with a subclass of ``kgp:Entity``, or referred to by a
  mention) and whose edges are entity-to-entity statements (co-occurrence,
  brand, learned relations). Co-occurrence edges weigh the number of
  sentences, summed over runs; other edges the number of supporting rows.
  Components, the degree distribution and weighted PageRank come from it.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import statistics
import unicodedata
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import rdflib

from kgpipe.kg.export.parquet import read_table
from kgpipe.schemas import vocab
from kgpipe.schemas.records import Triple
from kgpipe.schemas.vocab import KGP, NIF, PROV, RDF, RDFS

_RDF_TYPE, _LABEL = str(RDF.type), str(RDFS.label)
# IRI-valued predicates that tie evidence (mentions, documents, runs, statements) together,
# not entities to each other.
_EVIDENCE = {str(p) for p in (RDF.type, KGP.refersTo, NIF.referenceContext, PROV.wasGeneratedBy, KGP.inRun,
                              RDF.subject, RDF.predicate, RDF.object)}
_COLUMNS = ["subject", "predicate", "object", "object_kind", "language", "run_id"]


@dataclasses.dataclass(frozen=True)
class GraphStatsConfig:
    """Options of ``graph_stats``.

    Attributes:
        top: How many entities to list by PageRank.
        run_id: Only this run's triples (default: all runs in the directory).
        language: Preferred label language.
    """

    top: int = 20
    run_id: str | None = None
    language: str = "zh"

    def __post_init__(self) -> None:
        if not isinstance(self.top, int) or self.top < 1:
            raise ValueError(f"`top` must be a positive integer. Received: top={self.top!r}")


def _entity_classes() -> set[str]:
    ontology = rdflib.Graph().parse(data=vocab.ontology_text(), format="turtle")
    return {str(KGP.Entity)} | {str(c) for c in ontology.transitive_subjects(RDFS.subClassOf, KGP.Entity)}


def short_name(iri: str) -> str:
    """Returns ``prefix:local`` for IRIs in a known namespace, else the IRI."""
    for prefix, namespace in vocab.PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _rows(table: pa.Table, predicate: str, iri_objects: bool | None = None) -> list[dict[str, Any]]:
    mask = pc.equal(table["predicate"], predicate)
    if iri_objects is not None:
        mask = pc.and_(mask, pc.equal(table["object_kind"], "iri" if iri_objects else "literal"))
    return table.filter(mask).to_pylist()


@dataclasses.dataclass
class EntityGraph:
    """The entity graph and what is known of its nodes."""

    graph: nx.Graph
    types: dict[str, list[str]]
    labels: dict[str, str]
    mentions: collections.Counter
    _rank: dict[str, float] | None = None

    @property
    def rank(self) -> dict[str, float]:
        """Weighted PageRank of every entity (uniform when there are no edges)."""
        if self._rank is None:
            g = self.graph
            self._rank = nx.pagerank(g, weight="weight") if g.number_of_edges() else {n: 1 / len(g) for n in g}
        return self._rank

    def label(self, node: str) -> str:
        return self.labels.get(node, node.rsplit("/", 1)[-1])


def load(output_dir: str | Path, config: GraphStatsConfig | None = None) -> tuple[pa.Table, EntityGraph]:
    """Reads the triples table and builds the entity graph."""
    config = config or GraphStatsConfig()
    table = read_table(output_dir, Triple, run_id=config.run_id, columns=_COLUMNS)
    entity_classes = _entity_classes()
    types: dict[str, set[str]] = collections.defaultdict(set)
    for row in _rows(table, _RDF_TYPE, iri_objects=True):
        types[row["subject"]].add(row["object"])
    entities = {s for s, ts in types.items() if ts & entity_classes}
    mentions: collections.Counter = collections.Counter()
    for row in _rows(table, str(KGP.refersTo), iri_objects=True):
        mentions[row["object"]] += 1
    entities |= set(mentions)
    labels: dict[str, str] = {}
    for row in sorted(_rows(table, _LABEL, iri_objects=False),
                      key=lambda r: (r["language"] != config.language, r["language"] or "", r["object"])):
        labels.setdefault(row["subject"], row["object"])
    graph = nx.Graph()
    graph.add_nodes_from(sorted(entities))
    _add_relation_edges(table, graph, entities)
    _add_cooccurrence_weights(table, graph)
    return table, EntityGraph(graph, {e: sorted(types.get(e, ())) for e in entities}, labels, mentions)


def _add_relation_edges(table: pa.Table, graph: nx.Graph, entities: set[str]) -> None:
    iri_rows = table.filter(pc.equal(table["object_kind"], "iri"))
    for predicate in sorted(set(iri_rows["predicate"].to_pylist()) - _EVIDENCE):
        for row in _rows(iri_rows, predicate):
            a, b = row["subject"], row["object"]
            if a in entities and b in entities and a != b:
                data = graph.get_edge_data(a, b) or {"weight": 0, "relations": set()}
                data["relations"].add(short_name(predicate))
                if predicate != str(KGP.coOccursWith):
                    data["weight"] += 1
                graph.add_edge(a, b, **data)


def _add_cooccurrence_weights(table: pa.Table, graph: nx.Graph) -> None:
    ends: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for predicate, key in ((RDF.subject, "a"), (RDF.object, "b")):
        for row in _rows(table, str(predicate), iri_objects=True):
            ends[row["subject"]][key] = row["object"]
    for row in _rows(table, str(KGP.cooccurrenceCount), iri_objects=False):
        pair = ends.get(row["subject"], {})
        a, b = pair.get("a"), pair.get("b")
        if a and b and graph.has_edge(a, b):
            graph[a][b]["weight"] += int(row["object"])
    for _, _, data in graph.edges(data=True):
        data["weight"] = max(data["weight"], 1)


def _counts(values: list[str]) -> list[dict[str, Any]]:
    counter = collections.Counter(values)
    return [{"name": short_name(k), "iri": k, "count": n} for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


def graph_stats(output_dir: str | Path, config: GraphStatsConfig | None = None) -> dict[str, Any]:
    """Returns the statistics ``kgpipe graph stats`` prints, as a JSON-friendly dict."""
    config = config or GraphStatsConfig()
    table, eg = load(output_dir, config)
    return summarize(output_dir, table, eg, config)


def summarize(output_dir: str | Path, table: pa.Table, eg: EntityGraph, config: GraphStatsConfig) -> dict[str, Any]:
    """Returns the statistics of an already loaded triples table and entity graph."""
    g = eg.graph
    typed = _rows(table, _RDF_TYPE, iri_objects=True)
    node_types = _counts([row["object"] for row in {(r["subject"], r["object"]): r for r in typed}.values()])
    iri_predicates = table.filter(pc.equal(table["object_kind"], "iri"))["predicate"].to_pylist()
    literal_predicates = table.filter(pc.equal(table["object_kind"], "literal"))["predicate"].to_pylist()
    components = sorted((len(c) for c in nx.connected_components(g)), reverse=True)
    degrees = [d for _, d in g.degree()]
    rank = eg.rank
    top = sorted(rank, key=lambda n: (-rank[n], n))[: config.top]
    relations = collections.Counter(r for _, _, d in g.edges(data=True) for r in d.get("relations", ()))
    return {
        "output_dir": str(output_dir),
        "runs": sorted(set(table["run_id"].to_pylist())),
        "triples": table.num_rows,
        "subjects": len(set(table["subject"].to_pylist())),
        "nodes_by_type": node_types,
        "edges_by_predicate": _counts(iri_predicates),
        "attributes_by_predicate": _counts(literal_predicates),
        "entity_graph": {
            "nodes": g.number_of_nodes(),
            "edges": g.number_of_edges(),
            "edges_by_relation": [{"name": k, "count": n} for k, n in sorted(relations.items(), key=lambda kv: (-kv[1], kv[0]))],
            "components": len(components),
            "largest_components": components[:10],
            "isolated_nodes": sum(1 for c in components if c == 1),
            "density": nx.density(g) if len(g) > 1 else 0.0,
        },
        "degree": {
            "distribution": [{"degree": d, "nodes": n} for d, n in sorted(collections.Counter(degrees).items())],
            "min": min(degrees, default=0),
            "median": statistics.median(degrees) if degrees else 0,
            "mean": statistics.fmean(degrees) if degrees else 0.0,
            "max": max(degrees, default=0),
        },
        "pagerank_top": [
            {"iri": n, "label": eg.label(n), "types": [short_name(t) for t in eg.types.get(n, [])],
             "pagerank": rank[n], "degree": g.degree(n), "mentions": eg.mentions.get(n, 0)}
            for n in top
        ],
    }


def _width(text: str) -> int:
    """Terminal columns of ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = lambda row: "  " + "  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]


def format_stats(stats: dict[str, Any]) -> str:
    """Returns the statistics as plain-text tables."""
    eg, deg = stats["entity_graph"], stats["degree"]
    out = [f"kgpipe graph stats {stats['output_dir']}",
           f"  runs: {', '.join(stats['runs']) or '-'}",
           f"  triples: {stats['triples']:,}   subjects: {stats['subjects']:,}",
           f"  entity graph: {eg['nodes']:,} nodes, {eg['edges']:,} edges, {eg['components']:,} components "
           f"(largest {eg['largest_components'][:5]}), {eg['isolated_nodes']:,} isolated, density {eg['density']:.4f}",
           f"  degree: min {deg['min']}, median {deg['median']}, mean {deg['mean']:.2f}, max {deg['max']}", "",
           "Nodes by type"]
    out += _table(["type", "nodes"], [[r["name"], f"{r['count']:,}"] for r in stats["nodes_by_type"]])
    out += ["", "Edges (IRI-valued statements) by predicate"]
    out += _table(["predicate", "statements"], [[r["name"], f"{r['count']:,}"] for r in stats["edges_by_predicate"]])
    out += ["", "Entity graph edges by relation"]
    out += _table(["relation", "edges"], [[r["name"], f"{r['count']:,}"] for r in eg["edges_by_relation"]])
    out += ["", "Degree distribution (entity graph)"]
    out += _table(["degree", "nodes"], [[r["degree"], f"{r['nodes']:,}"] for r in deg["distribution"]])
    out += ["", "Top entities by PageRank"]
    out += _table(["#", "entity", "types", "pagerank", "degree", "mentions"],
                  [[i + 1, r["label"], ",".join(r["types"]), f"{r['pagerank']:.4f}", r["degree"], r["mentions"]]
                   for i, r in enumerate(stats["pagerank_top"])])
    return "\n".join(out) + "\n"


def write_stats(stats: dict[str, Any], path: str | Path) -> None:
    """Writes the statistics as JSON."""
    Path(path).write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n", "utf-8")
