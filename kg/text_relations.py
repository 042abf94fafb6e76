"""Typed relations read from text by a relation model, as triples with statement-level provenance.

The model runs in ``pipeline/`` (TensorFlow stays out of ``kg``) and hands each document plain
``TypedRelation`` records: character spans of subject and object, the model's predicate name
(DuIE's Chinese names, mapped to KGP properties by ``schemas.vocab.RELATION_PREDICATES``), the
sentence span, a confidence and the model version. ``typed_relation_triples`` turns them into

* the plain statement ``subject kgp:<property> object`` (object: an entity IRI, or for date,
  number and name predicates a string literal of the object span), with the sentence as its
  provenance columns, and
* a reified ``kgp:RelationStatement`` carrying the document (``prov:wasDerivedFrom``), the
  sentence offsets, ``kgp:confidence`` and ``kgp:relationModel``.

A subject (or entity object) span is resolved to the entity of the mention with the same span,
else of the mention overlapping it most (more than half of the span); a span that meets no
mention (the relation model found an entity NER missed, e.g. a book title) gets a minted NIL
entity of its own, keyed ``RE|<surface>`` (so the same surface is one node across documents and
runs; it is not merged with NER's NIL nodes, keyed by NER label), typed with the class of the
predicate's subject or object type in the model's schema (``人物`` -> ``kgp:Person``, ``企业`` ->
``kgp:Organization``, ``schemas.vocab.class_for_kb_type``; else ``kgp:Entity``) with its surface as
label. A relation whose predicate the ontology lacks, or that relates an entity to
itself, is left out and counted in ``skipped``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from kgpipe.kg import iri as iris
from kgpipe.kg.export.rdf import format_double
from kgpipe.kg.relations import ResolvedMention
from kgpipe.schemas.records import Document, TermKind, Triple
from kgpipe.schemas.vocab import KGP, PROV, RDF, RDFS, XSD, class_for_kb_type, property_for_predicate


@dataclasses.dataclass(frozen=True)
class TypedRelation:
    """One relation the model read: ``[start, end)`` character offsets in the document.

    Attributes:
        subject, object: Spans of the subject and object.
        predicate: The model's predicate name (e.g. ``"创始人"``).
        sentence: Span of the sentence it was read from.
        confidence: In [0, 1].
        model: Version of the relation model.
        subject_type, object_type: The predicate's argument types in the model's schema (e.g.
            ``"企业"``, ``"人物"``), which type an entity the relation mints; "" if unknown.
    """

    subject: tuple[int, int]
    predicate: str
    object: tuple[int, int]
    sentence: tuple[int, int]
    confidence: float
    model: str
    subject_type: str = ""
    object_type: str = ""

    def __post_init__(self) -> None:
        for name in ("subject", "object", "sentence"):
            start, end = getattr(self, name)
            if not 0 <= start < end:
                raise ValueError(f"`{name}` must be a span 0 <= start < end. Received: {name}={(start, end)!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"`confidence` must be in [0, 1]. Received: confidence={self.confidence!r}")


def resolve(span: tuple[int, int], mentions: Sequence[ResolvedMention]) -> ResolvedMention | None:
    """The mention with ``span``, else the one overlapping it most (more than half of it; a longer span
    such as 山东高密 over the mention 山东 is an entity of its own); ties by position."""
    best, best_overlap = None, 0
    for mention in sorted(mentions, key=lambda m: (m.start, m.end, m.entity)):
        if (mention.start, mention.end) == span:
            return mention
        overlap = min(span[1], mention.end) - max(span[0], mention.start)
        if overlap > best_overlap:
            best, best_overlap = mention, overlap
    return best if 2 * best_overlap > span[1] - span[0] else None


TripleFactory = Callable[..., Triple]  # TripleBuilder._triple's signature


def typed_relation_triples(document: Document, mentions: Sequence[ResolvedMention],
                           relations: Sequence[TypedRelation], make: TripleFactory, base_iri: str,
                           run_iri: str) -> tuple[list[Triple], int]:
    """Triples of ``relations`` (see the module docstring).

    Returns:
        The triples (with those of minted entities), and how many relations were skipped
        (unknown predicate, or a relation of an entity with itself).
    """
    out: list[Triple] = []
    skipped, seen, minted = 0, set(), set()

    def entity(span: tuple[int, int], kb_type: str) -> str:
        mention = resolve(span, mentions)
        if mention is not None:
            return mention.entity
        surface = document.text[span[0]:span[1]].strip() or document.text[span[0]:span[1]]
        iri = iris.nil_iri(base_iri, f"RE|{surface}")
        if iri not in minted:
            minted.add(iri)
            out.extend([make(iri, str(RDF.type), str(class_for_kb_type(kb_type) if kb_type else KGP.Entity)),
                        make(iri, str(RDFS.label), surface, TermKind.LITERAL, None, iris.language_tag(document.language)),
                        make(iri, str(KGP.minted), "true", TermKind.LITERAL, str(XSD.boolean))])
        return iri

    for relation in relations:
        found = property_for_predicate(relation.predicate)
        if found is None:
            skipped += 1
            continue
        prop, object_is_entity = found
        subject = entity(relation.subject, relation.subject_type)
        if object_is_entity:
            obj, kind, datatype = entity(relation.object, relation.object_type), TermKind.IRI, None
            if obj == subject:
                skipped += 1
                continue
        else:
            obj, kind, datatype = document.text[relation.object[0]:relation.object[1]], TermKind.LITERAL, str(XSD.string)
        key = (subject, str(prop), obj)
        if key in seen:
            continue
        seen.add(key)
        start, end = relation.sentence
        out.append(make(subject, str(prop), obj, kind, datatype, doc_id=document.id, start=start, end=end,
                        confidence=relation.confidence))
        out.extend(_statement(document, relation, subject, str(prop), obj, kind, datatype, make, base_iri, run_iri))
    return out, skipped


def _statement(document: Document, relation: TypedRelation, subject: str, prop: str, obj: str, kind: TermKind,
               datatype: str | None, make: TripleFactory, base_iri: str, run_iri: str) -> list[Triple]:
    start, end = relation.sentence
    node = f"{base_iri}relation/{iris._digest(document.id, subject, prop, obj, str(start), str(end))}"
    literal, integer = TermKind.LITERAL, str(XSD.integer)
    return [
        make(node, str(RDF.type), str(KGP.RelationStatement)),
        make(node, str(RDF.subject), subject),
        make(node, str(RDF.predicate), prop),
        make(node, str(RDF.object), obj, kind, datatype),
        make(node, str(PROV.wasDerivedFrom), iris.document_iri(base_iri, document.id)),
        make(node, str(KGP.startOffset), str(start), literal, integer),
        make(node, str(KGP.endOffset), str(end), literal, integer),
        make(node, str(KGP.confidence), format_double(relation.confidence), literal, str(XSD.double)),
        make(node, str(KGP.relationModel), relation.model, literal, str(XSD.string)),
        make(node, str(PROV.wasGeneratedBy), run_iri),
    ]
