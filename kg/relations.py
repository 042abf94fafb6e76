"""Relations between entities read from the text: the builder's extension point.

A relation extractor sees one document and its mentions already resolved to
entity IRIs and ontology classes, and returns ``Relation`` records; the
``TripleBuilder`` turns them into triples with the document's provenance.
Rule-based extractors live here; a learned relation-extraction model plugs in
by implementing the same ``RelationExtractor`` protocol (``extract`` must not
mutate its inputs and must be deterministic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from rdflib import URIRef

from kgpipe.schemas.records import Document, Link, Mention
from kgpipe.schemas.text import sentence_spans
from kgpipe.schemas.vocab import KGP


@dataclasses.dataclass(frozen=True)
class ResolvedMention:
    """A mention with the entity it was resolved to.

    Attributes:
        start, end: Character offsets ``[start, end)`` in the document.
        text: The surface form.
        entity: IRI of the linked or minted entity.
        entity_class: Ontology class of that entity (``KGP.Brand``, ...).
        confidence: Joint confidence in [0, 1] (NER score times link score).
        mention: The NER mention, if any.
        link: The linking decision, if any.
    """

    start: int
    end: int
    text: str
    entity: str
    entity_class: URIRef
    confidence: float
    mention: Mention | None = None
    link: Link | None = None


@dataclasses.dataclass(frozen=True)
class Relation:
    """One extracted statement ``subject predicate object`` between entity IRIs.

    Attributes:
        subject, predicate, object: Absolute IRIs.
        start, end: Offsets of the supporting text span in the document.
        confidence: Confidence in [0, 1].
    """

    subject: str
    predicate: str
    object: str
    start: int
    end: int
    confidence: float


class RelationExtractor(Protocol):
    """What the builder needs of a relation extractor."""

    def extract(self, document: Document, mentions: Sequence[ResolvedMention]) -> list[Relation]:
        """Returns the relations the text of ``document`` supports, in a deterministic order."""
        ...


@dataclasses.dataclass(frozen=True)
class BrandOfProduct:
    """Product -> brand (``kgp:brand``, i.e. ``schema:brand``) from product text such as titles.

    Within one sentence, each product mention takes the nearest brand mention
    before it (Chinese titles put the brand first: "华为 Mate40 手机"), else the
    nearest after it. An unlinked brand mention directly after a KB-linked one
    ("华为Mate 60 手机") is taken for a series name: the linked brand is the maker. A brand is a ``kgp:Brand`` entity no more than
    ``max_gap`` characters away, or, as schema.org allows, an organisation
    directly attached to the product name ("苹果iPhone 15", "联想ThinkPad"): at
    most ``max_organization_gap`` characters away, so a company merely
    mentioned near a product in news text is not taken for its maker (unless the
    tagger labelled that mention ``BRAND``: then it is a brand in this text).

    Attributes:
        max_gap: Most characters between a brand and a product mention.
        max_organization_gap: Most characters between an organisation and a product mention.
    """

    max_gap: int = 20
    max_organization_gap: int = 2

    def __post_init__(self) -> None:
        for name in ("max_gap", "max_organization_gap"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")

    def extract(self, document: Document, mentions: Sequence[ResolvedMention]) -> list[Relation]:
        makers = sorted((m for m in mentions if m.entity_class in (KGP.Brand, KGP.Organization)),
                        key=lambda m: (m.start, m.end))
        products = sorted((m for m in mentions if m.entity_class == KGP.Product), key=lambda m: (m.start, m.end))
        if not makers or not products:
            return []
        relations: dict[tuple[str, str], Relation] = {}
        for start, end in sentence_spans(document.text):
            in_sentence = [b for b in makers if start <= b.start < end]
            for product in (p for p in products if start <= p.start < end):
                brand = self._nearest(product, in_sentence)
                if brand is None or brand.entity == product.entity:
                    continue
                key = (product.entity, brand.entity)
                if key not in relations:
                    relations[key] = Relation(
                        subject=product.entity,
                        predicate=str(KGP.brand),
                        object=brand.entity,
                        start=min(brand.start, product.start),
                        end=max(brand.end, product.end),
                        confidence=min(brand.confidence, product.confidence),
                    )
        return list(relations.values())

    def _limit(self, maker: ResolvedMention) -> int:
        # A company the tagger read as a brand in this text ("华为 ... 手机") counts as one.
        as_brand = maker.entity_class == KGP.Brand or (maker.mention is not None
                                                       and maker.mention.label == "BRAND")
        return self.max_gap if as_brand else self.max_organization_gap

    def _nearest(self, product: ResolvedMention, makers: list[ResolvedMention]) -> ResolvedMention | None:
        before = [b for b in makers if b.end <= product.start and product.start - b.end <= self._limit(b)]
        if before:
            nearest = max(before, key=lambda b: (b.end, b.entity_class == KGP.Brand, b.start))
            # "华为Mate 60 手机": an unlinked brand mention right after a KB-linked one is a
            # series name attached to its brand (brand, series, model), not a second brand.
            attached = [b for b in before if b.end == nearest.start and _linked(b)]
            return attached[0] if attached and not _linked(nearest) else nearest
        after = [b for b in makers if b.start >= product.end and b.start - product.end <= self._limit(b)]
        return min(after, key=lambda b: (b.start, b.entity_class != KGP.Brand, b.end)) if after else None


def _linked(mention: ResolvedMention) -> bool:
    """Whether the mention was linked to a KB entity (not NIL)."""
    return mention.link is not None and mention.link.entity_id is not None
