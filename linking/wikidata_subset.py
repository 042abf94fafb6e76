"""Cuts a subset out of a Wikidata JSON dump, for ``kgpipe kb build --format wikidata``.

    python -m kgpipe.linking.wikidata_subset --dump latest-all.json.gz \\
        --require-language zh --min-sitelinks 1 --out wikidata_zh.jsonl.gz

Streams the dump (``.gz``, ``.bz2`` or plain; one entity per line inside a
JSON array), keeps items that have a label in ``--require-language`` (and,
optionally, at least ``--min-sitelinks`` sitelinks or a ``P31`` class in
``--classes``), and writes each kept item trimmed to what the loader reads
(labels, aliases, descriptions in ``--languages``, P31/P17 claims, sitelink
count), one per line. A line that is not JSON is reported with its number
and stops the run: a truncated download should not pass as a small KB.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import pathlib
import sys
from collections.abc import Sequence
from typing import TextIO

_KEPT_CLAIMS = ("P31", "P17")


def _open(path: pathlib.Path, mode: str) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    if path.suffix == ".bz2":
        return bz2.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def trim(item: dict, languages: Sequence[str]) -> dict:
    """Keeps only the fields ``linking.kb_wikidata`` reads."""
    def pick(block):
        return {lang: value for lang, value in (block or {}).items() if lang in languages}

    claims = item.get("claims") or {}
    return {
        "type": "item", "id": item["id"],
        "labels": pick(item.get("labels")), "aliases": pick(item.get("aliases")),
        "descriptions": pick(item.get("descriptions")),
        "claims": {p: [{"mainsnak": {"datavalue": c.get("mainsnak", {}).get("datavalue")}}
                       for c in claims.get(p, [])] for p in _KEPT_CLAIMS if p in claims},
        # Only the count matters (it becomes the prior); keep that many empty entries.
        "sitelinks": {site: {} for site in (item.get("sitelinks") or {})},
    }


def _p31(item: dict) -> set[str]:
    out = set()
    for claim in (item.get("claims") or {}).get("P31", []):
        try:
            out.add(claim["mainsnak"]["datavalue"]["value"]["id"])
        except (KeyError, TypeError):
            continue
    return out


def subset(dump: pathlib.Path, out: pathlib.Path, languages: Sequence[str], require_language: str,
           min_sitelinks: int = 0, classes: frozenset[str] = frozenset()) -> tuple[int, int]:
    """Writes the subset; returns ``(items read, items kept)``."""
    read = kept = 0
    partial = out.with_name(".partial-" + out.name)  # same suffix, same compression
    try:
        with _open(dump, "r") as source, _open(partial, "w") as sink:
            for number, line in enumerate(source, start=1):
                line = line.strip().rstrip(",")
                if not line or line in ("[", "]"):
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as failure:
                    raise ValueError(f"{dump}:{number}: invalid JSON ({failure.msg}); is the dump complete?") from None
                read += 1
                if item.get("type") != "item" or require_language not in (item.get("labels") or {}):
                    continue
                if len(item.get("sitelinks") or {}) < min_sitelinks:
                    continue
                if classes and not (_p31(item) & classes):
                    continue
                sink.write(json.dumps(trim(item, languages), ensure_ascii=False) + "\n")
                kept += 1
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    return read, kept


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", required=True, help="Wikidata JSON dump (latest-all.json.gz) or a slice of it")
    parser.add_argument("--out", required=True, help="output JSON lines (.gz to compress)")
    parser.add_argument("--languages", default="zh,zh-hans,zh-cn,zh-hant,en", help="label languages kept")
    parser.add_argument("--require-language", default="zh", help="keep items with a label in this language")
    parser.add_argument("--min-sitelinks", type=int, default=0, help="keep items with at least this many sitelinks")
    parser.add_argument("--classes", default="", help="comma-separated P31 QIDs; keep only instances of these")
    args = parser.parse_args(argv)
    languages = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    classes = frozenset(x.strip() for x in args.classes.split(",") if x.strip())
    try:
        read, kept = subset(pathlib.Path(args.dump), pathlib.Path(args.out), languages,
                            args.require_language, args.min_sitelinks, classes)
    except (OSError, ValueError) as failure:
        print(f"wikidata_subset: {failure}", file=sys.stderr)
        return 1
    print(f"kept {kept:,} of {read:,} items -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
