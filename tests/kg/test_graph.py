"""Tests for kg.graph on a known small graph."""

import json

import pytest

from kgpipe.kg import iri
from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.parquet import write_records
from kgpipe.kg.graph import GraphStatsConfig, format_stats, graph_stats, write_stats
from kgpipe.schemas.records import Entity, TermKind, Triple
from kgpipe.schemas.vocab import DEFAULT_BASE_IRI, KGP

A, B, C, D = (iri.entity_iri(DEFAULT_BASE_IRI, k) for k in "ABCD")


@pytest.fixture
def known_run(tmp_path):
    """A-B co-occur (2 sentences in run 1, 1 in run 2), C has brand B, D is alone; A is mentioned twice."""
    for run_id, count in (("r1", 2), ("r2", 1)):
        b = TripleBuilder(BuilderConfig(run_id))
        triples = [t for e, types in ((A, "Person"), (B, "品牌"), (C, "产品"), (D, "Person"))
                   for t in b.entity_triples(Entity(e.rsplit("/", 1)[1], f"名{e[-1]}", types=(types,)))]
        triples += b.cooccurrence_triples((A, B), count)
        if run_id == "r1":
            triples.append(Triple(C, str(KGP.brand), B, TermKind.IRI, run_id=run_id))
            triples += [Triple(f"{DEFAULT_BASE_IRI}doc/d#char={i},{i + 1}", str(KGP.refersTo), A, TermKind.IRI)
                        for i in range(2)]
        write_records(tmp_path, triples, Triple, run_id)
    return tmp_path


def test_stats_of_known_graph(known_run, tmp_path):
    stats = graph_stats(known_run)
    eg = stats["entity_graph"]
    assert (eg["nodes"], eg["edges"], eg["components"], eg["largest_components"], eg["isolated_nodes"]) == \
        (4, 2, 2, [3, 1], 1)
    assert stats["runs"] == ["r1", "r2"]
    assert {r["name"]: r["count"] for r in eg["edges_by_relation"]} == {"kgp:coOccursWith": 1, "kgp:brand": 1}
    assert stats["degree"]["distribution"] == [{"degree": 0, "nodes": 1}, {"degree": 1, "nodes": 2},
                                               {"degree": 2, "nodes": 1}]
    types = {r["name"]: r["count"] for r in stats["nodes_by_type"]}
    assert types["kgp:Person"] == 2 and types["kgp:Brand"] == 1 and types["kgp:Cooccurrence"] == 2
    top = stats["pagerank_top"]
    assert top[0]["iri"] == B and top[0]["label"] == "名B" and top[0]["degree"] == 2
    assert top[-1]["iri"] == D  # the isolated node ranks last
    # Co-occurrence weight is summed over runs (2 + 1), so A outranks C, whose brand edge weighs 1.
    rank = {r["iri"]: r["pagerank"] for r in top}
    assert rank[A] > rank[C]
    assert {r["iri"]: r["mentions"] for r in top}[A] == 2
    assert abs(sum(rank.values()) - 1.0) < 1e-6
    text = format_stats(stats)
    assert "Top entities by PageRank" in text and "名B" in text
    write_stats(stats, tmp_path / "stats.json")
    assert json.loads((tmp_path / "stats.json").read_text("utf-8"))["entity_graph"]["edges"] == 2


def test_run_filter_and_top(known_run):
    stats = graph_stats(known_run, GraphStatsConfig(top=2, run_id="r2"))
    assert stats["runs"] == ["r2"] and len(stats["pagerank_top"]) == 2
    assert stats["entity_graph"]["edges"] == 1  # no brand edge in run 2


def test_empty_directory(tmp_path):
    stats = graph_stats(tmp_path)
    assert stats["triples"] == 0 and stats["entity_graph"]["nodes"] == 0


def test_config_echoes_bad_values():
    with pytest.raises(ValueError, match="top=0"):
        GraphStatsConfig(top=0)
