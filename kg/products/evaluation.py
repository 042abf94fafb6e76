"""Scores attribute extraction and categories against labelled titles.

Gold files are JSON Lines, one title per line::

    {"id": "dev-001", "split": "dev", "text": "...", "category": "手机",
     "attributes": {"memory": ["12 E34"], "color": ["雅丹黑"], "model": ["Mate 60 Pro"]}}

A quantity is written ``"<canonical decimal> <UN/CEFACT code>"``; other values as
text. Scores are exact matches on normalised values, micro-averaged: per
attribute, a predicted ``(title, value)`` pair is a true positive if the gold
lists it (each pair counted once). Category accuracy is exact leaf match;
``top_level_accuracy`` compares the top-level ancestors.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable

from kgpipe.kg.products.attributes import Attribute, AttributeExtractor, AttributeName
from kgpipe.kg.products.categories import CategoryClassifier
from kgpipe.schemas.scores import Score


@dataclasses.dataclass(frozen=True)
class LabelledTitle:
    """One gold title: id, split, text, category label and ``{attribute: {values}}``."""

    id: str
    split: str
    text: str
    category: str
    attributes: dict[str, frozenset[str]]


def value_text(attribute: Attribute) -> str:
    """The gold-file spelling of an attribute's value (``"256 E34"`` or ``"子夜黑"``)."""
    return f"{attribute.value} {attribute.unit_code}" if attribute.unit_code else attribute.value


def load_titles(path: str | os.PathLike[str], split: str | None = None) -> list[LabelledTitle]:
    """Reads a gold file; ``split`` keeps only that split.

    Raises:
        ValueError: Naming the file and line of a malformed record or an unknown attribute.
    """
    names = {n.value for n in AttributeName}
    titles = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                row = json.loads(line)
                attributes = {k: frozenset(v) for k, v in row["attributes"].items()}
                title = LabelledTitle(row["id"], row["split"], row["text"], row["category"], attributes)
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a labelled title ({error!r})") from None
            unknown = sorted(set(attributes) - names)
            if unknown:
                raise ValueError(f"{path}:{number}: unknown attribute(s) {unknown}; known: {sorted(names)}")
            if split is None or title.split == split:
                titles.append(title)
    return titles


def evaluate(titles: Iterable[LabelledTitle], extractor: AttributeExtractor | None = None,
             classifier: CategoryClassifier | None = None) -> dict:
    """Returns the scores of ``titles``.

    Returns:
        ``{"attributes": {name: Score, "all": Score}, "category_accuracy", "top_level_accuracy",
        "titles", "errors"}``; errors are ``(title id, attribute, gold, predicted)``.
    """
    extractor = extractor or AttributeExtractor()
    classifier = classifier or CategoryClassifier()
    counts = {n.value: [0, 0, 0] for n in AttributeName}
    correct = top_correct = total = 0
    errors = []
    for title in titles:
        predicted: dict[str, set[str]] = {}
        for attribute in extractor.extract(title.text):
            predicted.setdefault(attribute.name.value, set()).add(value_text(attribute))
        for name, count in counts.items():
            guess, gold = predicted.get(name, set()), title.attributes.get(name, frozenset())
            count[0] += len(guess & gold)
            count[1] += len(guess)
            count[2] += len(gold)
            if guess != gold:
                errors.append((title.id, name, sorted(gold), sorted(guess)))
        match = classifier.classify(title.text)
        gold_category = classifier.tree.find(title.category)
        if gold_category is None:
            raise ValueError(f"Title {title.id}: unknown category {title.category!r}")
        total += 1
        if match is not None and match.category.id == gold_category.id:
            correct += 1
        else:
            errors.append((title.id, "category", [title.category], [match.category.label_zh] if match else []))
        top = classifier.tree.ancestors(gold_category.id)[-1]
        if match is not None and classifier.tree.ancestors(match.category.id)[-1] == top:
            top_correct += 1
    scores = {name: Score(*count) for name, count in counts.items()}
    scores["all"] = Score(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return {"attributes": scores, "category_accuracy": correct / total if total else 0.0,
            "top_level_accuracy": top_correct / total if total else 0.0, "titles": total, "errors": errors}
