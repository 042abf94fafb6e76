"""Attribute P/R/F1 per attribute and category accuracy on the labelled product titles.

    .venv/bin/python bench/product_attributes.py                     # every split
    .venv/bin/python bench/product_attributes.py --split test --errors

The gold titles are ``tests/kg/data/product_titles.jsonl`` (see the README there).
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--split", choices=("dev", "test", "test2", "all"), default=None, help="default: dev, test and test2")
    parser.add_argument("--errors", action="store_true", help="print every mismatch")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the titles for the speed figure")
    args = parser.parse_args(argv)
    extractor, classifier = AttributeExtractor(), CategoryClassifier()
    for split in ([args.split] if args.split else ["dev", "test", "test2"]):
        titles = load_titles(args.gold, None if split == "all" else split)
        result = evaluate(titles, extractor, classifier)
        print(table(result, split))
        started = time.process_time()  # CPU seconds: the machine is shared
        for _ in range(args.repeat):
            for title in titles:
                extractor.extract(title.text)
                classifier.classify(title.text)
        seconds = time.process_time() - started
        rate = len(titles) * args.repeat / seconds
        print(f"\nattributes + category: {rate:,.0f} titles per CPU-second ({args.repeat} passes; "
              f"load average {os.getloadavg()[0]:.1f})\n")
        if args.errors:
            for error in result["errors"]:
                print("  ", *error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
