"""N-Triples and N-Quads lines and streamed, sharded RDF writers.

``ntriples_line`` is the one place a ``Triple`` becomes RDF text. It escapes
every IRI and literal so that no input text, however hostile (newlines,
quotes, backslashes, ``>``, control characters, U+2028, lone surrogates), can
break a line or the file: each call returns exactly one strictly valid line.
Output is canonical N-Triples (RDF 1.1 section 7 of the N-Triples spec).
"""

from __future__ import annotations

import enum
import functools
import gzip
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from kgpipe.kg import iri as iris
from kgpipe.schemas.records import TermKind, Triple

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# Canonical N-Triples escapes, plus U+0085/U+2028/U+2029 and DEL so that no
# line splitter (Python's str.splitlines included) sees a break inside a line.
_LITERAL_ESCAPES = {
    "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
    **{chr(c): f"\\u{c:04X}" for c in [*range(0x00, 0x08), 0x0B, *range(0x0E, 0x20), 0x7F, 0x85, 0x2028, 0x2029]},
}
_LITERAL_SPECIAL = re.compile("[" + re.escape("".join(_LITERAL_ESCAPES)) + "]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LITERAL_NEEDS_WORK = re.compile("[" + re.escape("".join(_LITERAL_ESCAPES)) + "\ud800-\udfff]")


class RdfFormat(str, enum.Enum):
    """Line-based RDF formats the shard writers produce."""

    NTRIPLES = "nt"
    NQUADS = "nq"


def escape_literal(value: str) -> str:
    """Returns the body of an N-Triples string literal (without quotes).

    Lone surrogates, which no UTF-8 file can hold, become U+FFFD.
    """
    if _LITERAL_NEEDS_WORK.search(value) is None:  # The common case: one scan, no copy.
        return value
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return _LITERAL_SPECIAL.sub(lambda m: _LITERAL_ESCAPES[m.group()], value)


@functools.lru_cache(maxsize=1 << 16)
def _iri_term(value: str) -> str:
    return "<" + iris.valid_iri(value) + ">"


@functools.lru_cache(maxsize=1024)
def _literal_suffix(datatype: str | None, language: str | None) -> str:
    if language:
        tag = iris.language_tag(language)
        if tag is None:
            raise ValueError(f"Invalid language tag (BCP 47 expected, e.g. 'zh' or 'zh-Hans'). Received: {language!r}")
        return "@" + tag
    if datatype and datatype != XSD_STRING:
        return "^^" + _iri_term(datatype)
    return ""


def object_term(triple: Triple) -> str:
    """Returns the N-Triples term of a triple's object."""
    return _object_term(triple.object, triple.object_kind, triple.datatype, triple.language)


def _object_term(value: str, kind: TermKind, datatype: str | None, language: str | None) -> str:
    if kind == TermKind.IRI:  # A TermKind or its value.
        return _iri_term(value)
    return '"' + escape_literal(value) + '"' + _literal_suffix(datatype, language)


def ntriples_line(triple: Triple) -> str:
    """Returns one strictly valid N-Triples line for ``triple``, ending in ``"\\n"``.

    Raises:
        ValueError: If an IRI cannot be made valid (e.g. it is relative) or the
            language tag is malformed.
    """
    return f"{_iri_term(triple.subject)} {_iri_term(triple.predicate)} {object_term(triple)} .\n"


def ntriples_columns(columns: Mapping[str, Sequence]) -> str:
    """Returns the N-Triples lines (each ending in ``"\\n"``) of triples given column by column.

    ``columns`` holds ``Triple`` fields as equal-length sequences (``subject``, ``predicate``,
    ``object``, ``object_kind``, ``datatype``, ``language``; others are ignored); each line is the
    one ``ntriples_line`` writes for that row's ``Triple``.
    """
    rows = zip(columns["subject"], columns["predicate"], columns["object"], columns["object_kind"],
               columns["datatype"], columns["language"], strict=True)
    return "".join(f"{_iri_term(s)} {_iri_term(p)} {_object_term(o, kind, datatype, language)} .\n"
                   for s, p, o, kind, datatype, language in rows)


def nquads_line(triple: Triple, graph: str) -> str:
    """Returns one strictly valid N-Quads line for ``triple`` in the named graph ``graph``."""
    return f"{_iri_term(triple.subject)} {_iri_term(triple.predicate)} {object_term(triple)} {_iri_term(graph)} .\n"


def run_graph_iri(base_iri: str, run_id: str) -> str:
    """Returns the named-graph IRI holding one run's triples (``<base>graph/<run id>``)."""
    return iris.graph_iri(iris.check_base_iri(base_iri), run_id)


def format_double(value: float) -> str:
    """Returns the xsd:double lexical form of a score, to 6 significant digits.

    Scores carry no more precision than that (models compute in float32), and
    six digits survive every serializer (rdflib's Turtle writes doubles with
    ``%e``), so Turtle and JSON-LD exports stay isomorphic to the N-Triples.
    ``NaN``, ``INF`` and ``-INF`` use their XSD spellings.
    """
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    text = f"{value:.6g}"
    return text if any(c in text for c in ".eE") else text + ".0"


class ShardWriter:
    """Streams triples into numbered N-Triples or N-Quads shards, optionally gzipped.

    Lines are written as they come (never one in-memory graph); a new shard
    starts every ``shard_size`` lines. Files are ``<prefix>-00000.nt[.gz]`` etc.
    and are first written under a ``.tmp`` name, renamed when complete, so a
    crashed run never leaves a truncated shard that looks finished.

    Use as a context manager::

        with ShardWriter(out / "rdf", graph=run_graph_iri(base, run_id)) as writer:
            writer.write_all(triples)
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        prefix: str = "part",
        shard_size: int = 1_000_000,
        compress: bool = False,
        graph: str | None = None,
    ) -> None:
        if shard_size < 1:
            raise ValueError(f"`shard_size` must be positive. Received: shard_size={shard_size}")
        if not prefix or "/" in prefix or os.sep in prefix:
            raise ValueError(f"`prefix` must be a plain file-name prefix. Received: prefix={prefix!r}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.shard_size = shard_size
        self.compress = compress
        self.graph = graph
        self.format = RdfFormat.NQUADS if graph else RdfFormat.NTRIPLES
        self.paths: list[Path] = []
        self.count = 0
        self._file: io.TextIOBase | None = None
        self._tmp: Path | None = None
        self._in_shard = 0

    def __enter__(self) -> "ShardWriter":
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(discard=exc_type is not None)

    def _open(self) -> None:
        suffix = f".{self.format.value}" + (".gz" if self.compress else "")
        path = self.directory / f"{self.prefix}-{len(self.paths):05d}{suffix}"
        self._tmp = path.with_name(path.name + ".tmp")
        raw = open(self._tmp, "wb")
        stream = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) if self.compress else raw
        self._file = io.TextIOWrapper(stream, encoding="utf-8", newline="\n", write_through=False)
        self._raw = raw
        self.paths.append(path)
        self._in_shard = 0

    def _finish(self, discard: bool = False) -> None:
        if self._file is None:
            return
        self._file.close()  # Closes the gzip stream, then the raw file.
        if not self._raw.closed:
            self._raw.close()
        if discard:
            self._tmp.unlink(missing_ok=True)
            self.paths.pop()
        else:
            os.replace(self._tmp, self.paths[-1])
        self._file = None

    def write_all(self, triples: Iterable[Triple]) -> int:
        """Writes triples; returns how many were written by this call."""
        graph, written = self.graph, 0
        lines: list[str] = []
        for triple in triples:
            lines.append(nquads_line(triple, graph) if graph else ntriples_line(triple))
            if len(lines) >= 4096:
                written += self._write_lines(lines)
                lines = []
        return written + self._write_lines(lines)

    def write(self, triple: Triple) -> None:
        """Writes one triple."""
        self._write_lines([nquads_line(triple, self.graph) if self.graph else ntriples_line(triple)])

    def _write_lines(self, lines: list[str]) -> int:
        done = 0
        while done < len(lines):
            if self._file is None or self._in_shard >= self.shard_size:
                self._finish()
                self._open()
            take = min(len(lines) - done, self.shard_size - self._in_shard)
            self._file.write("".join(lines[done : done + take]))
            self._in_shard += take
            done += take
        self.count += done
        return done

    def close(self, discard: bool = False) -> list[Path]:
        """Finishes the open shard; returns the paths of all shards written."""
        self._finish(discard)
        return self.paths
