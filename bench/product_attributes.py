"""Attribute P/R/F1 per attribute and category accuracy on the labelled product titles.

    .venv/bin/python bench/product_attributes.py                     # both splits
    .venv/bin/python bench/product_attributes.py --split test --errors

The gold titles are ``tests/kg/data/product_titles.jsonl`` (see the README there).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kgpipe.kg.products.attributes import AttributeExtractor
from kgpipe.kg.products.categories import CategoryClassifier
from kgpipe.kg.products.evaluation import evaluate, load_titles

GOLD = Path(__file__).resolve().parents[1] / "tests" / "kg" / "data" / "product_titles.jsonl"


def table(result: dict, split: str) -> str:
    """Returns the markdown table of one split's scores."""
    lines = [f"| {split} ({result['titles']} titles) | P | R | F1 | gold | predicted |", "|---|---|---|---|---|---|"]
    for name, s in result["attributes"].items():
        lines.append(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.gold} | {s.predicted} |")
    lines.append(f"| category accuracy (leaf) | {result['category_accuracy']:.3f} | | | | |")
    lines.append(f"| category accuracy (top level) | {result['top_level_accuracy']:.3f} | | | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(GOLD))
    parser.add_argument("--split", choices=("dev", "test", "all"), default=None, help="default: dev and test")
    parser.add_argument("--errors", action="store_true", help="print every mismatch")
    args = parser.parse_args(argv)
    extractor, classifier = AttributeExtractor(), CategoryClassifier()
    for split in ([args.split] if args.split else ["dev", "test"]):
        titles = load_titles(args.gold, None if split == "all" else split)
        started = time.perf_counter()
        result = evaluate(titles, extractor, classifier)
        seconds = time.perf_counter() - started
        print(table(result, split))
        print(f"\n{len(titles)} titles in {seconds * 1000:.1f} ms ({len(titles) / seconds:.0f} titles/s)\n")
        if args.errors:
            for error in result["errors"]:
                print("  ", *error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
