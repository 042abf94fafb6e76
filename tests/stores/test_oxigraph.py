"""Oxigraph: one named graph per run, reload replaces, a failed load leaves the graph as it was."""

import pyoxigraph as ox
import pytest

from kgpipe.kg.stores import oxigraph
from kgpipe.kg.stores.runs import StoreError, find_runs
from tests.stores.conftest import BROKEN_LINE, RUN_ID
from tests.stores.questions import SPARQL, normalise

GRAPH = "https://w3id.org/kgpipe/resource/graph/run-sample"


def ask(db, query, graph=GRAPH):
    store = ox.Store.read_only(str(db))
    return normalise(tuple(t.value for t in row) for row in store.query(query, default_graph=ox.NamedNode(graph)))


def graphs(db):
    return sorted(g.value for g in ox.Store.read_only(str(db)).named_graphs())


def test_find_runs_names_the_run_graph_and_shards(store_run):
    (run,) = find_runs(store_run)
    assert (run.run_id, run.graph_iri) == (RUN_ID, GRAPH)
    assert [p.name for p in run.paths] == ["run-run-sample-00000.nt"]
    with pytest.raises(StoreError, match="not a run of"):
        find_runs(store_run, "run-other")


def test_load_answers_the_questions_and_reload_replaces(store_run, tmp_path):
    db = tmp_path / "ox"
    first = oxigraph.load(store_run, oxigraph.OxigraphConfig(str(db)))
    second = oxigraph.load(store_run, oxigraph.OxigraphConfig(str(db)))
    assert first.counts == second.counts == {GRAPH: first.rows}
    assert first.rows > 300
    assert graphs(db) == [GRAPH]
    assert ask(db, SPARQL["brands"]) == [("华为", "手机"), ("小米", "充电宝")]
    assert ask(db, SPARQL["orgs_people"]) == [("腾讯", "马化腾", "1"), ("阿里巴巴", "马云", "1")]
    assert ask(db, SPARQL["orgs_people_by_statement"]) == ask(db, SPARQL["orgs_people"])


def test_failed_load_leaves_the_earlier_graph(run_copy, tmp_path):
    db = tmp_path / "ox"
    loaded = oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(db)))
    shard = run_copy / "rdf" / "run-run-sample-00000.nt"
    shard.write_text(shard.read_text("utf-8") + BROKEN_LINE, "utf-8")
    with pytest.raises(StoreError, match="left unchanged"):
        oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(db)))
    store = ox.Store.read_only(str(db))
    assert oxigraph.graph_size(store, GRAPH) == loaded.rows
    assert graphs(db) == [GRAPH]


def test_bulk_load_failing_midway_removes_the_run_graph(run_copy, tmp_path, monkeypatch):
    db = tmp_path / "ox"
    oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(db)))
    real = oxigraph._bulk_load

    def half_then_fail(store, path, graph):
        real(store, path, graph)
        raise OSError("No space left on device")

    monkeypatch.setattr(oxigraph, "_bulk_load", half_then_fail)
    with pytest.raises(StoreError, match="removed, not left half-loaded"):
        oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(db)))
    assert graphs(db) == []


def test_failed_first_load_leaves_no_graph(run_copy, tmp_path):
    shard = run_copy / "rdf" / "run-run-sample-00000.nt"
    shard.write_text(shard.read_text("utf-8") + BROKEN_LINE, "utf-8")
    with pytest.raises(StoreError):
        oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(tmp_path / "ox")))
    assert graphs(tmp_path / "ox") == []


def test_two_runs_in_one_directory_get_two_graphs(run_copy, tmp_path):
    from kgpipe.kg.builder import BuilderConfig
    from kgpipe.kg.local import write_run
    from tests.kg import sample

    write_run(run_copy, BuilderConfig("run-second", extractor=sample.EXTRACTOR), sample.DOCUMENTS[:1],
              sample.mentions_and_links(), sample.ENTITIES)
    second = GRAPH.replace("run-sample", "run-second")
    result = oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(tmp_path / "ox")))
    assert set(result.runs) == {"run-sample", "run-second"}
    assert graphs(tmp_path / "ox") == [GRAPH, second]
    assert 0 < result.counts[second] < result.counts[GRAPH]
    only = oxigraph.load(run_copy, oxigraph.OxigraphConfig(str(tmp_path / "ox2")), run_id="run-second")
    assert list(only.counts) == [second]
