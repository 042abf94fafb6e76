"""Product categories: the hierarchy as a tree of classes, and a keyword classifier over titles.

Every category is an OWL class under ``hierarchy.CATEGORY_NAMESPACE`` whose
top-level ancestors are subclasses of ``kgp:Product``; a product node gets
``kgp:category`` and ``rdf:type`` of the one category its title is placed in.

The classifier scores each category by the keywords found in the title
(leftmost-longest matches, so ``手机壳`` is not also ``手机``): a match counts
its length in characters (Latin keywords half that), a weak keyword a third of
it, and a match right after ``适用``/``兼容``/``送`` (what an accessory fits, or
a gift) or right before ``级``/``通用`` (``单反级``, ``电磁炉通用``) a fifth. The best-scoring
category wins; ties go to the deeper, then
the later-matched category (titles name the product before its selling points).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from kgpipe.kg.products import units
from kgpipe.kg.products.hierarchy import CATEGORY_NAMESPACE, ROWS

_DISCOUNT_BEFORE = re.compile(r"(?:适用|兼容|适配|支持|送|赠|配|for)\s?$", re.IGNORECASE)
# "单反级人像" (as good as a DSLR), "电磁炉通用" (fits an induction hob): the product is something else.
_DISCOUNT_AFTER = re.compile(r"^(?:级|般|同款|通用|适用|可用|专用)")


@dataclasses.dataclass(frozen=True)
class Category:
    """One product type.

    Attributes:
        id: Local name of its class (``"Smartphone"``).
        parent: Id of its parent, ``None`` for a top-level type.
        label_zh, label_en: Labels.
        keywords: ``(keyword, weight)`` pairs that name it in titles.
    """

    id: str
    parent: str | None
    label_zh: str
    label_en: str
    keywords: tuple[tuple[str, float], ...]

    @property
    def iri(self) -> str:
        """The class IRI."""
        return CATEGORY_NAMESPACE + self.id


@dataclasses.dataclass(frozen=True)
class CategoryMatch:
    """A title's category with the evidence for it.

    Attributes:
        category: The winning category.
        confidence: Its share of all categories' scores, in (0, 1].
        start, end: The span ``[start, end)`` of its strongest keyword in the title.
    """

    category: Category
    confidence: float
    start: int
    end: int


class CategoryTree:
    """The category hierarchy (default: ``hierarchy.ROWS``).

    Raises:
        ValueError: If ids repeat, a parent is unknown, or the parents form a cycle.
    """

    def __init__(self, rows: Iterable[tuple[str, str | None, str, str, str]] = ROWS):
        self._by_id: dict[str, Category] = {}
        for id_, parent, zh, en, keywords in rows:
            if id_ in self._by_id or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", id_):
                raise ValueError(f"Category ids must be unique ASCII names. Received: id={id_!r}")
            pairs = tuple((k.lstrip("~"), 1 / 3 if k.startswith("~") else 1.0) for k in keywords.split())
            self._by_id[id_] = Category(id_, parent, zh, en, pairs)
        for category in self._by_id.values():
            if category.parent is not None and category.parent not in self._by_id:
                raise ValueError(f"Unknown parent category. Received: parent={category.parent!r} of {category.id!r}")
            if len(self.ancestors(category.id)) > len(self._by_id):
                raise ValueError(f"Category parents form a cycle at {category.id!r}")

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, category_id: str) -> Category:
        """Returns the category with id ``category_id`` (a ``KeyError`` names unknown ids)."""
        try:
            return self._by_id[category_id]
        except KeyError:
            raise KeyError(f"Unknown category id. Received: category_id={category_id!r}") from None

    def find(self, label: str) -> Category | None:
        """Returns the category with this id, Chinese or English label, or ``None``."""
        for category in self._by_id.values():
            if label in (category.id, category.label_zh, category.label_en):
                return category
        return None

    def ancestors(self, category_id: str) -> list[Category]:
        """Returns the category and its ancestors, nearest first (bounded, so a cycle cannot hang)."""
        out, current = [], self._by_id.get(category_id)
        while current is not None and len(out) <= len(self._by_id):
            out.append(current)
            current = self._by_id.get(current.parent) if current.parent else None
        return out


class CategoryClassifier:
    """Places a title in the category tree by keywords (pure, deterministic).

    Args:
        tree: The hierarchy; default ``CategoryTree()``.
    """

    def __init__(self, tree: CategoryTree | None = None):
        self.tree = tree or CategoryTree()
        by_keyword: dict[str, tuple[Category, float]] = {}
        for category in self.tree:
            for keyword, weight in category.keywords:
                key = keyword.lower()
                if key in by_keyword and by_keyword[key][0].id != category.id:
                    raise ValueError(f"Keyword {keyword!r} names two categories: "
                                     f"{by_keyword[key][0].id}, {category.id}")
                by_keyword[key] = (category, weight)
        self._by_keyword = by_keyword
        ordered = sorted(by_keyword, key=lambda k: (-len(k), k))
        self._pattern = re.compile("|".join(re.escape(k) for k in ordered), re.IGNORECASE)

    def classify(self, text: str) -> CategoryMatch | None:
        """Returns the title's category, or ``None`` if no keyword of any category occurs."""
        folded = units.fold(text)
        scores: dict[str, float] = {}
        best_span: dict[str, tuple[float, int, int]] = {}
        last: dict[str, int] = {}
        for match in self._pattern.finditer(folded):
            category, weight = self._by_keyword[match.group().lower()]
            length = len(match.group()) / (2 if match.group().isascii() else 1)
            aside = _DISCOUNT_BEFORE.search(folded[:match.start()]) or _DISCOUNT_AFTER.search(folded[match.end():])
            score = length * weight * (0.2 if aside else 1.0)
            scores[category.id] = scores.get(category.id, 0.0) + score
            last[category.id] = match.start()
            if score > best_span.get(category.id, (0.0, 0, 0))[0]:
                best_span[category.id] = (score, match.start(), match.end())
        if not scores:
            return None
        winner = max(scores, key=lambda c: (round(scores[c], 6), len(self.tree.ancestors(c)), last[c]))
        _, start, end = best_span[winner]
        return CategoryMatch(self.tree.get(winner), scores[winner] / sum(scores.values()), start, end)
