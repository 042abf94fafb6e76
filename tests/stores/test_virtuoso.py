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

STAGING = vt.STAGING_PREFIX + "run-sample"


def graph_names(config):
    return {g for (g,) in vt.sparql_select(config, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}


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


def test_failed_load_leaves_the_graph_and_no_staging(virtuoso, run_copy):
    loaded = vt.load(run_copy, virtuoso)
    shard = run_copy / "rdf" / "run-run-sample-00000.nt"
    shard.write_text(shard.read_text("utf-8") + BROKEN_LINE, "utf-8")
    with pytest.raises(StoreError, match="left unchanged") as error:
        vt.load(run_copy, virtuoso)
    assert "\n" not in str(error.value)
    assert vt.graph_size(virtuoso, GRAPH) == loaded.counts[GRAPH]
    assert vt.graph_size(virtuoso, STAGING) == 0
    assert STAGING not in graph_names(virtuoso)


def test_failed_first_load_leaves_no_graph(virtuoso, run_copy):
    vt.isql(virtuoso, f"delete from DB.DBA.RDF_QUAD where G = iri_to_id('{GRAPH}');")  # A store without the run.
    shard = run_copy / "rdf" / "run-run-sample-00000.nt"
    shard.write_text(shard.read_text("utf-8") + BROKEN_LINE, "utf-8")
    with pytest.raises(StoreError):
        vt.load(run_copy, virtuoso)
    assert vt.graph_size(virtuoso, GRAPH) == vt.graph_size(virtuoso, STAGING) == 0


def test_unreachable_server_is_one_clear_error(store_run):
    require(shutil.which("isql-vt") is not None, "Virtuoso's isql-vt is not installed")
    config = vt.VirtuosoConfig(port=1, http_port=2)
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1") as error:
        vt.load(store_run, config)
    assert "\n" not in str(error.value)
    with pytest.raises(StoreError, match="unreachable"):
        vt.sparql_select(config, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")
