"""``kgpipe kb build`` and ``kgpipe link eval``.

``add_kb_parser`` registers ``kb``, ``add_link_parser`` registers ``link``;
``add_parser`` registers both.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time


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


def add_link_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``link eval``."""
    parser = subparsers.add_parser("link", help="entity linking: evaluate on a gold set")
    commands = parser.add_subparsers(dest="link_command", required=True)
    evaluate = commands.add_parser("eval", help="accuracy, NIL P/R, candidate recall@k, mentions/s")
    evaluate.add_argument("--kb", default=None, help="KB file or index directory (default: bundled KB)")
    evaluate.add_argument("--format", default=None, help="KB format if --kb is a file")
    evaluate.add_argument("--gold", required=True,
                          help='gold JSON lines {"id","text","mentions":[{"start","end","label","kb_id"|null}]}')
    evaluate.add_argument("--top-k", type=int, default=5)
    evaluate.add_argument("--nil-threshold", type=float, default=None)
    evaluate.add_argument("--no-fuzzy", action="store_true", help="exact alias candidates only")
    evaluate.add_argument("--errors", action="store_true", help="list the wrong decisions")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(func=run_eval)
    return parser


def run_build(args: argparse.Namespace) -> int:
    from kgpipe.linking.index_build import build_index, content_hash_of_file
    from kgpipe.linking.kb import KbError, iter_entities
    from kgpipe.linking.linker import kb_name

    source = pathlib.Path(args.input)
    languages = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    started = time.perf_counter()
    try:
        directory = build_index(iter_entities(source, args.format, languages), args.out,
                                name=args.name or kb_name(source), content_hash=content_hash_of_file(source),
                                source=str(source))
    except (KbError, ValueError) as failure:
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


def run_eval(args: argparse.Namespace) -> int:
    from kgpipe.linking.evaluation import GoldError, evaluate, read_gold
    from kgpipe.linking.index import IndexError_
    from kgpipe.linking.kb import KbError
    from kgpipe.linking.linker import EntityLinker, LinkerConfig

    overrides = {"top_k": args.top_k, "fuzzy": not args.no_fuzzy}
    if args.nil_threshold is not None:
        overrides["nil_threshold"] = args.nil_threshold
    try:
        config = LinkerConfig(kb_path=args.kb, kb_format=args.format, **overrides)
        linker = EntityLinker.load(config)
        gold = list(read_gold(args.gold))
    except (KbError, IndexError_, GoldError, ValueError, FileNotFoundError) as failure:
        print(f"kgpipe link eval: {failure}", file=sys.stderr)
        return 1
    scores = evaluate(linker, gold)
    if args.json:
        print(json.dumps(scores.to_dict(with_errors=args.errors), ensure_ascii=False, indent=1))
        return 0
    print(f"kgpipe link eval: {args.gold} against {scores.kb_version}")
    rows = [("mentions", scores.mentions), ("in-KB / NIL", f"{scores.in_kb_mentions} / {scores.nil_mentions}"),
            ("accuracy", scores.accuracy), ("in-KB accuracy", scores.in_kb_accuracy),
            ("NIL precision", scores.nil_precision), ("NIL recall", scores.nil_recall),
            ("NIL F1", scores.nil_f1), (f"candidate recall@{scores.k}", scores.candidate_recall_at_k),
            ("NIL clusters (minted)", scores.nil_clusters),
            ("mentions/s", scores.mentions_per_second)]
    for name, value in rows:
        print(f"  {name:<22} {value}")
    if args.errors:
        for error in scores.errors:
            print(f"  ERROR {error['doc_id']} [{error['start']},{error['end']}) {error['text']!r} "
                  f"{error['label']}: gold={error['gold']} predicted={error['predicted']} score={error['score']}")
    return 0
