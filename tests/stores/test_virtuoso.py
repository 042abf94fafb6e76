"""Virtuoso 7 (Debian package) on a loopback port with a temporary database: same answers as Oxigraph."""

import shutil

import pytest

from kgpipe.kg.stores import oxigraph
from kgpipe.kg.stores import virtuoso as vt
from kgpipe.kg.stores.runs import StoreError
from tests.stores.questions import SPARQL, normalise
from tests.stores.conftest import BROKEN_LINE, require
from tests.stores.test_oxigraph import GRAPH, ask

pytestmark = pytest.mark.slow  # Starts a server (~5 s).

def test_same_answers_as_oxigraph_and_reload_does_not_duplicate(virtuoso, store_run, tmp_path):
    first = vt.load(store_run, virtuoso)
    second = vt.load(store_run, virtuoso)
    reference = oxigraph.load(store_run, oxigraph.OxigraphConfig(str(tmp_path / "ox")))
    assert first.counts == second.counts == reference.counts
    assert first.runs == {"run-sample": GRAPH}
    for name, query in SPARQL.items():
        answer = normalise(vt.sparql_select(virtuoso, query, default_graph=GRAPH))
        assert answer, name
        assert answer == ask(tmp_path / "ox", query), name


def test_bad_shard_fails_before_the_store_is_touched(virtuoso, run_copy):
    loaded = vt.load(run_copy, virtuoso)
    shard = run_copy / "rdf" / "run-run-sample-00000.nt"
    shard.write_text(shard.read_text("utf-8") + BROKEN_LINE, "utf-8")
    with pytest.raises(StoreError, match="left unchanged") as error:
        vt.load(run_copy, virtuoso)
    assert "\n" not in str(error.value)
    assert vt.graph_size(virtuoso, GRAPH) == loaded.counts[GRAPH]


def test_loader_failing_midway_deletes_the_run_graph(virtuoso, run_copy, monkeypatch):
    vt.load(run_copy, virtuoso)
    shard = run_copy / "rdf" / "run-run-sample-00000.nt"
    shard.write_text(shard.read_text("utf-8") + BROKEN_LINE, "utf-8")
    monkeypatch.setattr(vt, "check_shards", lambda run, store: 0)  # Let Virtuoso's own loader meet the bad line.
    with pytest.raises(StoreError, match="SP029.*was deleted, not left half-loaded") as error:
        vt.load(run_copy, virtuoso)
    assert "\n" not in str(error.value)
    assert vt.graph_size(virtuoso, GRAPH) == 0


def test_unreachable_server_is_one_clear_error(store_run):
    require(shutil.which("isql-vt") is not None, "Virtuoso's isql-vt is not installed")
    config = vt.VirtuosoConfig(port=1, http_port=2)
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1") as error:
        vt.load(store_run, config)
    assert "\n" not in str(error.value)
    with pytest.raises(StoreError, match="unreachable"):
        vt.sparql_select(config, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")
