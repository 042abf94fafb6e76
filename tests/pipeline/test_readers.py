import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.readers import InputFormat, document_from_fields, read_documents
from schemas.records import DeadLetter, Document


def _read(data: bytes, name: str, **kwargs):
    return list(read_documents(io.BytesIO(data), f"/in/{name}", **kwargs))


def test_jsonl_keeps_id_text_language_and_metadata():
    line = json.dumps({"id": "a1", "text": "华为发布新机", "lang": "zh-Hans", "tags": ["x"], "n": 3}, ensure_ascii=False)
    [doc] = _read(line.encode() + b"\n", "docs.jsonl")
    assert doc == Document("a1", "华为发布新机", "docs.jsonl:1", "zh-Hans", {"tags": '["x"]', "n": "3"})


def test_jsonl_bad_records_become_dead_letters_with_line_numbers():
    data = b'{"id": "ok", "text": "fine"}\n{not json}\n[1, 2]\n{"id": "x"}\n\n{"text": 5}\n'
    records = _read(data, "docs.jsonl")
    assert isinstance(records[0], Document)
    dead = records[1:]
    assert all(isinstance(d, DeadLetter) and d.stage == "read" for d in dead)
    assert [d.input_ref for d in dead] == ["docs.jsonl:2", "docs.jsonl:3", "docs.jsonl:4", "docs.jsonl:6"]
    assert "invalid JSON" in dead[0].error
    assert "expected a JSON object" in dead[1].error
    assert "no text field" in dead[2].error
    assert "must be a string" in dead[3].error


def test_invalid_utf8_is_a_dead_letter_not_a_crash():
    records = _read(b"good line\n\xff\xfe bad\n", "plain.txt")
    assert isinstance(records[0], Document) and records[0].id == "plain.txt:1"
    assert isinstance(records[1], DeadLetter) and "not UTF-8" in records[1].error


def test_plain_text_one_document_per_line_skipping_blank_lines():
    docs = _read("第一行\n\n  \n第二行\r\n".encode(), "t.txt")
    assert [(d.id, d.text) for d in docs] == [("t.txt:1", "第一行"), ("t.txt:4", "第二行")]


def test_tsv_with_header_without_header_and_with_named_columns():
    with_header = _read("id\tcategory\ttext\nd1\t体育\t湖人获胜\n".encode(), "h.tsv")
    assert with_header == [Document("d1", "湖人获胜", "h.tsv:2", "zh", {"category": "体育"})]
    headerless = _read("体育\t湖人获胜\n".encode(), "n.tsv")
    assert headerless[0].text == "湖人获胜" and headerless[0].metadata == {"column_1": "体育"}
    named = _read("体育\t湖人获胜\n".encode(), "n.tsv", tsv_columns=["category", "text"])
    assert named[0].metadata == {"category": "体育"}
    ragged = _read("a\tb\nc\td\te\n".encode(), "r.tsv")
    assert isinstance(ragged[1], DeadLetter) and "expected 2" in ragged[1].error


def test_parquet_rows(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["北京", None], "src": ["a", "b"]}), path)
    records = list(read_documents(open(path, "rb"), str(path)))
    assert records[0] == Document("p1", "北京", "in.parquet:1", "zh", {"src": "a"})
    assert isinstance(records[1], DeadLetter) and records[1].input_ref == "in.parquet:2"


def test_format_by_extension_ignores_compression_suffix():
    assert InputFormat.for_path("a/b.jsonl.gz") is InputFormat.JSONL
    assert InputFormat.for_path("b.TSV") is InputFormat.TSV
    assert InputFormat.for_path("c.parquet") is InputFormat.PARQUET
    assert InputFormat.for_path("d.txt") is InputFormat.TEXT


def test_document_without_id_gets_its_reference_as_id():
    assert document_from_fields({"content": "x"}, "f.jsonl:9", "en").id == "f.jsonl:9"


def test_empty_id_is_rejected_by_the_record():
    with pytest.raises(ValueError, match="non-empty"):
        Document("", "text")
