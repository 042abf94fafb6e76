"""LadybugDB (embedded property graph): the README's questions in Cypher give Oxigraph's answers."""

import pyarrow as pa
import pytest

from kgpipe.kg.stores import oxigraph
from kgpipe.kg.stores.runs import StoreError
from kgpipe.kg.stores import tables as graph_tables
from tests.stores.conftest import require
from tests.stores.questions import CYPHER, SPARQL, normalise
from tests.stores.test_oxigraph import ask

try:
    from kgpipe.kg.stores import ladybug
    import real_ladybug  # noqa: F401
except ImportError:  # pragma: no cover - setup.py installs it
    real_ladybug = None


@pytest.fixture
def loaded(store_run, tmp_path):
    require(real_ladybug is not None, "real_ladybug (LadybugDB) is not installed")
    db = tmp_path / "kg.lbug"
    return ladybug.load(store_run, ladybug.LadybugConfig(str(db))), db


def test_cypher_answers_equal_sparql_answers(loaded, store_run, tmp_path):
    _, db = loaded
    oxigraph.load(store_run, oxigraph.OxigraphConfig(str(tmp_path / "ox")))
    for name in CYPHER:
        answer = sorted(set(normalise(ladybug.cypher(db, CYPHER[name]))))
        assert answer, name
        assert answer == sorted(set(ask(tmp_path / "ox", SPARQL[name]))), name


def test_schema_holds_entities_documents_mentions_and_typed_relationships(loaded):
    result, db = loaded
    assert result.counts == {"BRAND": 2, "CO_OCCURS_WITH": 13, "Document": 3, "Entity": 11, "IN_DOCUMENT": 12,
                             "Mention": 12, "REFERS_TO": 12}
    rows = ladybug.cypher(db, "MATCH (e:Entity) WHERE e.kb_id = 'E1' RETURN e.name, e.types, e.aliases, e.minted")
    assert rows == [("马云", ["Person"], ["Jack Ma"], False)]
    minted = ladybug.cypher(db, "MATCH (e:Entity) WHERE e.minted RETURN e.name ORDER BY e.name")
    assert [r[0] for r in minted] == ["充电宝", "小米", "张勇", "手机"]
    # Every mention points into its document's text.
    for surface, text, start, end in ladybug.cypher(
            db, "MATCH (m:Mention)-[:IN_DOCUMENT]->(d:Document) RETURN m.text, d.text, m.start_offset, m.end_offset"):
        assert text[start:end] == surface


def test_reload_replaces_instead_of_duplicating(loaded, store_run):
    first, db = loaded
    second = ladybug.load(store_run, ladybug.LadybugConfig(str(db)))
    assert second.counts == first.counts == ladybug.table_counts(db)


def test_failed_load_leaves_the_earlier_database(loaded, store_run, monkeypatch):
    first, db = loaded
    good = graph_tables.build_tables(store_run)
    dangling = pa.Table.from_pylist([{"from": "urn:missing", "to": "urn:missing-too", "predicate": "urn:p", "count": 1,
                                      "confidence": 1.0, "run_id": "run-sample"}], schema=graph_tables.RELATION_SCHEMA)
    broken = graph_tables.GraphTables(good.entities, good.documents, good.mentions, good.in_document, good.refers_to,
                                      {**good.relations, "BROKEN": dangling})
    monkeypatch.setattr(ladybug, "build_tables", lambda *args, **kwargs: broken)
    with pytest.raises(StoreError, match="left unchanged") as error:
        ladybug.load(store_run, ladybug.LadybugConfig(str(db)))
    assert "\n" not in str(error.value)
    assert ladybug.table_counts(db) == first.counts
    assert sorted(p.name for p in db.parent.iterdir()) == ["kg.lbug"]  # No staging database or scratch left.


def test_missing_database_is_one_clear_error(tmp_path):
    require(real_ladybug is not None, "real_ladybug (LadybugDB) is not installed")
    with pytest.raises(StoreError, match="no database at"):
        ladybug.cypher(tmp_path / "none.lbug", "MATCH (n) RETURN n")
