"""``kgpipe kb build``; ``kgpipe link`` lives in :mod:`pipeline.commands.link`.

``add_kb_parser`` registers ``kb``, ``add_link_parser`` registers ``link``;
``add_parser`` registers both.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

from kgpipe.pipeline.commands.link import add_link_parser


def add_parser(subparsers) -> None:
    """Registers both top-level words, ``kb`` and ``link``."""
    add_kb_parser(subparsers)
    add_link_parser(subparsers)


def add_kb_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``kb build``."""
    from kgpipe.linking.kb import KbFormat

    parser = subparsers.add_parser("kb", help="knowledge base tools: build an alias index")
    commands = parser.add_subparsers(dest="kb_command", required=True)
    build = commands.add_parser("build", help="index a KB file once; the pipeline loads the index fast")
    build.add_argument("--input", required=True, help="KB file (jsonl, csv, tsv, ttl, nt, CCKS, Wikidata dump lines)")
    build.add_argument("--format", default=None, choices=[f.value for f in KbFormat],
                       help="KB format (default: from the extension / content)")
    build.add_argument("--out", required=True, help="index directory (replaced if it holds an index)")
    build.add_argument("--name", default=None, help="KB name in the version string (default: file name)")
    build.add_argument("--languages", default="zh,zh-hans,zh-cn,zh-hant,en",
                       help="preferred label languages for RDF / Wikidata, best first")
    build.add_argument("--json", action="store_true", help="print the manifest as JSON")
    build.set_defaults(func=run_build)
    return parser


def run_build(args: argparse.Namespace) -> int:
    from kgpipe.linking.index_build import build_index, content_hash_of_file
    from kgpipe.linking.kb import KbError, iter_entities
    from kgpipe.linking.linker import kb_name

    source = pathlib.Path(args.input)
    languages = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    started = time.perf_counter()
    if not source.is_file():
        what = "is a directory, not a KB file" if source.is_dir() else "no such file"
        print(f"kgpipe kb build: --input {args.input!r}: {what}", file=sys.stderr)
        return 2
    try:
        directory = build_index(iter_entities(source, args.format, languages), args.out,
                                name=args.name or kb_name(source), content_hash=content_hash_of_file(source),
                                source=str(source))
    except (KbError, ValueError, OSError) as failure:
        print(f"kgpipe kb build: {failure}", file=sys.stderr)
        return 1
    manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
    if args.json:
        print(json.dumps(manifest, ensure_ascii=False, indent=1))
    else:
        print(f"indexed {manifest['entities']:,} entities with {manifest['aliases']:,} normalised aliases "
              f"({manifest['alias_keys']:,} distinct keys) from {source} into {directory} "
              f"in {time.perf_counter() - started:.1f}s; version {manifest['name']}@{manifest['content_hash'][:12]}")
    return 0
