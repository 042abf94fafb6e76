"""DuIE 2.0 reader: sentences with ``(subject, predicate, object)`` triples located in the text.

DuIE gives surface strings, not offsets. Each subject and object is placed at its *first*
occurrence in the text (as GPLinker does); only the object's ``@value`` slot is read (the
``inWork``/``onDate``/... slots of multi-slot objects are ignored). Triples whose subject or
object does not occur in the text are dropped and counted (``ReadReport.unlocatable``) with
their ``file:line``; a predicate missing from the schema is an error naming ``file:line``
(or, with ``unknown="skip"``, counted).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Sequence


@dataclasses.dataclass(frozen=True)
class Predicate:
    """One schema entry: ``name`` (Chinese), ``subject_type``, ``object_type`` (``@value``)."""

    name: str
    subject_type: str
    object_type: str


@dataclasses.dataclass(frozen=True)
class SpanTriple:
    """A triple with character offsets ``[start, end)`` of subject and object in the text."""

    subject: tuple[int, int]
    predicate: str
    object: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Example:
    """One sentence: ``text`` and its located triples; ``source`` is ``file:line``."""

    text: str
    triples: tuple[SpanTriple, ...]
    source: str = ""

    def strings(self) -> set[tuple[str, str, str]]:
        """The gold ``(subject, predicate, object)`` strings."""
        return {(self.text[t.subject[0]:t.subject[1]], t.predicate, self.text[t.object[0]:t.object[1]])
                for t in self.triples}


@dataclasses.dataclass
class ReadReport:
    """What reading a file dropped, with ``file:line`` of each case (first 20 kept)."""

    sentences: int = 0
    triples: int = 0
    unlocatable: int = 0
    unknown_predicates: int = 0
    type_mismatches: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def note(self, kind: str, where: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 20:
            self.examples.append(f"{where}: {detail}")


def read_schema(path: str | os.PathLike) -> tuple[Predicate, ...]:
    """Reads a DuIE ``schema.json`` (a JSON list, or one JSON object per line).

    Raises:
        ValueError: naming the file (and entry) when it is not a DuIE schema.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        entries = json.loads(text)
    except json.JSONDecodeError:
        try:
            entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a DuIE schema (JSON list or JSON lines): {error}") from None
    predicates: dict[str, Predicate] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        try:
            object_type = entry["object_type"]
            object_type = object_type["@value"] if isinstance(object_type, dict) else object_type
            predicate = Predicate(entry["predicate"], entry["subject_type"], object_type)
        except (KeyError, TypeError):
            raise ValueError(f"{path}: entry {i} is not a DuIE schema entry with predicate, subject_type, "
                             f"object_type. Received: {entry!r:.120}") from None
        predicates.setdefault(predicate.name, predicate)
    if not predicates:
        raise ValueError(f"{path}: the schema lists no predicates")
    return tuple(predicates.values())


def _object_value(spo: dict):
    value = spo["object"]
    return value.get("@value") if isinstance(value, dict) else value


def _locate(text: str, surface) -> tuple[int, int] | None:
    if not isinstance(surface, str) or not surface:
        return None
    start = text.find(surface)
    return None if start < 0 else (start, start + len(surface))


def parse_line(line: str, where: str, schema: dict[str, Predicate], report: ReadReport,
               unknown: str = "error") -> Example:
    """Parses one DuIE JSON line into an ``Example`` (see the module docstring)."""
    try:
        record = json.loads(line)
        text = record["text"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{where}: not a DuIE record with a `text` field ({error})") from None
    triples = []
    for spo in record.get("spo_list") or ():
        predicate = spo.get("predicate")
        if predicate not in schema:
            if unknown == "error":
                raise ValueError(f"{where}: predicate {predicate!r} is not in the schema "
                                 f"({len(schema)} predicates); is this the schema of this data?")
            report.note("unknown_predicates", where, f"unknown predicate {predicate!r}")
            continue
        report.triples += 1
        entry = schema[predicate]
        object_type = spo.get("object_type")
        object_type = object_type.get("@value") if isinstance(object_type, dict) else object_type
        if spo.get("subject_type", entry.subject_type) != entry.subject_type or (
                object_type is not None and object_type != entry.object_type):
            report.note("type_mismatches", where, f"{predicate}: types {spo.get('subject_type')!r}/"
                        f"{object_type!r}, schema {entry.subject_type!r}/{entry.object_type!r}")
        subject, obj = _locate(text, spo.get("subject")), _locate(text, _object_value(spo))
        if subject is None or obj is None:
            report.note("unlocatable", where, f"{spo.get('subject')!r} {predicate} "
                        f"{_object_value(spo)!r} not in the text")
            continue
        triples.append(SpanTriple(subject, predicate, obj))
    report.sentences += 1
    return Example(text, tuple(dict.fromkeys(triples)), where)


def read_duie(path: str | os.PathLike, predicates: Sequence[Predicate], *, unknown: str = "error",
              lines: slice = slice(None)) -> tuple[list[Example], ReadReport]:
    """Reads DuIE JSON lines (``lines`` selects sentences, 0-based, e.g. ``slice(-500, None)``).

    Args:
        unknown: ``"error"`` (a predicate not in ``predicates`` raises) or ``"skip"`` (counted).

    Returns:
        The examples and a ``ReadReport`` of what was dropped.
    """
    if unknown not in ("error", "skip"):
        raise ValueError(f"`unknown` must be 'error' or 'skip'. Received: unknown={unknown!r}")
    schema = {p.name: p for p in predicates}
    with open(path, encoding="utf-8") as f:
        numbered = [(i, line) for i, line in enumerate(f, 1) if line.strip()]
    report = ReadReport()
    examples = [parse_line(line, f"{path}:{i}", schema, report, unknown) for i, line in numbered[lines]]
    return examples, report
