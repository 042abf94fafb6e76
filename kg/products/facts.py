"""Product titles -> product nodes with brand, category and attributes (the builder's product hook).

For each document that is product text, one product node ``<document IRI>#product``
(the item the title offers, a ``kgp:Product``) is described with schema.org terms::

    <doc/p1#product> a kgp:Product, kgpc:Smartphone ; rdfs:label "华为 Mate 60 Pro"@zh ;
        schema:name "华为Mate 60 Pro 智能手机 12GB+512GB 雅丹黑"@zh ;
        prov:wasDerivedFrom <doc/p1> ; kgp:brand <entity/huawei> ; kgp:category kgpc:Smartphone ;
        schema:model "Mate 60 Pro" ; schema:color "雅丹黑"@zh ;
        schema:additionalProperty <doc/p1#product-storage> .
    <doc/p1#product-storage> a schema:QuantitativeValue ; schema:name "storage" ;
        schema:value 512.0 ; schema:unitCode "E34" ; schema:unitText "GB" .
    kgpc:Smartphone a owl:Class ; rdfs:subClassOf kgpc:Electronics ; rdfs:label "手机"@zh, "Smartphone"@en .

The classes (the last line, for the category and each one above it) are stated once per run,
not per title: ``classes_of`` names those a title's facts use, ``class_facts`` describes one.

Each fact keeps the span ``[start, end)`` of the text it rests on and a
confidence, which the builder turns into the triple's provenance. Brands are the
title's brand and organisation mentions (both of a 联名 title), except those
after ``适用``/``兼容``/``支持`` (what an accessory fits, the networks a phone
supports); a product mention linked to a KB entity becomes ``schema:isVariantOf``. The item node is per document, so the
attributes of one seller's title never pile up on a shared entity such as "iPhone".
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence

from kgpipe.kg import iri as iris
from kgpipe.kg.products.attributes import QUANTITATIVE, Attribute, AttributeConfig, AttributeExtractor, AttributeName
from kgpipe.kg.products.categories import CategoryClassifier, CategoryMatch, CategoryTree
from kgpipe.kg.relations import ResolvedMention
from kgpipe.schemas.records import Document, TermKind
from kgpipe.schemas.vocab import KGP, OWL, PROV, RDF, RDFS, SCHEMA, XSD

_IRI, _LIT = TermKind.IRI, TermKind.LITERAL
_CATEGORY = str(KGP.category)
_FITS = re.compile(r"适用|兼容|适配|支持|\bfor\b", re.IGNORECASE)
_NOT_TITLE = re.compile(r"[。\n\r]")
# Words of news headlines and wire ledes, not of product titles ("华为发布新款折叠屏手机" has no
# full stop either; "新浪体育讯北京时间2月11日，..." is a news item cut short; "...调查：" a poll). None of
# the 4,489 e-commerce titles of the Ding et al. corpus has one of the lede markers.
_HEADLINE = re.compile(r"了|发布|宣布|表示|报道|记者|指出|认为|会见|召开|举行|亮相|推出|称|将于|据悉"
                       r"|北京时间|(?:体育|科技|财经|娱乐|汽车|家居|教育|游戏|新闻)讯|\d日电|消息称|调查[:：]")


class ProductDocuments(str, enum.Enum):
    """Which documents get a product node.

    ``AUTO``: those whose ``kind`` metadata names product text, or, without a
    ``kind``, one-line texts without a full stop or headline words (``发布``,
    ``宣布``, ``了``) that name a category.
    """

    AUTO = "auto"
    ALL = "all"
    NONE = "none"


@dataclasses.dataclass(frozen=True)
class ProductFactsConfig:
    """Configuration of the product facts.

    Attributes:
        documents: Which documents are product text (``ProductDocuments``).
        product_kinds: ``kind`` metadata values (case-insensitive) that mark product text.
        max_title_length: Longest text (characters) ``AUTO`` reads as a title without a ``kind``.
        attributes: The attribute extractor's configuration.
    """

    documents: ProductDocuments = ProductDocuments.AUTO
    product_kinds: tuple[str, ...] = ("product", "products", "title", "item", "商品", "ecommerce")
    max_title_length: int = 200
    attributes: AttributeConfig = AttributeConfig()

    def __post_init__(self) -> None:
        if not isinstance(self.documents, ProductDocuments):
            raise ValueError(f"`documents` must be a ProductDocuments ({[d.value for d in ProductDocuments]}). "
                             f"Received: documents={self.documents!r}")
        if not isinstance(self.product_kinds, tuple) or not all(isinstance(k, str) for k in self.product_kinds):
            raise ValueError(f"`product_kinds` must be a tuple of strings. "
                             f"Received: product_kinds={self.product_kinds!r}")
        if not isinstance(self.max_title_length, int) or self.max_title_length < 1:
            raise ValueError(f"`max_title_length` must be a positive integer. "
                             f"Received: max_title_length={self.max_title_length!r}")
        if not isinstance(self.attributes, AttributeConfig):
            raise ValueError(f"`attributes` must be an AttributeConfig. Received: attributes={self.attributes!r}")


@dataclasses.dataclass(frozen=True)
class Fact:
    """One statement about a product, before the builder adds run and extractor.

    Attributes:
        subject, predicate: Absolute IRIs.
        object: An IRI or a literal's lexical form, per ``kind``.
        kind: ``TermKind.IRI`` or ``TermKind.LITERAL``.
        datatype, language: Of a literal object (at most one of them).
        start, end: Offsets of the supporting text in the document (``None``: the whole document).
        confidence: Confidence in [0, 1].
    """

    subject: str
    predicate: str
    object: str
    kind: TermKind = _IRI
    datatype: str | None = None
    language: str | None = None
    start: int | None = None
    end: int | None = None
    confidence: float = 1.0


class ProductFacts:
    """Builds product facts from a document and its resolved mentions (pure, deterministic).

    Args:
        config: The configuration; default ``ProductFactsConfig()``.
        tree: The category hierarchy; default ``CategoryTree()``.
    """

    def __init__(self, config: ProductFactsConfig | None = None, tree: CategoryTree | None = None):
        self.config = config or ProductFactsConfig()
        self.classifier = CategoryClassifier(tree)
        self.extractor = AttributeExtractor(self.config.attributes)
        self._kinds = frozenset(k.strip().lower() for k in self.config.product_kinds)
        self._by_iri = {c.iri: c.id for c in self.classifier.tree}

    def is_product_text(self, document: Document) -> tuple[bool, CategoryMatch | None]:
        """Whether ``document`` gets a product node (see ``ProductDocuments``), and its category.

        The classifier runs only on texts that can be titles, so long news text costs a regex search.
        """
        mode = self.config.documents
        if mode is ProductDocuments.NONE or not document.text.strip():
            return False, None
        kinds = [v for k, v in document.metadata.items() if k.lower() == "kind"]
        if mode is ProductDocuments.ALL or kinds:
            product = mode is ProductDocuments.ALL or kinds[0].strip().lower() in self._kinds
            return product, self.classifier.classify(document.text) if product else None
        text = document.text.strip()
        if len(text) > self.config.max_title_length or _NOT_TITLE.search(text) or _HEADLINE.search(text):
            return False, None
        category = self.classifier.classify(document.text)
        return category is not None, category

    def extract(self, document: Document, mentions: Sequence[ResolvedMention], base_iri: str) -> list[Fact]:
        """Returns the product facts of one document (``[]`` if it is not product text)."""
        product, category = self.is_product_text(document)
        if not product:
            return []
        item = iris.document_iri(base_iri, document.id) + "#product"
        lang = iris.language_tag(document.language)
        brands = self._brands(document.text, mentions)
        if any(_linked(b) for b in brands) and not all(_linked(b) for b in brands):
            brands = self._without_series_words(document.text, brands)
        attributes = self.extractor.extract(document.text, [_brand_span(document.text, b) for b in brands])
        whole = {"start": 0, "end": len(document.text)}  # Not empty: is_product_text says so.
        label = _short_label(document.text, brands, attributes)
        facts = [Fact(item, str(RDF.type), str(KGP.Product), **whole),
                 Fact(item, str(RDFS.label), label, _LIT, language=lang, **whole),
                 Fact(item, str(SCHEMA.name), document.text.strip(), _LIT, language=lang, **whole),
                 Fact(item, str(PROV.wasDerivedFrom), iris.document_iri(base_iri, document.id))]
        facts += [Fact(item, str(KGP.brand), b.entity, start=b.start, end=b.end, confidence=b.confidence)
                  for b in brands]
        facts += [Fact(item, str(SCHEMA.isVariantOf), m.entity, start=m.start, end=m.end, confidence=m.confidence)
                  for m in mentions if m.entity_class == KGP.Product and m.link is not None and m.link.entity_id]
        if category is not None:
            facts += self._category(item, category)
        facts += self._attributes(item, attributes, lang)
        return facts

    def _brands(self, text: str, mentions: Sequence[ResolvedMention]) -> list[ResolvedMention]:
        """Brand and organisation mentions before any "fits ..." marker, one per entity, in text order.

        An unlinked brand mention right after a KB-linked one is a series name, not a
        second brand ("华为Mate 60": brand, series, model), as in ``kg.relations.BrandOfProduct``.
        """
        fits = _FITS.search(text)
        limit = fits.start() if fits else len(text)
        makers = sorted((m for m in mentions if m.entity_class in (KGP.Brand, KGP.Organization) and m.start < limit),
                        key=lambda m: (m.start, m.end))
        linked_ends = {m.end for m in makers if _linked(m)}
        seen: dict[str, ResolvedMention] = {}
        for mention in makers:
            if not _linked(mention) and (mention.start in linked_ends or mention.start - 1 in linked_ends):
                continue
            seen.setdefault(mention.entity, mention)
        return list(seen.values())

    def _without_series_words(self, text: str, brands: list[ResolvedMention]) -> list[ResolvedMention]:
        """Drops unlinked brand mentions that lie inside the model the title names once the
        KB-linked brands alone are kept out of it ("戴森 Dyson V15 Detect": model "V15 Detect",
        not model "V15" and a brand "Detect")."""
        linked = [b for b in brands if _linked(b)]
        models = [(a.start, a.end) for a in self.extractor.extract(text, [_brand_span(text, b) for b in linked])
                  if a.name is AttributeName.MODEL]
        return [b for b in brands if _linked(b) or not any(s <= b.start and b.end <= e for s, e in models)]

    def _category(self, item: str, match: CategoryMatch) -> list[Fact]:
        span = {"start": match.start, "end": match.end, "confidence": round(match.confidence, 6)}
        return [Fact(item, str(KGP.category), match.category.iri, **span),
                Fact(item, str(RDF.type), match.category.iri, **span)]

    def classes_of(self, facts: Sequence) -> list[str]:
        """The category classes that facts (or triples) with ``kgp:category`` use: each category and
        every one above it, as IRIs, sorted (describe each once per run with ``class_facts``)."""
        used = {f.object for f in facts if f.predicate == _CATEGORY}
        tree = self.classifier.tree
        return sorted({c.iri for iri in used if iri in self._by_iri for c in tree.ancestors(self._by_iri[iri])})

    def class_facts(self, category_iri: str) -> list[Fact]:
        """A category class: ``owl:Class``, its parent (``kgp:Product`` at the top) and its labels."""
        tree = self.classifier.tree
        category = tree.get(self._by_iri[category_iri])
        parent = tree.get(category.parent).iri if category.parent else str(KGP.Product)
        return [Fact(category.iri, str(RDF.type), str(OWL.Class)),
                Fact(category.iri, str(RDFS.subClassOf), parent),
                Fact(category.iri, str(RDFS.label), category.label_zh, _LIT, language="zh"),
                Fact(category.iri, str(RDFS.label), category.label_en, _LIT, language="en")]

    def _attributes(self, item: str, attributes: Sequence[Attribute], lang: str | None) -> list[Fact]:
        facts: list[Fact] = []
        counts: dict[AttributeName, int] = {}
        for a in attributes:
            span = {"start": a.start, "end": a.end, "confidence": a.confidence}
            if a.name is AttributeName.MODEL:
                facts.append(Fact(item, str(SCHEMA.model), a.value, _LIT, **span))
                continue
            if a.name is AttributeName.COLOR:
                facts.append(Fact(item, str(SCHEMA.color), a.value, _LIT, language=lang, **span))
                continue
            counts[a.name] = counts.get(a.name, 0) + 1
            node = f"{item}-{a.name.value}" + (f"-{counts[a.name]}" if counts[a.name] > 1 else "")
            quantity = a.name in QUANTITATIVE
            facts += [Fact(item, str(SCHEMA.additionalProperty), node, **span),
                      Fact(node, str(RDF.type), str(SCHEMA.QuantitativeValue if quantity else SCHEMA.PropertyValue),
                           **span),
                      Fact(node, str(SCHEMA.name), a.name.value, _LIT, **span),
                      Fact(node, str(SCHEMA.value), a.value, _LIT, datatype=str(XSD.decimal) if quantity else None,
                           **span)]
            if a.unit_code:
                facts.append(Fact(node, str(SCHEMA.unitCode), a.unit_code, _LIT, **span))
            if a.unit_text:
                facts.append(Fact(node, str(SCHEMA.unitText), a.unit_text, _LIT, **span))
            if a.name is AttributeName.WEIGHT:
                facts.append(Fact(item, str(SCHEMA.weight), node, **span))
        return facts


def _linked(mention: ResolvedMention) -> bool:
    return mention.link is not None and mention.link.entity_id is not None


_NAME_BEFORE_LATIN = re.compile(r"[^\x00-\x7f\uff01-\uff5e\s]{2,}(?=\s?[A-Za-z\uff21-\uff3a\uff41-\uff5a])")


def brand_name_length(surface: str) -> int:
    """Characters of a brand mention that name the brand: a Chinese name without the Latin tail a
    tagger joined to it ("联想ThinkPad", "大疆Mini", "苹果 iPhone" -> 2), since titles write brand then
    series; the whole surface otherwise ("OPPO", "耐克", "jaff 捷夫"). None of the 4,489 titles of
    the e-commerce NER corpus (Ding et al. 2019) has a gold brand joined that way."""
    head = _NAME_BEFORE_LATIN.match(surface)
    return head.end() if head else len(surface)


def _brand_span(text: str, brand: ResolvedMention) -> tuple[int, int]:
    """The span kept out of the model: the brand's name (``brand_name_length``)."""
    return brand.start, brand.start + brand_name_length(text[brand.start:brand.end])


def _short_label(text: str, brands: Sequence[ResolvedMention], attributes: Sequence[Attribute],
                 limit: int = 20) -> str:
    """A label for pictures and lists: brand and model ("华为 Mate 60 Pro"), else the title's first words."""
    model = next((a.value for a in attributes if a.name is AttributeName.MODEL), None)
    if model:
        brand = text[slice(*_brand_span(text, brands[0]))] if brands else ""
        return f"{brand} {model}" if brand and brand.lower() not in model.lower() else model
    words, out = text.split(), ""
    for word in words:
        if out and len(out) + 1 + len(word) > limit:
            break
        out = f"{out} {word}" if out else word
    return out if len(out) <= limit else out[:limit - 1] + "…"
