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


def _gzip_cut_at_flush(lines: list[bytes], keep: int) -> bytes:
    """A gzip stream of ``lines``, flushed (Z_FULL_FLUSH) after ``keep`` lines and cut there."""
    import zlib

    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip header and trailer
    head = compressor.compress(b"".join(lines[:keep])) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head  # The rest of the stream (and its trailer) never arrives.


def _jsonl_lines(n: int) -> list[bytes]:
    return [json.dumps({"id": f"d{i}", "text": f"第{i}条新闻"}, ensure_ascii=False).encode() + b"\n" for i in range(n)]


def _read_path(path, **kwargs):
    from kgpipe.pipeline.readers import open_input

    with open_input(str(path)) as stream:
        return list(read_documents(stream, str(path), **kwargs))


def test_gzip_cut_at_a_flush_point_keeps_what_was_read_and_dead_letters_the_rest(tmp_path):
    path = tmp_path / "news.jsonl.gz"
    path.write_bytes(_gzip_cut_at_flush(_jsonl_lines(2000), keep=700))
    records = _read_path(path)
    documents = [r for r in records if isinstance(r, Document)]
    dead = [r for r in records if isinstance(r, DeadLetter)]
    assert [d.id for d in documents] == [f"d{i}" for i in range(700)]
    assert len(dead) == 1 and dead[0].input_ref == f"{path}:*" and dead[0].stage == "read"
    assert "after 700 records" in dead[0].error and "EOFError" in dead[0].error


def test_random_bytes_named_gz_and_a_truncated_bz2_are_dead_letters(tmp_path):
    import bz2
    import random

    noise = tmp_path / "noise.jsonl.gz"
    noise.write_bytes(bytes(random.Random(7).getrandbits(8) for _ in range(4096)))
    [dead] = _read_path(noise)
    assert isinstance(dead, DeadLetter) and "after 0 records" in dead.error
    cut = tmp_path / "cut.txt.bz2"
    data = bz2.compress(b"".join(f"line {i}\n".encode() for i in range(5000)))
    cut.write_bytes(data[: len(data) // 2])
    [dead] = _read_path(cut)  # One bz2 block: nothing before the cut can be decoded.
    assert isinstance(dead, DeadLetter) and "EOFError" in dead.error and dead.input_ref == f"{cut}:*"


def test_a_whole_gzip_file_reads_completely(tmp_path):
    path = tmp_path / "ok.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(_jsonl_lines(50))))
    assert [d.id for d in _read_path(path)] == [f"d{i}" for i in range(50)]
