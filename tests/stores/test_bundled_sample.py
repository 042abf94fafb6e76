"""The bundled sample corpus (real linker output, pipeline/sample) in all three stores: the same answers."""

import pytest

from kgpipe.kg.stores import oxigraph
from kgpipe.kg.stores import virtuoso as vt
from kgpipe.kg.stores.runs import find_runs
from tests.stores.conftest import require
from tests.stores.questions import CYPHER, SPARQL, normalise
from tests.stores.test_oxigraph import ask

pytestmark = pytest.mark.slow


def test_all_stores_answer_alike(linked_sample_run, virtuoso, tmp_path):  # noqa: F811
    try:
        from kgpipe.kg.stores import ladybug
        import real_ladybug  # noqa: F401
    except ImportError:
        require(False, "real_ladybug (LadybugDB) is not installed")
    (run,) = find_runs(linked_sample_run)
    oxigraph.load(linked_sample_run, oxigraph.OxigraphConfig(str(tmp_path / "ox")))
    vt.load(linked_sample_run, virtuoso)
    ladybug.load(linked_sample_run, ladybug.LadybugConfig(str(tmp_path / "kg.lbug")))
    for name in ("brands", "orgs_people"):
        expected = ask(tmp_path / "ox", SPARQL[name], run.graph_iri)
        assert expected, name
        assert normalise(vt.sparql_select(virtuoso, SPARQL[name], default_graph=run.graph_iri)) == expected, name
        assert sorted(set(normalise(ladybug.cypher(tmp_path / "kg.lbug", CYPHER[name])))) == sorted(set(expected)), name
    brands = set(ask(tmp_path / "ox", SPARQL["brands"], run.graph_iri))
    assert any(b.startswith("苹果") and p == "iPhone" for b, p in brands)
    pairs = {row[:2] for row in ask(tmp_path / "ox", SPARQL["orgs_people"], run.graph_iri)}
    assert any(org.startswith("腾讯") and person == "马化腾" for org, person in pairs)
