"""Input formats: turn lines, rows or files into ``Document`` records.

The parsers are plain functions of one record, so they are tested without
Beam; ``read_documents`` streams one file of any format through them. A bad
record never stops the run: it becomes a ``DeadLetter`` with its file and line.
"""

from __future__ import annotations

import bz2
import dataclasses
import enum
import gzip
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from kgpipe.schemas.records import DeadLetter, Document

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


class _DecompressedInput:
    """A decompressing reader that also closes the raw stream under it."""

    def __init__(self, stream: BinaryIO, raw: BinaryIO):
        self._stream, self._raw = stream, raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __enter__(self) -> "_DecompressedInput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._raw.close()


def open_input(path: str) -> BinaryIO:
    """Opens an input file on any Beam filesystem, decompressed by its extension.

    ``.gz`` and ``.bz2`` are decompressed with Python's readers, which raise
    ``EOFError`` on a stream cut short (even at a flush point, where Beam's
    reader ends silently) and ``OSError`` on bytes that are not compressed
    data, so a damaged file becomes a dead letter instead of losing its tail.
    Other compressions (``.zst``, ``.deflate``) go through Beam.
    """
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    name = path.lower()
    if not name.endswith((".gz", ".gzip", ".bz2")):
        return FileSystems.open(path)
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    stream = bz2.BZ2File(raw, "rb") if name.endswith(".bz2") else gzip.GzipFile(fileobj=raw, mode="rb")
    return _DecompressedInput(stream, raw)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Replaces lone surrogates (legal in JSON escapes, not in UTF-8) by U+FFFD, keeping every offset."""
    return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value


def _metadata_value(value: Any) -> str:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (bool, int, float, list, dict)):
        return clean_text(json.dumps(value, ensure_ascii=False, default=str))
    return clean_text(str(value))  # Dates, decimals, bytes from Parquet: their plain text.


def _metadata(fields: Mapping[str, Any], skip: set[str]) -> dict[str, str]:
    return {
        clean_text(str(key)): _metadata_value(value)
        for key, value in fields.items()
        if key not in skip and value is not None
    }


def document_from_fields(fields: Mapping[str, Any], ref: str, language: str, source: str = "") -> Document:
    """Builds a Document from a mapping of input fields.

    Ids are NFC-normalised (so that ids equal as text are one document, as
    they are one IRI) and lone surrogates become U+FFFD.

    Args:
        fields: The record (a JSON object, a TSV row with header, a Parquet row).
        ref: ``file:line`` of the record; the id when the record has none.
        language: Language tag when the record names none.
        source: Where the record was read (full path and line); ``ref`` if empty.

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
        id=unicodedata.normalize("NFC", clean_text(doc_id)),
        text=clean_text(text),
        source=source or ref,
        language=fields[lang_key] if lang_key else language,
        metadata=_metadata(fields, skip),
    )


def parse_jsonl_line(line: str, ref: str, language: str, source: str = "") -> Document:
    """Parses one JSON Lines record ``{"id", "text", ...metadata}``."""
    try:
        fields = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(fields, dict):
        raise ValueError(f"expected a JSON object, got {type(fields).__name__}")
    return document_from_fields(fields, ref, language, source)


def _dead_letter(ref: str, error: Exception | str, payload: str) -> DeadLetter:
    message = error if isinstance(error, str) else f"{error}" if isinstance(error, ValueError) else repr(error)
    return DeadLetter(input_ref=ref, stage="read", error=message, payload=clean_text(payload[:MAX_PAYLOAD_CHARS]))


@dataclasses.dataclass(frozen=True)
class _Source:
    """An input file: ``path`` (full: provenance and dead letters) and ``name`` (short: default ids)."""

    path: str
    name: str

    def ref(self, number: int) -> str:
        return f"{self.name}:{number}"

    def at(self, number: int) -> str:
        return f"{self.path}:{number}"


def _lines(stream: BinaryIO, source: _Source) -> Iterator[tuple[int, str | None, str | None]]:
    """Yields (line number, line, decode error) for each line, 1-based, without line ends."""
    # readline, not iteration: Beam's CompressedFile (.gz, .bz2, ...) is not iterable.
    for number, raw in enumerate(iter(stream.readline, b""), start=1):
        try:
            yield number, raw.decode("utf-8").rstrip("\r\n").lstrip("\ufeff" if number == 1 else ""), None
        except UnicodeDecodeError as error:
            yield number, None, f"not UTF-8: {error.reason} at byte {error.start}"


def _records(stream: BinaryIO, source: _Source, parse) -> Iterator[Record]:
    """Parses each non-blank line with ``parse(line, number)``; any failure is that line's dead letter."""
    for number, line, error in _lines(stream, source):
        if error:
            yield _dead_letter(source.at(number), error, "")
        elif line.strip():
            try:
                record = parse(line, number)
            except Exception as exc:  # A bad record must never stop the run.
                yield _dead_letter(source.at(number), exc, line)
            else:
                if record is not None:
                    yield record


def _read_jsonl(stream: BinaryIO, source: _Source, language: str) -> Iterator[Record]:
    yield from _records(
        stream, source, lambda line, n: parse_jsonl_line(line, source.ref(n), language, source.at(n))
    )


def _read_text(stream: BinaryIO, source: _Source, language: str) -> Iterator[Record]:
    yield from _records(
        stream, source, lambda line, n: Document(source.ref(n), line, source.at(n), language)
    )


def _read_tsv(
    stream: BinaryIO, source: _Source, language: str, columns: Sequence[str] | None
) -> Iterator[Record]:
    """TSV: a header naming a ``text`` column, or ``columns`` given, or the last column is text."""
    header = list(columns) if columns else None

    def parse(line: str, number: int) -> Document | None:
        nonlocal header
        cells = line.split("\t")
        if header is None and number == 1 and any(c in _TEXT_FIELDS for c in cells):
            header = cells
            return None
        if header is None:  # No header: the first row fixes the columns, the last is the text.
            header = [f"column_{i + 1}" for i in range(len(cells) - 1)] + ["text"]
        if len(cells) != len(header):
            raise ValueError(f"expected {len(header)} tab-separated columns, got {len(cells)}")
        return document_from_fields(dict(zip(header, cells)), source.ref(number), language, source.at(number))

    yield from _records(stream, source, parse)


def _read_parquet(stream: BinaryIO, source: _Source, language: str) -> Iterator[Record]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(stream).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            try:
                yield document_from_fields(row, source.ref(number), language, source.at(number))
            except Exception as exc:
                yield _dead_letter(source.at(number), exc, json.dumps(row, ensure_ascii=False, default=str))


def read_documents(
    stream: BinaryIO,
    path: str,
    input_format: InputFormat = InputFormat.AUTO,
    *,
    name: str | None = None,
    language: str = "zh",
    tsv_columns: Sequence[str] | None = None,
) -> Iterator[Record]:
    """Streams the Documents (and DeadLetters for bad records) of one input file.

    A record that cannot be parsed becomes a dead letter; so does the rest of a
    file that breaks off (truncated, corrupt), after the records read before it.

    Args:
        stream: The file, opened in binary mode (decompressed).
        path: Its full path, kept in ``Document.source`` (``path:line``).
        input_format: The format; ``AUTO`` picks by the path's extension.
        name: Short name used in default ids and dead-letter references
            (``name:line``); the file name if not given.
        language: Language tag for documents that name none.
        tsv_columns: Column names for TSV files without a header.
    """
    fmt = InputFormat.for_path(path) if input_format is InputFormat.AUTO else input_format
    source = _Source(path, name or path.rstrip("/").rsplit("/", 1)[-1])
    if fmt is InputFormat.JSONL:
        records = _read_jsonl(stream, source, language)
    elif fmt is InputFormat.TSV:
        records = _read_tsv(stream, source, language, tsv_columns)
    elif fmt is InputFormat.PARQUET:
        records = _read_parquet(stream, source, language)
    else:
        records = _read_text(stream, source, language)
    count = 0
    try:
        for record in records:
            count += 1
            yield record
    except Exception as exc:  # The file itself broke off: say where, keep what was read.
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        yield _dead_letter(f"{source.path}:*", f"file unreadable after {count} records (the rest of it is lost): "
                                               f"{reason}", "")


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Names of input files relative to their common folder: stable ids, unique across folders."""
    folders = [p.rsplit("/", 1)[0].split("/") if "/" in p else [] for p in paths]
    common = 0
    if folders:
        shortest = min(len(f) for f in folders)
        while common < shortest and len({tuple(f[: common + 1]) for f in folders}) == 1:
            common += 1
    return {p: "/".join(p.split("/")[common:]) for p in paths}
