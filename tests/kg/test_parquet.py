"""Tests for kg.export.parquet: schema equality and to_pylist round trips."""

import pyarrow.parquet as pq
import pytest

from kgpipe.kg.export import parquet
from kgpipe.schemas import arrow
from kgpipe.schemas.records import TermKind, Triple
from tests.kg import sample


def _triples(n):
    return [Triple(f"http://e.org/s{i}", "http://e.org/p", f"值{i}", TermKind.LITERAL,
                   language="zh" if i % 2 else None, doc_id="d" if i % 3 else None,
                   start=i if i % 3 else None, end=i + 1 if i % 3 else None, confidence=0.5, extractor="x", run_id="r1")
            for i in range(n)]


def test_triples_round_trip_with_row_groups(tmp_path):
    triples = _triples(1000)
    paths = parquet.write_records(tmp_path, triples, Triple, "r1", row_group_rows=300, file_rows=600)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "parquet/triples/run=r1/part-00000.parquet", "parquet/triples/run=r1/part-00001.parquet"]
    meta = pq.ParquetFile(paths[0]).metadata
    assert meta.num_row_groups == 2 and meta.row_group(0).column(0).compression == "ZSTD"
    assert pq.read_schema(paths[0]).remove_metadata() == arrow.TRIPLE.remove_metadata()
    table = parquet.read_table(tmp_path, Triple)
    assert table.to_pylist() == [arrow.to_row(t, "r1") for t in triples]
    assert list(parquet.iter_records(tmp_path, Triple, batch_rows=7)) == triples


def test_matches_schemas_to_table_for_every_record_type(tmp_path):
    mentions, links = sample.mentions_and_links()["news-1"]
    for records in (sample.DOCUMENTS, mentions, links):
        record_type = type(records[0])
        parquet.write_records(tmp_path, records, record_type, "r1")
        got = parquet.read_table(tmp_path, record_type)
        assert got.to_pylist() == arrow.to_table(list(records), "r1").to_pylist()
        assert [arrow.from_row(record_type, r) for r in got.to_pylist()] == list(records)


def test_runs_partition_and_filter(tmp_path):
    parquet.write_records(tmp_path, _triples(3), Triple, "r1")
    parquet.write_records(tmp_path, _triples(2), Triple, "r2")
    assert parquet.read_table(tmp_path, Triple).num_rows == 5
    assert parquet.read_table(tmp_path, Triple, run_id="r2").num_rows == 2
    assert parquet.read_table(tmp_path / "nothing", Triple).num_rows == 0


def test_columns_to_table_is_to_table_of_the_records():
    triples = _triples(50)
    columns = {name: [getattr(t, name) for t in triples] for name in Triple.__dataclass_fields__}
    assert arrow.columns_to_table(Triple, columns, "r2").equals(arrow.to_table(triples, "r2"))
    assert arrow.columns_to_table(Triple, {k: [] for k in columns}, "r2").num_rows == 0
    with pytest.raises(ValueError, match=r"Missing: \['confidence'\], unknown: \['score'\]"):
        arrow.columns_to_table(Triple, {**{k: v for k, v in columns.items() if k != "confidence"}, "score": []}, "r")
    with pytest.raises(ValueError, match="equal lengths"):
        arrow.columns_to_table(Triple, {**columns, "subject": columns["subject"][:-1]}, "r")
