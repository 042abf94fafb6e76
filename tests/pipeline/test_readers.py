import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kgpipe.pipeline.readers import InputFormat, document_from_fields, read_documents, short_names
from kgpipe.schemas.records import DeadLetter, Document


def _read(data: bytes, name: str, **kwargs):
    return list(read_documents(io.BytesIO(data), f"/in/{name}", **kwargs))


def test_jsonl_keeps_id_text_language_and_metadata():
    line = json.dumps({"id": "a1", "text": "华为发布新机", "lang": "zh-Hans", "tags": ["x"], "n": 3}, ensure_ascii=False)
    [doc] = _read(line.encode() + b"\n", "docs.jsonl")
    assert doc == Document("a1", "华为发布新机", "/in/docs.jsonl:1", "zh-Hans", {"tags": '["x"]', "n": "3"})


def test_jsonl_bad_records_become_dead_letters_with_line_numbers():
    data = b'{"id": "ok", "text": "fine"}\n{not json}\n[1, 2]\n{"id": "x"}\n\n{"text": 5}\n'
    records = _read(data, "docs.jsonl")
    assert isinstance(records[0], Document)
    dead = records[1:]
    assert all(isinstance(d, DeadLetter) and d.stage == "read" for d in dead)
    assert [d.input_ref for d in dead] == [f"/in/docs.jsonl:{n}" for n in (2, 3, 4, 6)]
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
    assert with_header == [Document("d1", "湖人获胜", "/in/h.tsv:2", "zh", {"category": "体育"})]
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
    assert records[0] == Document("p1", "北京", f"{path}:1", "zh", {"src": "a"})
    assert isinstance(records[1], DeadLetter) and records[1].input_ref == f"{path}:2"


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


def test_compressed_input_is_read_line_by_line(tmp_path):
    from apache_beam.io.filesystems import FileSystems

    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('{"id": "g1", "text": "压缩文件"}\n{"id": "g2", "text": "第二行"}\n')
    with FileSystems.open(str(path)) as stream:  # Beam's CompressedFile: not iterable, has readline.
        docs = list(read_documents(stream, str(path)))
    assert [(d.id, d.text, d.source) for d in docs] == [("g1", "压缩文件", f"{path}:1"), ("g2", "第二行", f"{path}:2")]


def test_hostile_records_never_stop_the_file():
    data = "\n".join([
        json.dumps({"id": "s1", "text": "坏\ud800字"}),       # lone surrogate, legal as a JSON escape
        "id\ttext",                                           # (not a header here: JSONL)
        json.dumps({"id": "e\u0301", "text": "NFD id"}),
    ]).encode()
    records = _read(data, "h.jsonl")
    assert records[0].text == "坏\ufffd字" and len(records[0].text) == 3
    assert isinstance(records[1], DeadLetter)
    assert records[2].id == "\u00e9"  # NFC: one id, as it is one IRI.
    tsv = _read("id\ttext\n1\thello\rworld\n".encode(), "cr.tsv")
    assert tsv == [Document("1", "hello\rworld", "/in/cr.tsv:2", "zh", {})]


def test_parquet_with_dates_and_a_corrupt_file(tmp_path):
    import datetime

    path = tmp_path / "dated.parquet"
    pq.write_table(pa.table({"text": ["北京"], "when": [datetime.date(2024, 1, 2)], "raw": [b"\x00"]}), path)
    [doc] = list(read_documents(open(path, "rb"), str(path)))
    assert doc.metadata["when"] == "2024-01-02" and doc.text == "北京"
    records = _read(b"not a parquet file at all", "broken.parquet")
    assert len(records) == 1 and isinstance(records[0], DeadLetter)
    assert records[0].input_ref == "/in/broken.parquet:*" and "unreadable after 0 records" in records[0].error


def test_same_file_names_in_different_folders_get_distinct_ids():
    names = short_names(["/data/a/part.txt", "/data/b/part.txt"])
    assert names == {"/data/a/part.txt": "a/part.txt", "/data/b/part.txt": "b/part.txt"}
    [doc] = list(read_documents(io.BytesIO("文本".encode()), "/data/b/part.txt", name=names["/data/b/part.txt"]))
    assert doc.id == "b/part.txt:1" and doc.source == "/data/b/part.txt:1"
    assert short_names(["/only/one.jsonl"]) == {"/only/one.jsonl": "one.jsonl"}
