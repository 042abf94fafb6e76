"""Property-graph tables from Parquet: relationship types come from predicates, learned relations included."""

import pyarrow as pa
import pyarrow.parquet as pq

from kgpipe.kg.export.parquet import table_dir
from kgpipe.kg.stores.tables import build_tables, relationship_type
from kgpipe.schemas import arrow
from kgpipe.schemas.records import TermKind, Triple

E1, E2 = "https://w3id.org/kgpipe/resource/entity/E1", "https://w3id.org/kgpipe/resource/entity/E2"


def test_relationship_type_from_the_predicate_local_name():
    assert relationship_type("https://w3id.org/kgpipe/ontology#coOccursWith") == "CO_OCCURS_WITH"
    assert relationship_type("https://w3id.org/kgpipe/ontology#brand") == "BRAND"
    assert relationship_type("http://schema.org/founder") == "FOUNDER"
    assert relationship_type("http://example.org/rel/2024-award") == "REL_2024_AWARD"
    assert relationship_type("http://example.org/rel/创始人").startswith("REL_")
    assert relationship_type("http://example.org/refersTo") == "REL_REFERS_TO"  # Not the mention link.


def add_triples(run_dir, triples):
    """Appends triples to the run's triples table (a learned relation arriving later)."""
    (path,) = table_dir(run_dir, Triple).rglob("*.parquet")
    table = pq.read_table(path)
    extra = arrow.to_table(triples, "run-sample").select(table.column_names).cast(table.schema)

    pq.write_table(pa.concat_tables([table, extra]), path)


def test_learned_relations_get_their_own_type(run_copy):
    founded = "http://example.org/relation#foundedBy"
    add_triples(run_copy, [
        Triple(E2, founded, E1, TermKind.IRI, None, None, "news-1", 0, 9, 0.7, "re", "run-sample"),
        Triple(E2, founded, E1, TermKind.IRI, None, None, "news-1", 0, 9, 0.9, "re", "run-sample"),
        Triple(E2, founded, "not an entity", TermKind.LITERAL, None, None, "news-1", 0, 9, 0.9, "re", "run-sample"),
    ])
    tables = build_tables(run_copy)
    assert set(tables.relations) == {"BRAND", "CO_OCCURS_WITH", "FOUNDED_BY"}
    (row,) = tables.relations["FOUNDED_BY"].to_pylist()
    assert (row["from"], row["to"], row["predicate"], row["count"], row["confidence"]) == (E2, E1, founded, 2, 0.9)


def test_cooccurrence_count_is_the_sentence_count(store_run):
    rows = build_tables(store_run).relations["CO_OCCURS_WITH"].to_pylist()
    pair = [r for r in rows if {r["from"], r["to"]} == {E1, E2}]
    assert [r["count"] for r in pair] == [1]  # 马云 and 阿里巴巴 share one sentence.


def test_mention_and_document_iris_match_the_rdf(store_run):
    from kgpipe.kg import iri as iris

    tables = build_tables(store_run)
    base = "https://w3id.org/kgpipe/resource/"
    for row in tables.mentions.to_pylist():
        assert row["iri"] == iris.mention_iri(base, row["doc_id"], row["start_offset"], row["end_offset"])
    documents = set(tables.documents["iri"].to_pylist())
    assert set(tables.in_document["to"].to_pylist()) <= documents
    assert len(tables.refers_to) == len(tables.mentions) == 12
