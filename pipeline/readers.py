"""Input formats: turn lines, rows or files into ``Document`` records.

The parsers are plain functions of one record, so they are tested without
Beam; ``read_documents`` streams one file of any format through them. A bad
record never stops the run: it becomes a ``DeadLetter`` with its file and line.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from schemas.records import DeadLetter, Document

MAX_PAYLOAD_CHARS = 2000  # Dead letters keep at most this much of the bad record.

_ID_FIELDS = ("id", "doc_id", "docid", "_id")
_TEXT_FIELDS = ("text", "content", "body", "sentence")
_LANGUAGE_FIELDS = ("language", "lang")


class InputFormat(str, enum.Enum):
    """Input file formats. ``AUTO`` picks by file extension."""

    AUTO = "auto"
    JSONL = "jsonl"
    TEXT = "text"
    TSV = "tsv"
    PARQUET = "parquet"

    @classmethod
    def for_path(cls, path: str) -> "InputFormat":
        name = path.lower()
        for suffix in (".gz", ".bz2", ".zst", ".deflate"):
            name = name.removesuffix(suffix)
        if name.endswith((".jsonl", ".ndjson", ".json")):
            return cls.JSONL
        if name.endswith((".tsv", ".tab")):
            return cls.TSV
        if name.endswith((".parquet", ".pq")):
            return cls.PARQUET
        return cls.TEXT


Record = Document | DeadLetter


def _metadata(fields: Mapping[str, Any], skip: set[str]) -> dict[str, str]:
    return {
        str(key): value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in fields.items()
        if key not in skip and value is not None
    }


def document_from_fields(fields: Mapping[str, Any], ref: str, language: str) -> Document:
    """Builds a Document from a mapping of input fields.

    Args:
        fields: The record (a JSON object, a TSV row with header, a Parquet row).
        ref: ``file:line`` of the record; the id when the record has none.
        language: Language tag when the record names none.

    Raises:
        ValueError: No text field, a non-string text, or an empty id.
    """
    text_key = next((k for k in _TEXT_FIELDS if k in fields), None)
    if text_key is None:
        raise ValueError(f"no text field (expected one of {list(_TEXT_FIELDS)}); fields: {sorted(fields)}")
    text = fields[text_key]
    if not isinstance(text, str):
        raise ValueError(f"field {text_key!r} must be a string, got {type(text).__name__}")
    id_key = next((k for k in _ID_FIELDS if fields.get(k) not in (None, "")), None)
    doc_id = str(fields[id_key]) if id_key else ref
    lang_key = next((k for k in _LANGUAGE_FIELDS if isinstance(fields.get(k), str) and fields[k]), None)
    skip = {text_key, *(k for k in (id_key, lang_key) if k)}
    return Document(
        id=doc_id,
        text=text,
        source=ref,
        language=fields[lang_key] if lang_key else language,
        metadata=_metadata(fields, skip),
    )


def parse_jsonl_line(line: str, ref: str, language: str) -> Document:
    """Parses one JSON Lines record ``{"id", "text", ...metadata}``."""
    try:
        fields = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(fields, dict):
        raise ValueError(f"expected a JSON object, got {type(fields).__name__}")
    return document_from_fields(fields, ref, language)


def _dead_letter(ref: str, error: Exception | str, payload: str) -> DeadLetter:
    return DeadLetter(input_ref=ref, stage="read", error=str(error), payload=payload[:MAX_PAYLOAD_CHARS])


def _lines(stream: BinaryIO, path: str) -> Iterator[tuple[str, str | None, str | None]]:
    """Yields (ref, line, decode error) for each line, 1-based, without line ends."""
    for number, raw in enumerate(stream, start=1):
        ref = f"{path}:{number}"
        try:
            yield ref, raw.decode("utf-8").rstrip("\r\n").lstrip("\ufeff" if number == 1 else ""), None
        except UnicodeDecodeError as error:
            yield ref, None, f"not UTF-8: {error.reason} at byte {error.start}"


def _read_jsonl(stream: BinaryIO, path: str, language: str) -> Iterator[Record]:
    for ref, line, error in _lines(stream, path):
        if error:
            yield _dead_letter(ref, error, "")
        elif line.strip():
            try:
                yield parse_jsonl_line(line, ref, language)
            except ValueError as exc:
                yield _dead_letter(ref, exc, line)


def _read_text(stream: BinaryIO, path: str, language: str) -> Iterator[Record]:
    for ref, line, error in _lines(stream, path):
        if error:
            yield _dead_letter(ref, error, "")
        elif line.strip():
            yield Document(id=ref, text=line, source=ref, language=language)


def _read_tsv(
    stream: BinaryIO, path: str, language: str, columns: Sequence[str] | None
) -> Iterator[Record]:
    """TSV: a header naming a ``text`` column, or ``columns`` given, or the last column is text."""
    header = list(columns) if columns else None
    for ref, line, error in _lines(stream, path):
        if error:
            yield _dead_letter(ref, error, "")
            continue
        if not line.strip():
            continue
        cells = next(csv.reader(io.StringIO(line), delimiter="\t", quoting=csv.QUOTE_NONE))
        if header is None and ref.endswith(":1") and any(c in _TEXT_FIELDS for c in cells):
            header = cells
            continue
        if header is None:  # No header: the first row fixes the columns, the last is the text.
            header = [f"column_{i + 1}" for i in range(len(cells) - 1)] + ["text"]
        names = header
        if len(cells) != len(names):
            yield _dead_letter(ref, f"expected {len(names)} tab-separated columns, got {len(cells)}", line)
            continue
        try:
            yield document_from_fields(dict(zip(names, cells)), ref, language)
        except ValueError as exc:
            yield _dead_letter(ref, exc, line)


def _read_parquet(stream: BinaryIO, path: str, language: str) -> Iterator[Record]:
    import pyarrow.parquet as pq

    row_number = 0
    for batch in pq.ParquetFile(stream).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            row_number += 1
            ref = f"{path}:{row_number}"
            try:
                yield document_from_fields(row, ref, language)
            except ValueError as exc:
                yield _dead_letter(ref, exc, json.dumps(row, ensure_ascii=False, default=str))


def read_documents(
    stream: BinaryIO,
    path: str,
    input_format: InputFormat = InputFormat.AUTO,
    *,
    language: str = "zh",
    tsv_columns: Sequence[str] | None = None,
) -> Iterator[Record]:
    """Streams the Documents (and DeadLetters for bad records) of one input file.

    Args:
        stream: The file, opened in binary mode (decompressed).
        path: Its path, used in ids (``name:line``) and dead-letter references.
        input_format: The format; ``AUTO`` picks by the path's extension.
        language: Language tag for documents that name none.
        tsv_columns: Column names for TSV files without a header.
    """
    fmt = InputFormat.for_path(path) if input_format is InputFormat.AUTO else input_format
    name = os.path.basename(path)
    if fmt is InputFormat.JSONL:
        yield from _read_jsonl(stream, name, language)
    elif fmt is InputFormat.TSV:
        yield from _read_tsv(stream, name, language, tsv_columns)
    elif fmt is InputFormat.PARQUET:
        yield from _read_parquet(stream, name, language)
    else:
        yield from _read_text(stream, name, language)
