"""The one assembler of a run's records and triples, used by the Beam pipeline and ``kg.local``.

A run is assembled in three parts, each a pure function of its inputs:

* per document (streamed): ``RunAssembler.document`` -> ``DocumentRecords``: the
  document, its mentions and links in document order, its triples (document
  node, mention nodes, text relations), the co-occurring entity pairs and the
  KB entities it links to;
* per corpus-wide key (aggregated by the caller: ``CombinePerKey`` in Beam, a
  ``Counter`` in ``kg.local``): ``entity`` (a KB entity's triples, once),
  ``category`` (a product category class, once) and ``cooccurrence`` (a pair and its count);
* once: ``run_node`` with the run's counts.

Both callers count the same things (``RunCounts``), so a run written by either
has the same run node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.relations import RelationExtractor
from kgpipe.schemas.records import Document, Entity, Link, Mention, Triple


@dataclasses.dataclass(frozen=True)
class DocumentRecords:
    """Everything one document contributes to a run.

    Attributes:
        document: The document.
        mentions: Its mentions, sorted by ``(start, end, label)``.
        links: Its links, sorted by ``(start, end)``.
        triples: Document node, mention nodes (with their entities) and text relations.
        pairs: ``(a, b)`` entity IRI pairs, ``a < b``, once per sentence mentioning both.
        entity_ids: Distinct KB entity ids linked in the document, sorted.
        categories: Product category class IRIs its product node uses (each with the classes
            above it), sorted; their class triples are made once per run (``RunAssembler.category``).
    """

    document: Document
    mentions: tuple[Mention, ...]
    links: tuple[Link, ...]
    triples: tuple[Triple, ...]
    pairs: tuple[tuple[str, str], ...]
    entity_ids: tuple[str, ...]
    categories: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class RunCounts:
    """What the run node states: documents, mentions and triples written (run node excluded)."""

    documents: int = 0
    mentions: int = 0
    triples: int = 0

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")


class RunAssembler:
    """Assembles a run's records and triples with one ``TripleBuilder``.

    Args:
        config: The builder configuration (run id, base IRI, provenance, ...).
        relation_extractors: Passed to ``TripleBuilder`` (default: product -> brand).
    """

    def __init__(self, config: BuilderConfig, relation_extractors: Sequence[RelationExtractor] | None = None):
        self.config = config
        self.builder = TripleBuilder(config, relation_extractors)

    def document(self, document: Document, mentions: Sequence[Mention], links: Sequence[Link],
                 typed_relations: Sequence = ()) -> DocumentRecords:
        """Returns the document's records and triples (mentions and links put in document order;
        ``typed_relations``: ``kg.text_relations.TypedRelation`` records of the relation model)."""
        mentions = tuple(sorted(mentions, key=lambda m: (m.start, m.end, m.label)))
        links = tuple(sorted(links, key=lambda l: (l.start, l.end)))
        triples = (*self.builder.document_triples(document), *self.builder.mention_triples(document, mentions, links,
                                                                                   typed_relations))
        return DocumentRecords(
            document=document,
            mentions=mentions,
            links=links,
            triples=triples,
            pairs=tuple(self.builder.cooccurrence_pairs(document, links)),
            entity_ids=tuple(sorted({l.entity_id for l in links if l.entity_id is not None})),
            categories=tuple(self.builder.product_facts.classes_of(triples)),
        )

    def entity(self, entity: Entity, language: str | None = None) -> list[Triple]:
        """Returns a KB entity's triples (once per run per entity)."""
        return self.builder.entity_triples(entity, language)

    def category(self, category_iri: str) -> list[Triple]:
        """Returns a product category class's triples (once per run per class)."""
        return self.builder.category_triples(category_iri)

    def cooccurrence(self, pair: tuple[str, str], count: int) -> list[Triple]:
        """Returns a co-occurring pair's triples with its count over the run."""
        return self.builder.cooccurrence_triples(tuple(pair), count)

    def cooccurrences(self, pairs: Sequence[tuple[str, str]], counts: Sequence[int]) -> dict[str, list]:
        """Returns the triples of many co-occurring pairs with their counts, column by column
        (``TripleBuilder.cooccurrence_columns``)."""
        return self.builder.cooccurrence_columns(pairs, counts)

    def run_node(self, counts: RunCounts) -> list[Triple]:
        """Returns the run node (a ``prov:Activity``) stating ``counts``."""
        return self.builder.run_triples(dataclasses.asdict(counts))


def count_pairs(records: Sequence[DocumentRecords]) -> Mapping[tuple[str, str], int]:
    """Co-occurrence counts over documents (what the pipeline's ``CombinePerKey(sum)`` computes)."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        for pair in record.pairs:
            counts[pair] = counts.get(pair, 0) + 1
    return counts
