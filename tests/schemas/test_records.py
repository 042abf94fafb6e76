"""Records validate their invariants and round-trip through their Arrow schemas."""

import pyarrow as pa
import pytest

from kgpipe.schemas import arrow
from kgpipe.schemas.records import Candidate, DeadLetter, Document, Entity, Link, Mention, TermKind, Triple, to_dict

RECORDS = [
    Document("d1", "华为在深圳。", "in.jsonl:1", "zh", {"kind": "news"}),
    Mention("d1", 0, 2, "华为", "ORG", 0.97, "m@1"),
    Link("d1", 0, 2, "华为", "ORG", "Q1", 0.8, (Candidate("Q1", 0.8), Candidate("Q2", 0.1)),
         None, "华为", ("Organization",), "kb@1"),
    Link("d1", 3, 5, "深圳", "LOC", None, 0.2, (), "LOC|深圳", None, (), "kb@1"),
    Triple("https://e/s", "https://e/p", "深圳", TermKind.LITERAL, language="zh", doc_id="d1", start=3,
           end=5, confidence=0.5, extractor="x", run_id="r1"),
    Triple("https://e/s", "https://e/p", "https://e/o", TermKind.IRI, run_id="r1"),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip_through_arrow(record):
    table = arrow.to_table([record], "r1")
    assert table.schema.equals(arrow.schema_for(type(record)))
    [row] = table.to_pylist()
    assert row["run_id"] == "r1"
    assert arrow.from_row(type(record), row) == record


def test_column_wise_table_equals_row_wise_table():
    links = [r for r in RECORDS if isinstance(r, Link)]
    by_rows = pa.Table.from_pylist([arrow.to_row(r, "r1") for r in links], schema=arrow.LINK)
    assert arrow.to_table(links, "r1").equals(by_rows)


def test_mention_text_must_match_its_span():
    with pytest.raises(ValueError, match="text must span"):
        Mention("d", 0, 3, "华为", "ORG", 0.5, "m")
    with pytest.raises(ValueError, match="0 <= start < end"):
        Mention("d", 2, 2, "", "ORG", 0.5, "m")


def test_link_is_either_linked_or_nil():
    with pytest.raises(ValueError, match="exactly one of entity_id"):
        Link("d", 0, 2, "华为", "ORG", "Q1", 0.9, nil_key="ORG|华为")
    with pytest.raises(ValueError, match="exactly one of entity_id"):
        Link("d", 0, 2, "华为", "ORG", None, 0.1)
    assert Link("d", 0, 2, "华为", "ORG", None, 0.1, nil_key="ORG|华为").is_nil


def test_triple_object_kinds_are_checked():
    with pytest.raises(ValueError, match="IRI object takes no datatype"):
        Triple("https://e/s", "https://e/p", "https://e/o", TermKind.IRI, language="zh")
    with pytest.raises(ValueError, match="not both"):
        Triple("https://e/s", "https://e/p", "1", TermKind.LITERAL, datatype="xsd:int", language="zh")
    assert Triple("https://e/s", "https://e/p", "x", "literal").object_kind is TermKind.LITERAL


def test_entity_and_dead_letter_validation_and_dicts():
    with pytest.raises(ValueError, match="prior must be in"):
        Entity("Q1", "华为", prior=1.5)
    assert to_dict(RECORDS[4])["object_kind"] == "literal"
    assert to_dict(DeadLetter("f:1", "read", "bad"))["payload"] == ""


def test_unknown_record_type_has_no_schema():
    with pytest.raises(TypeError, match="No Arrow schema"):
        arrow.schema_for(Entity)


def test_one_converter_for_tables_and_rows():
    # kg.export.parquet writes through schemas.arrow.to_table: one rule, one schema.
    from kgpipe.kg.export.parquet import records_to_table

    links = [r for r in RECORDS if isinstance(r, Link)]
    assert records_to_table(links, "r1").equals(arrow.to_table(links, "r1"))
    assert arrow.to_table([], "r1", Link).schema.equals(arrow.LINK)
    with pytest.raises(TypeError, match="one type"):
        arrow.to_table([RECORDS[0], RECORDS[1]], "r1")
