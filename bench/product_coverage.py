"""Coverage of the product rules on real e-commerce titles without attribute or category gold.

    .venv/bin/python bench/product_coverage.py ../shared/data/ecommerce/dev.bieos

Reads a character-per-line BIEOS file (blank line between titles), rebuilds the titles and reports
how many get a category, the categories' top-level spread, how many values of each attribute are
read, and the speed (CPU time). Coverage only: whether the values are right is what
``bench/product_attributes.py`` measures on labelled titles.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

from kgpipe.kg.products.attributes import AttributeExtractor
from kgpipe.kg.products.categories import CategoryClassifier


def read_titles(path: str) -> list[str]:
    """Returns the titles of a character-per-line file (first column), split at blank lines."""
    titles, chars = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                if chars:
                    titles.append("".join(chars))
                chars = []
                continue
            chars.append(line.split("\t")[0].split(" ")[0] or " ")
    if chars:
        titles.append("".join(chars))
    return titles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a BIEOS file (character per line)")
    args = parser.parse_args(argv)
    titles = read_titles(args.path)
    if not titles:
        raise SystemExit(f"{args.path}: no titles read")
    extractor, classifier = AttributeExtractor(), CategoryClassifier()
    started = time.process_time()
    categories = [classifier.classify(t) for t in titles]
    attributes = [extractor.extract(t) for t in titles]
    seconds = time.process_time() - started
    placed = [c for c in categories if c is not None]
    tops = collections.Counter(classifier.tree.ancestors(c.category.id)[-1].label_zh for c in placed)
    values = collections.Counter(a.name.value for found in attributes for a in found)
    print(f"{len(titles)} titles; category found for {len(placed)} ({len(placed) / len(titles):.1%}); "
          f"at least one attribute for {sum(1 for a in attributes if a)} ({sum(1 for a in attributes if a) / len(titles):.1%})")
    print("top-level types:", ", ".join(f"{k} {v}" for k, v in tops.most_common()))
    print("attribute values:", ", ".join(f"{k} {v}" for k, v in values.most_common()))
    print(f"{len(titles) / seconds:,.0f} titles per CPU-second (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
