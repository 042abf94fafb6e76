"""Documents, mentions and links -> RDF triples with provenance.

Vocabularies: NIF for text anchoring (a document is a ``nif:Context``, a
mention a ``nif:Phrase`` with ``nif:beginIndex``/``nif:endIndex`` in Unicode
code points, ``[start, end)``), PROV-O for runs, SKOS/RDFS/schema.org for
entity labels, aliases and descriptions, Dublin Core for document metadata,
and the kgpipe ontology (``schemas/ontology.ttl``) for the rest. Co-occurrence
counts are reified ``rdf:Statement``s (``kgp:Cooccurrence``) beside the plain
``kgp:coOccursWith`` triple, which every store (Jena, GraphDB, Neo4j n10s,
Oxigraph) loads from plain N-Triples.

The builder is a pure function of its inputs and config: no clock, no
randomness, so reruns give identical triples in identical order.
"""

from __future__ import annotations

import dataclasses
import enum
import numbers
from collections.abc import Sequence

from rdflib import URIRef

from kgpipe.kg import iri as iris
from kgpipe.kg.export.rdf import format_double
from kgpipe.kg.products.facts import ProductDocuments, ProductFacts, ProductFactsConfig
from kgpipe.kg.relations import BrandOfProduct, RelationExtractor, ResolvedMention
from kgpipe.kg.text_relations import TypedRelation, typed_relation_triples
from kgpipe.schemas import vocab
from kgpipe.schemas.records import Document, Entity, Link, Mention, TermKind, Triple
from kgpipe.schemas.text import sentence_spans
from kgpipe.schemas.vocab import DCTERMS, KGP, NIF, PROV, RDF, RDFS, SCHEMA, SKOS, XSD

class _Strings:
    """Term IRIs of a namespace as plain ``str``, computed once (rdflib term lookup is slow)."""

    def __init__(self, namespace) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> str:
        value = str(getattr(self._namespace, name))
        setattr(self, name, value)
        return value


_KGP, _NIF, _PROV, _RDF, _RDFS = _Strings(KGP), _Strings(NIF), _Strings(PROV), _Strings(RDF), _Strings(RDFS)
_SCHEMA, _SKOS, _DCTERMS, _XSD = _Strings(SCHEMA), _Strings(SKOS), _Strings(DCTERMS), _Strings(XSD)
_TYPE = _RDF.type
# What ``Provenance.COMPACT`` leaves out of mention nodes (besides their ``rdf:type nif:Phrase``).
PROVENANCE_PREDICATES = frozenset({str(PROV.wasGeneratedBy), str(KGP.nerModel), str(KGP.kbVersion)})
_IRI = TermKind.IRI
_LIT = TermKind.LITERAL
# Document metadata keys with a standard property (others stay in Parquet).
_METADATA_PROPERTIES = {
    "title": _DCTERMS.title,
    "category": _DCTERMS.subject,
    "date": _DCTERMS.date,
    "published": _DCTERMS.date,
    "url": _SCHEMA.url,
    "kind": _DCTERMS.type,
}


class Provenance(str, enum.Enum):
    """How much per-mention provenance the graph carries.

    ``FULL``: each mention node is also a ``nif:Phrase`` with ``prov:wasGeneratedBy``, its NER
    model and KB version, and repeats its entity's type and label. ``COMPACT``: one node per
    mention with its document, offsets, surface form, label, score and link; entity facts once
    per entity. The compact graph is the full graph minus exactly ``PROVENANCE_PREDICATES``
    statements on mentions and the ``nif:Phrase`` typing (as RDF sets: repeats collapse).
    """

    FULL = "full"
    COMPACT = "compact"


@dataclasses.dataclass(frozen=True)
class BuilderConfig:
    """Configuration of the triple builder.

    Attributes:
        run_id: The run every triple belongs to (see ``kg.manifest.derive_run_id``).
        base_iri: Absolute IRI ending in ``/`` or ``#`` under which resources are minted.
        extractor: Versions, ``"kgpipe/<version> ner=<model version> kb=<kb version>"``.
        document_text: Whether to emit each document's full text (``nif:isString``).
        kb_language: Language tag of the KB's names, aliases and descriptions
            (``None``: plain literals). Surface forms of minted entities take
            their document's language instead.
        provenance: Per-mention provenance (``Provenance.FULL`` or ``COMPACT``).
        product_documents: Which documents get a product node (``kg.products.facts.ProductDocuments``).
    """

    run_id: str
    base_iri: str = vocab.DEFAULT_BASE_IRI
    extractor: str = ""
    document_text: bool = True
    kb_language: str | None = "zh"
    provenance: Provenance = Provenance.FULL
    product_documents: ProductDocuments = ProductDocuments.AUTO

    def __post_init__(self) -> None:
        if not isinstance(self.run_id, str) or not self.run_id.strip():
            raise ValueError(f"`run_id` must be a non-empty string. Received: run_id={self.run_id!r}")
        iris.check_base_iri(self.base_iri)
        if not isinstance(self.extractor, str):
            raise ValueError(f"`extractor` must be a string. Received: extractor={self.extractor!r}")
        if not isinstance(self.document_text, bool):
            raise ValueError(f"`document_text` must be a bool. Received: document_text={self.document_text!r}")
        if not isinstance(self.provenance, Provenance):
            raise ValueError(f"`provenance` must be a Provenance ({[p.value for p in Provenance]}). "
                             f"Received: provenance={self.provenance!r}")
        if not isinstance(self.product_documents, ProductDocuments):
            raise ValueError(f"`product_documents` must be a ProductDocuments ({[d.value for d in ProductDocuments]}). "
                             f"Received: product_documents={self.product_documents!r}")


class TripleBuilder:
    """Turns pipeline records into ``Triple``s.

    Args:
        config: The builder configuration.
        relation_extractors: Extractors of entity-entity relations from text;
            by default product -> brand (``kg.relations.BrandOfProduct``).
        product_facts: Product node, brand, category and attributes of product
            titles (``kg.products.facts``); default: ``ProductFacts`` for ``config.product_documents``.
    """

    def __init__(self, config: BuilderConfig, relation_extractors: Sequence[RelationExtractor] | None = None,
                 product_facts: ProductFacts | None = None):
        self.config = config
        self.relation_extractors = tuple(relation_extractors) if relation_extractors is not None else (BrandOfProduct(),)
        self.product_facts = (product_facts if product_facts is not None
                              else ProductFacts(ProductFactsConfig(documents=config.product_documents)))
        self._base = config.base_iri
        self._run = iris.run_iri(self._base, config.run_id)

    # ---- helpers -----------------------------------------------------------------------

    def _triple(self, s: str, p: str, o: str, kind: TermKind = _IRI, datatype: str | None = None,
                language: str | None = None, doc_id: str | None = None, start: int | None = None,
                end: int | None = None, confidence: float = 1.0) -> Triple:
        return Triple(s, p, o, kind, datatype, language, doc_id, start, end, float(confidence),
                      self.config.extractor, self.config.run_id)

    def entity_iri(self, link: Link) -> str:
        """Returns the IRI of the entity a link resolves to (KB entity or minted NIL entity)."""
        if link.entity_id is not None:
            return iris.entity_iri(self._base, link.entity_id)
        return iris.nil_iri(self._base, link.nil_key)

    @staticmethod
    def _link_class(link: Link) -> URIRef:
        for kb_type in link.entity_types:
            cls = vocab.class_for_kb_type(kb_type)
            if cls != KGP.Entity:
                return cls
        return vocab.class_for_label(link.label)

    # ---- documents and runs ------------------------------------------------------------

    def document_triples(self, document: Document) -> list[Triple]:
        """Returns the document node: type, id, source, language, metadata, text and run."""
        d = iris.document_iri(self._base, document.id)
        lang = iris.language_tag(document.language)
        t = lambda p, o, kind=_LIT, **kw: self._triple(d, p, o, kind, doc_id=document.id, **kw)  # noqa: E731
        out = [t(_TYPE, _KGP.Document, _IRI), t(_DCTERMS.identifier, document.id)]
        if document.source:
            out.append(t(_KGP.source, document.source))
        if lang:
            out.append(t(_SCHEMA.inLanguage, lang))
        for key in sorted(document.metadata):
            prop, value = _METADATA_PROPERTIES.get(key.lower()), document.metadata[key]
            if prop and value:
                out.append(t(prop, value, language=lang if key.lower() == "title" else None))
        if self.config.document_text:
            out.append(t(_TYPE, _NIF.Context, _IRI))
            out.append(t(_NIF.isString, document.text))
        out.append(t(_KGP.inRun, self._run, _IRI))
        return out

    def run_triples(self, counts: dict[str, int] | None = None) -> list[Triple]:
        """Returns the run node (a ``prov:Activity``) with its extractor and optional counts.

        Args:
            counts: Optional ``{"documents": n, "mentions": n, "triples": n}``.
        """
        r = self._run
        out = [self._triple(r, _TYPE, _KGP.Run), self._triple(r, _TYPE, _PROV.Activity),
               self._triple(r, _RDFS.label, self.config.run_id, _LIT)]
        if self.config.extractor:
            out.append(self._triple(r, _KGP.extractor, self.config.extractor, _LIT))
        props = {"documents": _KGP.documentCount, "mentions": _KGP.mentionCount, "triples": _KGP.tripleCount}
        for key, value in sorted((counts or {}).items()):
            if key in props:
                out.append(self._triple(r, props[key], str(int(value)), _LIT, datatype=_XSD.integer))
        return out

    # ---- mentions ----------------------------------------------------------------------

    def mention_triples(self, document: Document, mentions: Sequence[Mention], links: Sequence[Link],
                        typed_relations: Sequence[TypedRelation] = ()) -> list[Triple]:
        """Returns mention nodes with provenance, their entities, and text relations.

        Mentions and links align by ``(start, end)``; a mention may lack a link
        (then it refers to nothing) and a link without a mention still gets a
        mention node. Linked entities get their KB id, type and name; NIL
        entities get the minted IRI, their type from the NER label, their
        surface form as label and ``kgp:minted true``.
        """
        by_span = {(l.start, l.end): l for l in links}
        spans = sorted({(m.start, m.end) for m in mentions} | set(by_span))
        mention_at = {(m.start, m.end): m for m in mentions}
        out: list[Triple] = []
        resolved: list[ResolvedMention] = []
        lang = iris.language_tag(document.language)
        compact = self.config.provenance is Provenance.COMPACT
        described: set[tuple] = set()  # Compact: an entity's type and label once per document.
        for span in spans:
            mention, link = mention_at.get(span), by_span.get(span)
            out.extend(self._mention_node(document, span, mention, link))
            if link is not None:
                entity = self.entity_iri(link)
                facts = self._link_entity(document, link, entity, mention, lang)
                if compact:
                    facts = [f for f in facts if _statement(f) not in described]
                    described.update(map(_statement, facts))
                out.extend(facts)
                score = (mention.score if mention else 1.0) * link.score
                resolved.append(ResolvedMention(span[0], span[1], link.text, entity, self._entity_class(link, mention),
                                                score, mention, link))
        for extractor in self.relation_extractors:
            for rel in extractor.extract(document, resolved):
                out.append(self._triple(rel.subject, rel.predicate, rel.object, doc_id=document.id,
                                        start=rel.start, end=rel.end, confidence=rel.confidence))
        if typed_relations:  # from the relation model (kg.text_relations)
            out.extend(typed_relation_triples(document, resolved, typed_relations, self._triple, self._base,
                                              self._run)[0])
        for f in self.product_facts.extract(document, resolved, self._base):
            out.append(self._triple(f.subject, f.predicate, f.object, f.kind, f.datatype, f.language,
                                    doc_id=document.id, start=f.start, end=f.end, confidence=f.confidence))
        return out

    def _entity_class(self, link: Link, mention: Mention | None) -> URIRef:
        if link.is_nil:
            return vocab.class_for_label(mention.label if mention else link.label)
        return self._link_class(link)

    def _mention_node(self, document: Document, span: tuple[int, int], mention: Mention | None,
                      link: Link | None) -> list[Triple]:
        start, end = span
        m = iris.mention_iri(self._base, document.id, start, end)
        score = mention.score if mention else (link.score if link else 1.0)
        t = lambda p, o, kind=_LIT, dt=None, conf=score: self._triple(  # noqa: E731
            m, p, o, kind, datatype=dt, doc_id=document.id, start=start, end=end, confidence=conf)
        integer = _XSD.integer  # Not xsd:nonNegativeInteger: Oxigraph stores that as xsd:integer.
        surface = mention.text if mention else link.text
        label = mention.label if mention else link.label
        full = self.config.provenance is Provenance.FULL
        out = [t(_TYPE, _KGP.Mention, _IRI),
               t(_NIF.referenceContext, iris.document_iri(self._base, document.id), _IRI),
               t(_NIF.beginIndex, str(start), dt=integer), t(_NIF.endIndex, str(end), dt=integer),
               t(_NIF.anchorOf, surface), t(_KGP.nerLabel, label)]
        if full:
            out.insert(1, t(_TYPE, _NIF.Phrase, _IRI))
        if mention is not None:
            out.append(t(_KGP.nerScore, format_double(mention.score), dt=_XSD.double))
            if full:
                out.append(t(_KGP.nerModel, mention.model))
        if link is not None:
            out.append(t(_KGP.refersTo, self.entity_iri(link), _IRI, conf=link.score))
            out.append(t(_KGP.linkScore, format_double(link.score), dt=_XSD.double, conf=link.score))
            if link.kb_version and full:
                out.append(t(_KGP.kbVersion, link.kb_version, conf=link.score))
        if full:
            out.append(t(_PROV.wasGeneratedBy, self._run, _IRI))
        return out

    def _link_entity(self, document: Document, link: Link, entity: str, mention: Mention | None,
                     lang: str | None) -> list[Triple]:
        t = lambda p, o, kind=_LIT, **kw: self._triple(  # noqa: E731
            entity, p, o, kind, doc_id=document.id, start=link.start, end=link.end, confidence=link.score, **kw)
        if link.is_nil:
            return [t(_TYPE, str(self._entity_class(link, mention)), _IRI),
                    t(_RDFS.label, link.text, language=lang),
                    t(_KGP.minted, "true", datatype=_XSD.boolean)]
        out = [t(_TYPE, str(self._link_class(link)), _IRI), t(_KGP.kbId, link.entity_id)]
        if link.entity_name:  # A KB name: the KB's language, whatever the document's.
            out.append(t(_RDFS.label, link.entity_name, language=iris.language_tag(self.config.kb_language)))
        return out

    # ---- KB entities -------------------------------------------------------------------

    def entity_triples(self, entity: Entity, language: str | None = None) -> list[Triple]:
        """Returns a KB entity's types, language-tagged labels and aliases, description and KB id.

        Args:
            language: Language tag of the KB's text; ``None``: ``config.kb_language``.
        """
        e = iris.entity_iri(self._base, entity.id)
        lang = iris.language_tag(language if language is not None else self.config.kb_language)
        t = lambda p, o, kind=_LIT, **kw: self._triple(e, p, o, kind, **kw)  # noqa: E731
        classes = sorted({str(vocab.class_for_kb_type(kb_type)) for kb_type in entity.types}) or [_KGP.Entity]
        if len(classes) > 1 and _KGP.Entity in classes:
            classes.remove(_KGP.Entity)
        out = [t(_TYPE, cls, _IRI) for cls in classes]
        out += [t(_RDFS.label, entity.name, language=lang), t(_SKOS.prefLabel, entity.name, language=lang)]
        for alias in dict.fromkeys(entity.aliases):
            if alias and alias != entity.name:
                out.append(t(_SKOS.altLabel, alias, language=lang))
        if entity.description:
            out.append(t(_SCHEMA.description, entity.description, language=lang))
        out.append(t(_KGP.kbId, entity.id))
        return out

    def category_triples(self, category_iri: str) -> list[Triple]:
        """Returns a product category class (``owl:Class``, parent, labels), once per run per class."""
        return [self._triple(f.subject, f.predicate, f.object, f.kind, f.datatype, f.language)
                for f in self.product_facts.class_facts(category_iri)]

    # ---- co-occurrence -----------------------------------------------------------------

    def cooccurrence_pairs(self, document: Document, links: Sequence[Link]) -> list[tuple[str, str]]:
        """Returns ``(a, b)`` entity IRI pairs, ``a < b``, once per sentence mentioning both.

        A link belongs to the sentence (``schemas.text.sentence_spans``) holding its first character.
        """
        ordered = sorted(links, key=lambda l: (l.start, l.end))
        pairs: list[tuple[str, str]] = []
        i = 0
        for start, end in sentence_spans(document.text):
            while i < len(ordered) and ordered[i].start < start:
                i += 1
            entities: set[str] = set()
            while i < len(ordered) and ordered[i].start < end:
                entities.add(self.entity_iri(ordered[i]))
                i += 1
            members = sorted(entities)
            pairs.extend((a, b) for k, a in enumerate(members) for b in members[k + 1:])
        return pairs

    def cooccurrence_triples(self, pair: tuple[str, str], count: int) -> list[Triple]:
        """Returns ``a kgp:coOccursWith b`` and its reified statement carrying ``count`` for this run."""
        columns = self.cooccurrence_columns([pair], [count])
        return [Triple(*row) for row in zip(*columns.values())]

    def cooccurrence_columns(self, pairs: Sequence[tuple[str, str]], counts: Sequence[int]) -> dict[str, list]:
        """Returns the triples of ``cooccurrence_triples`` for many pairs, column by column.

        One list per ``Triple`` field (in field order), seven rows per pair, in the order
        ``cooccurrence_triples`` gives them: a run's tens of thousands of pairs never become
        ``Triple`` objects (``schemas.arrow.columns_to_table``, ``kg.export.rdf.ntriples_columns``).

        Raises:
            ValueError: A pair is not ordered ``a < b``, a count is not a positive integer, or the
                lengths of ``pairs`` and ``counts`` differ.
        """
        if len(pairs) != len(counts):
            raise ValueError(f"`pairs` and `counts` must have equal lengths. Received: {len(pairs)} and {len(counts)}")
        subjects: list[str] = []
        objects: list[str] = []
        for pair, count in zip(pairs, counts):
            a, b = pair
            if not a < b:
                raise ValueError(f"A co-occurrence pair must be ordered a < b. Received: pair={tuple(pair)!r}")
            if not _is_positive_int(count):
                raise ValueError(f"`count` must be a positive integer. Received: count={count!r}")
            s = iris.cooccurrence_iri(self._base, self.config.run_id, a, b)
            subjects += (a, s, s, s, s, s, s)
            objects += (b, _KGP.Cooccurrence, a, _KGP.coOccursWith, b, str(int(count)), self._run)
        n = len(pairs)
        return {
            "subject": subjects,
            "predicate": [_KGP.coOccursWith, _TYPE, _RDF.subject, _RDF.predicate, _RDF.object,
                          _KGP.cooccurrenceCount, _PROV.wasGeneratedBy] * n,
            "object": objects,
            "object_kind": [_IRI, _IRI, _IRI, _IRI, _IRI, _LIT, _IRI] * n,
            "datatype": [None, None, None, None, None, _XSD.integer, None] * n,
            "language": [None] * (7 * n),
            "doc_id": [None] * (7 * n),
            "start": [None] * (7 * n),
            "end": [None] * (7 * n),
            "confidence": [1.0] * (7 * n),
            "extractor": [self.config.extractor] * (7 * n),
            "run_id": [self.config.run_id] * (7 * n),
        }


def _is_positive_int(value) -> bool:
    integral = type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))
    return integral and value >= 1


def _statement(triple: Triple) -> tuple:
    """The RDF statement of a triple (what a store keeps), without its provenance columns."""
    return triple.subject, triple.predicate, triple.object, triple.object_kind, triple.datatype, triple.language
