"""The records every kgpipe stage exchanges.

All records are frozen dataclasses of plain Python values, so they pickle
cheaply between Beam workers and every stage core can be tested without Beam
or TensorFlow. Character offsets are always ``[start, end)`` into the
*document* text (Python ``str`` indices, i.e. Unicode code points).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any


def _check_span(owner: str, start: int, end: int, text: str | None = None) -> None:
    if not (isinstance(start, int) and isinstance(end, int)) or start < 0 or end <= start:
        raise ValueError(
            f"{owner} needs integer offsets with 0 <= start < end. "
            f"Received: start={start!r}, end={end!r}"
        )
    if text is not None and len(text) != end - start:
        raise ValueError(
            f"{owner} text must span end - start = {end - start} characters. "
            f"Received: text={text!r} ({len(text)} characters)"
        )


@dataclasses.dataclass(frozen=True)
class Document:
    """One input text.

    Attributes:
        id: Stable document id, unique within a run.
        text: The full text; all offsets in other records index into it.
        source: Where it came from, e.g. ``"news.jsonl:17"`` (file and line).
        language: BCP 47 tag used for language-tagged literals (``"zh"``).
        metadata: Extra input fields, values as strings (non-strings JSON-encoded).
    """

    id: str
    text: str
    source: str = ""
    language: str = "zh"
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"Document.id must be a non-empty string. Received: id={self.id!r}")
        if not isinstance(self.text, str):
            raise ValueError(f"Document.text must be a string. Received: {type(self.text).__name__}")


@dataclasses.dataclass(frozen=True)
class TextWindow:
    """A slice of a document short enough for the NER model.

    Attributes:
        doc_id: The document it comes from.
        start: Character offset of ``text[0]`` in the document.
        text: The window text, ``document.text[start:start + len(text)]``.
    """

    doc_id: str
    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclasses.dataclass(frozen=True)
class Mention:
    """A recognised entity mention.

    Attributes:
        doc_id: Document id.
        start: First character, inclusive.
        end: Last character, exclusive.
        text: ``document.text[start:end]``.
        label: Entity type from the NER label set (``PER``, ``LOC``, ``ORG``, ...).
        score: Model confidence in [0, 1].
        model: Version string of the model (or ``"dictionary:<kb version>"``) that found it.
    """

    doc_id: str
    start: int
    end: int
    text: str
    label: str
    score: float
    model: str

    def __post_init__(self) -> None:
        _check_span("Mention", self.start, self.end, self.text)

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.start}-{self.end}"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One KB entity considered for a mention, with its disambiguation score."""

    entity_id: str
    score: float


@dataclasses.dataclass(frozen=True)
class Link:
    """The linking decision for one mention. NIL is explicit.

    Attributes:
        doc_id, start, end, text, label: Copied from the mention.
        entity_id: KB id of the chosen entity, or ``None`` for NIL.
        score: Score of the decision in [0, 1] (for NIL: the best rejected score).
        alternatives: The top-k candidates, best first, the chosen one included.
        nil_key: For NIL links, the cluster key (normalised surface form and
            type) from which a stable IRI is minted; ``None`` when linked.
        entity_name: Canonical KB name of the chosen entity (``None`` for NIL).
        entity_types: KB types of the chosen entity.
        kb_version: Version string of the KB the decision was made against.
    """

    doc_id: str
    start: int
    end: int
    text: str
    label: str
    entity_id: str | None
    score: float
    alternatives: tuple[Candidate, ...] = ()
    nil_key: str | None = None
    entity_name: str | None = None
    entity_types: tuple[str, ...] = ()
    kb_version: str = ""

    def __post_init__(self) -> None:
        _check_span("Link", self.start, self.end, self.text)
        if (self.entity_id is None) == (self.nil_key is None):
            raise ValueError(
                "A Link has exactly one of entity_id (linked) or nil_key (NIL). "
                f"Received: entity_id={self.entity_id!r}, nil_key={self.nil_key!r}"
            )

    @property
    def is_nil(self) -> bool:
        return self.entity_id is None

    @property
    def mention_id(self) -> str:
        return f"{self.doc_id}:{self.start}-{self.end}"


@dataclasses.dataclass(frozen=True)
class Entity:
    """A knowledge-base entry.

    Attributes:
        id: KB id, unique within the KB.
        name: Canonical name.
        aliases: Other surface forms (the name need not be repeated).
        types: KB type names (mapped to ontology classes by ``schemas.vocab``).
        description: Short text used as linking context.
        prior: Popularity prior in [0, 1].
        attributes: Extra ``predicate -> values`` facts.
    """

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    description: str = ""
    prior: float = 0.0
    attributes: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"Entity.id must be a non-empty string. Received: id={self.id!r}")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Entity.name must be a non-empty string. Received: name={self.name!r}")
        if not 0.0 <= self.prior <= 1.0:
            raise ValueError(f"Entity.prior must be in [0, 1]. Received: prior={self.prior!r}")


class TermKind(str, enum.Enum):
    """What the object of a triple is."""

    IRI = "iri"
    LITERAL = "literal"


@dataclasses.dataclass(frozen=True)
class Triple:
    """One RDF statement with its provenance.

    Attributes:
        subject: Absolute IRI.
        predicate: Absolute IRI.
        object: An absolute IRI or a literal's lexical form, per ``object_kind``.
        object_kind: ``TermKind.IRI`` or ``TermKind.LITERAL``.
        datatype: Literal datatype IRI (``None`` for plain/language strings and IRIs).
        language: Literal language tag (``None`` if none).
        doc_id: Document the statement was extracted from (``None`` for KB facts).
        start, end: Character offsets of the supporting text, if any.
        confidence: Confidence in [0, 1].
        extractor: What produced it, with versions (``"kgpipe/0.1 ner=... kb=..."``).
        run_id: The run that produced it.
    """

    subject: str
    predicate: str
    object: str
    object_kind: TermKind
    datatype: str | None = None
    language: str | None = None
    doc_id: str | None = None
    start: int | None = None
    end: int | None = None
    confidence: float = 1.0
    extractor: str = ""
    run_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.object_kind, TermKind):
            object.__setattr__(self, "object_kind", TermKind(self.object_kind))
        if self.object_kind is TermKind.IRI and (self.datatype or self.language):
            raise ValueError(
                "An IRI object takes no datatype or language. "
                f"Received: object={self.object!r}, datatype={self.datatype!r}, "
                f"language={self.language!r}"
            )
        if self.datatype and self.language:
            raise ValueError(
                "A literal has a datatype or a language tag, not both. "
                f"Received: datatype={self.datatype!r}, language={self.language!r}"
            )


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    """An input or intermediate record that a stage could not process.

    Attributes:
        input_ref: Where the bad record came from (``file:line``, doc id, ...).
        stage: The stage that rejected it (``read``, ``window``, ``ner``, ``link``, ...).
        error: Why, in words a user can act on.
        payload: A (possibly truncated) copy of the offending record.
    """

    input_ref: str
    stage: str
    error: str
    payload: str = ""


def to_dict(record: Any) -> dict[str, Any]:
    """Returns a record as a JSON-friendly dict (enums as values, tuples as lists)."""
    out = dataclasses.asdict(record)
    for key, value in out.items():
        if isinstance(value, enum.Enum):
            out[key] = value.value
    return out
