"""``kgpipe link eval`` and ``kgpipe link train``."""

from __future__ import annotations

import argparse
import json
import sys

_FORMATS = ("kgpipe", "chip-cdn", "ccks2019")


def add_link_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``link eval`` and ``link train``."""
    parser = subparsers.add_parser("link", help="entity linking: evaluate on a gold set, train a ranker")
    commands = parser.add_subparsers(dest="link_command", required=True)
    evaluate = commands.add_parser("eval", help="accuracy, NIL P/R, candidate recall@k, mentions/s")
    _gold_arguments(evaluate)
    evaluate.add_argument("--linker", default=None, help="linker directory from `kgpipe link train` "
                          "(its KB is used unless --kb is given)")
    evaluate.add_argument("--top-k", type=int, default=5)
    evaluate.add_argument("--nil-threshold", type=float, default=None)
    evaluate.add_argument("--no-fuzzy", action="store_true", help="exact alias candidates only")
    evaluate.add_argument("--ngram-candidates", type=int, default=None,
                          help="alias keys from n-gram retrieval when nothing matches exactly (default 0: off)")
    evaluate.add_argument("--errors", action="store_true", help="list the wrong decisions")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(func=run_eval)
    train = commands.add_parser("train", help="fit a candidate ranker and a calibrated NIL threshold")
    _gold_arguments(train)
    train.add_argument("--out", required=True, help="linker directory to write (config + weights, no pickle)")
    train.add_argument("--calibration-fraction", type=float, default=0.1,
                       help="tail of the gold documents held out to choose the model and calibrate NIL")
    train.add_argument("--models", default="logistic,lightgbm", help="model kinds compared")
    train.add_argument("--memory-neighbours", type=int, default=10,
                       help="nearest training mentions whose links vote for candidates (0: no example memory)")
    train.add_argument("--json", action="store_true", help="print the saved spec as JSON")
    train.set_defaults(func=run_train)
    return parser


def _gold_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kb", default=None, help="KB file or index directory (default: bundled KB)")
    parser.add_argument("--format", default=None, help="KB format if --kb is a file")
    parser.add_argument("--gold", required=True,
                        help='gold file: kgpipe JSON lines {"id","text","mentions":[{"start","end","label",'
                             '"kb_id"|null}]}, CHIP-CDN JSON or CCKS 2019 lines (see --gold-format)')
    parser.add_argument("--gold-format", default="kgpipe", choices=_FORMATS)
    parser.add_argument("--gold-range", default=":", help="documents START:END of the gold file (0-based, "
                        "END exclusive; e.g. 5000: for a dev slice cut from the tail)")
    parser.add_argument("--unknown-gold", default="error", choices=("error", "nil"),
                        help="a gold target missing from the KB: an error (default) or a gold NIL target")


def _range(text: str) -> slice:
    try:
        start, end = text.split(":")
        return slice(int(start) if start.strip() else None, int(end) if end.strip() else None)
    except ValueError:
        raise ValueError(f"--gold-range must be START:END (integers, either may be empty). Received: {text!r}") from None


def _gold(args, index):
    from kgpipe.linking.gold_formats import GoldFormat, GoldStats, UnknownGold, load_gold

    stats = GoldStats()
    gold = load_gold(args.gold, GoldFormat(args.gold_format), index, UnknownGold(args.unknown_gold),
                     _range(args.gold_range), stats)
    if stats.unknown_targets:
        print(f"kgpipe link: {stats.unknown_targets} of {stats.targets} gold targets are not in the KB "
              f"(--unknown-gold nil): {stats.nil_mentions} of {stats.mentions} mentions are gold NIL", file=sys.stderr)
    return gold


def run_eval(args: argparse.Namespace) -> int:
    from kgpipe.linking.evaluation import GoldError, evaluate
    from kgpipe.linking.index import IndexError_
    from kgpipe.linking.kb import KbError
    from kgpipe.linking.linker import EntityLinker, LinkerConfig

    overrides = {"top_k": args.top_k, "fuzzy": not args.no_fuzzy}
    if args.nil_threshold is not None:
        overrides["nil_threshold"] = args.nil_threshold
    if args.ngram_candidates is not None:
        overrides["ngram_candidates"] = args.ngram_candidates
    try:
        config = LinkerConfig(kb_path=args.kb, kb_format=args.format, linker_dir=args.linker, **overrides)
        linker = EntityLinker.load(config)
        scores = evaluate(linker, _gold(args, linker.index))
    except (KbError, IndexError_, GoldError, ValueError, FileNotFoundError) as failure:
        print(f"kgpipe link eval: {failure}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(scores.to_dict(with_errors=args.errors), ensure_ascii=False, indent=1))
        return 0
    print(f"kgpipe link eval: {args.gold} against {scores.kb_version}" + (f" with {args.linker}" if args.linker else ""))
    rows = [("mentions", scores.mentions), ("in-KB / NIL", f"{scores.in_kb_mentions} / {scores.nil_mentions}"),
            ("accuracy", scores.accuracy), ("in-KB accuracy", scores.in_kb_accuracy),
            ("NIL precision", scores.nil_precision), ("NIL recall", scores.nil_recall),
            ("NIL F1", scores.nil_f1), (f"candidate recall@{scores.k}", scores.candidate_recall_at_k),
            ("set P / R / F1", f"{scores.set_precision} / {scores.set_recall} / {scores.set_f1}"),
            ("NIL clusters (minted)", scores.nil_clusters), ("mentions/s", scores.mentions_per_second)]
    for name, value in rows:
        print(f"  {name:<22} {value}")
    if args.errors:
        for error in scores.errors:
            print(f"  ERROR {error['doc_id']} [{error['start']},{error['end']}) {error['text']!r} "
                  f"{error['label']}: gold={error['gold']} predicted={error['predicted']} score={error['score']}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    import dataclasses
    import pathlib

    from kgpipe.linking.evaluation import GoldError
    from kgpipe.linking.index import IndexError_
    from kgpipe.linking.kb import KbError
    from kgpipe.linking.linker import EntityLinker, LinkerConfig
    from kgpipe.linking.training import TrainConfig, train_linker

    try:
        config = TrainConfig(calibration_fraction=args.calibration_fraction, memory_neighbours=args.memory_neighbours,
                             models=tuple(m.strip() for m in args.models.split(",") if m.strip()))
        linker = EntityLinker.load(LinkerConfig(kb_path=args.kb, kb_format=args.format))
        gold = _gold(args, linker.index)
        index_path = linker.index.directory
        if args.kb is None or not pathlib.Path(args.kb).is_dir():
            # A KB file was indexed into a temporary directory: keep a copy beside the model.
            from kgpipe.linking.index_build import build_index, content_hash_of_file
            from kgpipe.linking.kb import iter_entities
            from kgpipe.linking.linker import default_kb_path, kb_name

            source = pathlib.Path(args.kb) if args.kb else default_kb_path()
            index_path = build_index(iter_entities(source, args.format), pathlib.Path(args.out) / "kb_index",
                                     name=kb_name(source), content_hash=content_hash_of_file(source),
                                     source=str(source))
        spec = train_linker(index_path, gold, args.out, config)
    except (KbError, IndexError_, GoldError, ValueError, FileNotFoundError) as failure:
        print(f"kgpipe link train: {failure}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(dataclasses.asdict(spec) | {"logistic": None}, ensure_ascii=False, indent=1))
    else:
        print(f"kgpipe link train: wrote {args.out} ({spec.model}; NIL threshold {spec.nil_threshold:.4f}, "
              f"set threshold {spec.set_threshold}); {json.dumps(spec.metrics)}")
    return 0
