"""``kgpipe re ...`` commands: train, eval and predict the relation-extraction model.

TensorFlow is imported inside the command functions only, so ``kgpipe --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _default_schema() -> str:
    return str(Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "duie" / "schema.json")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``re`` and its sub-commands."""
    parser = subparsers.add_parser("re", help="relation extraction: train, eval, predict (DuIE format)")
    commands = parser.add_subparsers(dest="re_command", required=True)
    train = commands.add_parser("train", help="train a GPLinker-style model; keeps the best dev F1")
    train.add_argument("--data", required=True, help="DuIE JSON lines (text, spo_list)")
    train.add_argument("--schema", required=True, help="DuIE schema.json (predicate, subject_type, object_type)")
    train.add_argument("--out", required=True, help="model directory (resumes if it holds state.json)")
    train.add_argument("--dev", type=int, default=500, help="sentences cut from the tail of --data for dev")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--learning-rate", type=float, default=3e-3)
    train.add_argument("--time-budget", type=float, default=0, help="seconds of training (0: no limit)")
    train.add_argument("--eval-every", type=int, default=100, help="steps between dev evaluations")
    train.add_argument("--lstm-units", type=int, default=128)
    train.add_argument("--embedding-dim", type=int, default=128)
    train.add_argument("--bigram-dim", type=int, default=64)
    train.add_argument("--head-size", type=int, default=64)
    train.add_argument("--dropout", type=float, default=0.1, help="dropout on embeddings and BiLSTM outputs")
    train.add_argument("--max-length", type=int, default=160, help="characters per window")
    train.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                       help="score and save an exponential moving average of the weights, e.g. 0.999 (0: off)")
    train.add_argument("--init-embeddings", metavar="NER_MODEL_DIR", default=None,
                       help="start the character and bigram tables from a kgpipe NER model's (its characters "
                            "and bigrams join the vocabulary); a fresh run only")
    train.add_argument("--lexicon", default="", choices=("", "jieba"),
                       help="also read jieba's dictionary as SoftLexicon features per character (as the NER "
                            "model does; rebuilt from the installed jieba at load time); a fresh run only")
    train.add_argument("--lexicon-units", type=int, default=64, help="width the lexicon features are projected to")
    train.add_argument("--extra-data", action="append", default=[], metavar="PATH",
                       help="more training sentences (DuIE JSON lines, no dev cut), e.g. pseudo-labels from "
                            "`kgpipe re label` (repeatable)")
    train.set_defaults(func=run_train)
    evaluate = commands.add_parser("eval", help="triple-level micro P/R/F1, overall and per predicate")
    evaluate.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    evaluate.add_argument("--data", required=True, help="DuIE JSON lines")
    evaluate.add_argument("--range", default=":", help="sentences START:END of --data (0-based)")
    evaluate.add_argument("--unknown", default="error", choices=("error", "skip"),
                          help="a predicate the model does not know: an error or counted and skipped")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--threshold", type=float, default=None,
                          help="decoding threshold (logit) for this evaluation (default: the model's)")
    evaluate.add_argument("--int8", action="store_true",
                          help="int8 matrix products on ONNX Runtime (as `kgpipe run` scores relations on a CPU-only machine)")
    evaluate.add_argument("--backend", default="auto", choices=("auto", "onnx", "keras"),
                          help="auto: ONNX Runtime on a CPU-only machine where installed, else Keras")
    tune = commands.add_parser("threshold", help="choose the decoding threshold on a dev slice")
    tune.add_argument("--model", required=True, help="model directory (rewritten with --write)")
    tune.add_argument("--data", required=True, help="DuIE JSON lines (a dev slice, never a test split)")
    tune.add_argument("--range", default=":", help="sentences START:END of --data (0-based)")
    tune.add_argument("--candidates", default="0,-0.5,-1,-1.5,-2,-2.5,-3",
                      help="thresholds (logits) to try, comma separated")
    tune.add_argument("--write", action="store_true",
                      help="store the best threshold in the model directory (its version changes)")
    tune.set_defaults(func=run_threshold)
    evaluate.set_defaults(func=run_eval)
    predict = commands.add_parser("predict", help="triples of texts given as arguments or on stdin")
    predict.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    predict.add_argument("text", nargs="*", help="texts (default: one per line on stdin)")
    predict.set_defaults(func=run_predict)
    label = commands.add_parser("label", help="pseudo-label raw sentences for self-training (DuIE JSON lines out)")
    label.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    label.add_argument("--data", required=True, help="JSON lines with a `text` field, or one text per line")
    label.add_argument("--out", required=True, help="DuIE JSON lines written here")
    label.add_argument("--min-confidence", type=float, default=0.9,
                       help="keep a sentence only if it has triples and every one is at least this confident")
    label.set_defaults(func=run_label)
    return parser


def _range(text: str) -> slice:
    try:
        start, end = text.split(":")
        return slice(int(start) if start.strip() else None, int(end) if end.strip() else None)
    except ValueError:
        raise ValueError(f"--range must be START:END (integers, either may be empty). Received: {text!r}") from None


def _load(path: str | None, backend: str = "auto", int8: bool = False):
    from kgpipe.ner.relations import default_model_dir
    from kgpipe.ner.relations.extractor import RelationExtractorModel

    return RelationExtractorModel.load(path or default_model_dir(), backend, int8=int8)


def _report(report, stream=None) -> None:
    stream = stream or sys.stderr  # looked up per call: a default bound at import outlives a replaced stderr
    print(f"read {report.sentences} sentences, {report.triples} triples; dropped: {report.unlocatable} "
          f"not in the text, {report.unknown_predicates} unknown predicates; {report.type_mismatches} "
          f"type mismatches with the schema", file=stream)
    for line in report.examples[:5]:
        print(f"  {line}", file=stream)


def run_train(args) -> int:
    from kgpipe.ner.relations.data import read_duie, read_schema

    predicates = read_schema(args.schema)
    examples, report = read_duie(args.data, predicates)
    _report(report)
    if not 0 < args.dev < len(examples):
        raise ValueError(f"--dev must be between 1 and {len(examples) - 1}. Received: --dev {args.dev}")
    extra = []
    for path in args.extra_data:
        more, report = read_duie(path, predicates)
        _report(report)
        extra += more
    from kgpipe.ner.relations.training import TrainConfig, set_threads, train

    if args.threads:
        set_threads(args.threads)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         time_budget=args.time_budget, eval_every=args.eval_every, seed=args.seed,
                         ema_decay=args.ema)
    model_config = {"lstm_units": args.lstm_units, "embedding_dim": args.embedding_dim, "bigram_dim": args.bigram_dim,
                    "head_size": args.head_size, "max_length": args.max_length, "dropout": args.dropout,
                    "lexicon": args.lexicon, "lexicon_units": args.lexicon_units}
    card = {"data": f"{args.data}: sentences 0..{len(examples) - args.dev - 1} (train), last {args.dev} (dev)"
                    + "".join(f"; {path} (train)" for path in args.extra_data),
            "command": "kgpipe " + " ".join(getattr(args, "argv", ["re", "train"])),
            "objects": "@value slot only; subjects/objects at their first occurrence in the text"}
    state = train(examples[:-args.dev] + extra, examples[-args.dev:], predicates, args.out, model_config, config,
                  log=lambda line: print(line, flush=True), card=card, init_embeddings=args.init_embeddings)
    print(f"best dev F1 {state['best_f1']:.4f} at step {state['best_step']} of {state['steps']}; "
          f"model in {args.out}")
    return 0


def run_eval(args) -> int:
    from kgpipe.ner.relations.data import read_duie

    extractor = _load(args.model, args.backend, args.int8)
    examples, report = read_duie(args.data, extractor.predicates, unknown=args.unknown, lines=_range(args.range))
    _report(report)
    from kgpipe.ner.relations.training import evaluate

    started = time.perf_counter()
    scores = evaluate(extractor, examples, threshold=args.threshold)
    scores["threshold"] = extractor.threshold if args.threshold is None else args.threshold
    scores["seconds"] = round(time.perf_counter() - started, 2)
    scores["model"], scores["backend"] = extractor.version, extractor.backend
    if args.json:
        print(json.dumps(scores, ensure_ascii=False, indent=1))
        return 0
    micro = scores["micro"]
    print(f"{extractor.version}: {scores['sentences']} sentences, {scores['seconds']} s")
    print(f"{'predicate':<10} {'P':>6} {'R':>6} {'F1':>6} {'gold':>5}")
    for name, s in [("micro", micro)] + sorted(scores["per_predicate"].items(), key=lambda kv: -kv[1]["gold"]):
        print(f"{name:<10} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['gold']:5d}")
    return 0


def run_threshold(args) -> int:
    from kgpipe.ner.relations.data import read_duie
    from kgpipe.ner.relations.training import choose_threshold

    extractor = _load(args.model, "keras" if args.write else "auto")  # saving needs the Keras model
    examples, report = read_duie(args.data, extractor.predicates, lines=_range(args.range))
    _report(report)
    try:
        candidates = [float(x) for x in args.candidates.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--candidates must be numbers separated by commas. Received: {args.candidates!r}") from None
    best, scores = choose_threshold(extractor, examples, candidates)
    print(f"{'threshold':>9} {'P':>6} {'R':>6} {'F1':>6}")
    for t, s in scores.items():
        print(f"{t:9.2f} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f}{'  <- best' if t == best else ''}")
    if args.write:
        extractor.threshold = best
        version = extractor.save(args.model, card={"decode_threshold": f"{best} (kgpipe re threshold, "
                                                                       f"best dev micro F1 {scores[best]['f1']:.4f})"})
        print(f"wrote threshold {best} to {args.model}: version {version}")
    return 0


def run_predict(args) -> int:
    extractor = _load(args.model)
    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for text, triples in zip(texts, extractor.predict(texts)):
        print(json.dumps({"text": text, "spo_list": [
            {"subject": text[t.subject[0]:t.subject[1]], "subject_span": list(t.subject), "predicate": t.predicate,
             "object": {"@value": text[t.object[0]:t.object[1]]}, "object_span": list(t.object),
             "confidence": round(t.confidence, 4)} for t in triples]}, ensure_ascii=False))
    return 0


def run_label(args) -> int:
    """Writes the sentences of ``--data`` whose predicted triples are all at least
    ``--min-confidence`` (and that have some) as DuIE lines, types from the model's schema."""
    if not 0 <= args.min_confidence <= 1:
        raise ValueError(f"--min-confidence must be in [0, 1]. Received: --min-confidence {args.min_confidence}")
    texts = _texts(args.data)
    extractor = _load(args.model)
    types = {p.name: p for p in extractor.predicates}
    kept = triples = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for text, predicted in zip(texts, extractor.predict(texts)):
            if not predicted or min(t.confidence for t in predicted) < args.min_confidence:
                continue
            spo = [{"subject": text[t.subject[0]:t.subject[1]], "subject_type": types[t.predicate].subject_type,
                    "predicate": t.predicate, "object": {"@value": text[t.object[0]:t.object[1]]},
                    "object_type": {"@value": types[t.predicate].object_type}} for t in predicted]
            out.write(json.dumps({"text": text, "spo_list": spo}, ensure_ascii=False) + "\n")
            kept, triples = kept + 1, triples + len(spo)
    print(f"{extractor.version}: kept {kept} of {len(texts)} sentences ({triples} triples, every one at "
          f"confidence >= {args.min_confidence}) in {args.out}", file=sys.stderr)
    return 0


def _texts(path: str) -> list[str]:
    """Texts of a JSON-lines file (``text`` field) or of a plain file (one per line)."""
    texts = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                try:
                    texts.append(json.loads(line)["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise ValueError(f"{path}:{i}: not a JSON line with a `text` field ({error})") from None
            else:
                texts.append(line.rstrip("\n"))
    return texts
