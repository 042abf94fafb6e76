"""``kgpipe ner ...`` commands: train, eval, predict, label, import-albert, pretrain.

TensorFlow is imported inside the command functions only, so ``kgpipe --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


_KB_HELP = "KB file or index directory whose names fill a model's KB gazetteer features (default: the bundled KB)"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``ner`` and its sub-commands on an argparse ``subparsers`` object."""
    parser = subparsers.add_parser("ner", help="named-entity recognition: train, eval, predict")
    commands = parser.add_subparsers(dest="ner_command", required=True)
    _add_train(commands)

    evaluate = commands.add_parser("eval", help="entity-level P/R/F1 of a model on a corpus")
    evaluate.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    evaluate.add_argument("--data", required=True, help="column file (BIO/BIOES/BMES) or CLUENER JSON")
    evaluate.add_argument("--label-map", action="append", default=[], metavar="FROM=TO",
                          help="rename gold labels, e.g. HP=BRAND (repeatable)")
    evaluate.add_argument("--heads", default=None,
                          help="comma-separated heads to decode, or `all` (default: the heads that emit a label "
                               "of the data's gold labels, as the pipeline decodes product text)")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--kb", default=None, metavar="PATH", help=_KB_HELP)
    evaluate.add_argument("--mixed-precision", default="auto", choices=("auto", "on", "off"),
                          help="bf16 mixed precision (auto: on for GPU)")
    evaluate.add_argument("--jit-compile", default="auto", choices=("auto", "on", "off"),
                          help="XLA (auto: on for GPU)")
    evaluate.set_defaults(func=run_eval)

    predict = commands.add_parser("predict", help="tag text given as arguments or on stdin")
    predict.add_argument("--model", default=None, help="model directory (default: the bundled model)")
    predict.add_argument("text", nargs="*", help="texts (default: one per line on stdin)")
    predict.add_argument("--json", action="store_true", help="print JSON lines")
    predict.add_argument("--kb", default=None, metavar="PATH", help=_KB_HELP)
    predict.add_argument("--heads", default=None,
                         help="comma-separated heads to decode (default all, merged by score as for news text; "
                              "e.g. `ecommerce` for product titles, as `kgpipe run` reads them)")
    predict.set_defaults(func=run_predict)

    label = commands.add_parser("label", help="pseudo-label unlabelled text for self-training "
                                "(windows all models agree on, above a score)")
    label.add_argument("--model", action="append", default=None,
                       help="model directory (repeat: keep only windows every model agrees on; "
                            "default: the bundled model)")
    label.add_argument("--input", action="append", required=True, metavar="PATH",
                       help="unlabelled text: JSON lines (text field), TSV (last column) or lines")
    label.add_argument("--out", required=True, help="column file to write (char TAG), or FILE.json(l) "
                       "for CMeEE-style JSON lines, which keep nested spans (GlobalPointer models)")
    label.add_argument("--heads", default=None, help="comma-separated heads to decode (default all)")
    label.add_argument("--kb", default=None, metavar="PATH", help=_KB_HELP)
    label.add_argument("--labels", default=None, help="comma-separated types to keep (default all)")
    label.add_argument("--min-score", type=float, default=0.9,
                       help="drop windows with a span scored below this (mean tag posterior)")
    label.add_argument("--scheme", default="BIO", choices=("BIO", "BIOES", "BMES"),
                       help="tag scheme written")
    label.set_defaults(func=run_label)

    importer = commands.add_parser("import-albert", help="convert an ALBERT TF1 checkpoint")
    importer.add_argument("--checkpoint", required=True, help="directory with the TF1 checkpoint, "
                          "albert_config*.json and vocab.txt")
    importer.add_argument("--out", required=True, help="output directory")
    importer.add_argument("--config", default=None,
                          help="the checkpoint's config JSON (default: albert_config*.json beside it)")
    importer.add_argument("--vocab", default=None,
                          help="the vocabulary (default: vocab.txt beside the checkpoint)")
    importer.set_defaults(func=run_import_albert)
    _add_pretrain(commands)
    return parser


def _add_pretrain(commands) -> None:
    pretrain = commands.add_parser("pretrain", help="ALBERT masked-LM pre-training on raw text "
                                   "(whole-word masking; resumable; writes an encoder directory)")
    pretrain.add_argument("--unlabelled", nargs="+", required=True, metavar="PATH",
                          help="text files: lines, TSV (last column), JSON (text field), "
                          "column files")
    pretrain.add_argument("--out", required=True, help="encoder directory; also holds the run "
                          "state (pretrain/), so the same --out resumes")
    pretrain.add_argument("--config", default="tiny",
                          help="tiny|small|base|large or a JSON file of AlbertConfig fields")
    pretrain.add_argument("--time-budget", type=float, default=3600.0,
                          help="seconds of training in all, resumes included")
    pretrain.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: none)")
    pretrain.add_argument("--export-tf1", default=None, metavar="DIR",
                          help="also write an albert_zh (brightmart layout) TF1 checkpoint")
    pretrain.add_argument("--exclude-tail", type=int, default=1000,
                          help="drop the last N sentences (at most 10%%) of labelled files: the "
                          "dev slices ner train cuts")
    pretrain.add_argument("--seq-length", type=int, default=128)
    pretrain.add_argument("--batch-size", type=int, default=32)
    pretrain.add_argument("--learning-rate", type=float, default=5e-4)
    pretrain.add_argument("--warmup-steps", type=int, default=500)
    pretrain.add_argument("--eval-seconds", type=float, default=300.0,
                          help="held-out MLM loss/accuracy every N seconds")
    pretrain.add_argument("--checkpoint-seconds", type=float, default=300.0)
    pretrain.add_argument("--dev-segments", type=int, default=256)
    pretrain.add_argument("--threads", type=int, default=0,
                          help="TensorFlow intra/inter-op threads (0: TensorFlow's default)")
    pretrain.add_argument("--seed", type=int, default=0)
    pretrain.set_defaults(func=run_pretrain)


def _add_train(commands) -> None:
    train = commands.add_parser("train", help="train a model (several corpora, one head each)")
    train.add_argument("--train", action="append", required=True, metavar="NAME=PATH",
                       help="training corpus and the head it trains (repeatable)")
    train.add_argument("--label-map", action="append", default=[], metavar="FROM=TO",
                       help="rename labels in every corpus, e.g. HP=BRAND (repeatable)")
    train.add_argument("--dev-size", type=int, default=1000,
                       help="sentences held out from each training file for early stopping")
    train.add_argument("--repeat", action="append", default=[], metavar="NAME=N",
                       help="show corpus NAME N times per epoch (upsampling; repeatable)")
    train.add_argument("--report", action="append", default=[], metavar="NAME=PATH",
                       help="corpus scored with head NAME after training, never used for selection")
    train.add_argument("--out", required=True, help="run directory (checkpoints, log, best/)")
    train.add_argument("--export", default=None, help="also copy the best model directory here")
    train.add_argument("--name", default="default", help="model name (in the version string)")
    train.add_argument("--no-jieba-lexicon", action="store_true")
    train.add_argument("--gazetteer-folds", type=int, default=None,
                       help="folds for the training-entity gazetteer feature (0 disables it; "
                            "default 5 when the lexicon features are on, else 0)")
    train.add_argument("--lexicon-words", action="append", default=[], metavar="CATEGORY=PATH[,PATH]",
                       help="extra lexicon word lists (repeatable)")
    train.add_argument("--aux-train", action="append", default=[], metavar="NAME=PATH",
                       help="auxiliary corpus: trains the shared encoder through a head of its own "
                            "that the exported model drops; no dev slice (e.g. CLUENER JSON)")
    train.add_argument("--extra-train", action="append", default=[], metavar="HEAD=PATH",
                       help="more training sentences for the head of a --train corpus, with no dev "
                            "slice, e.g. pseudo-labels from `kgpipe ner label` (repeatable)")
    train.add_argument("--augment", action="append", default=[], metavar="NAME=FRACTION",
                       help="add FRACTION x its size of mention-replaced sentences to corpus NAME "
                            "(every entity swapped for another of its type; repeatable)")
    train.add_argument("--augment-names", action="append", default=[], metavar="LABEL=PATH",
                       help="outside names (one per line) for replaced mentions of LABEL, e.g. "
                            "BRAND=brands.txt; read at training time only, never stored in the "
                            "model (repeatable)")
    train.add_argument("--augment-names-share", type=float, default=0.5, metavar="P",
                       help="probability that a replaced LABEL mention takes an outside name "
                            "(default 0.5; the rest take other training names)")
    train.add_argument("--augment-labels", default="", metavar="LABEL[,LABEL]",
                       help="replace only these labels' mentions in --augment (default: all)")
    train.add_argument("--kb-gazetteer", action="append", default=[], metavar="LABEL=TYPE[,TYPE]",
                       help="KB gazetteer features: LABEL's gazetteer holds, at inference, the names and "
                            "aliases of the KB's entities of these types (the KB of `kgpipe run --kb`, "
                            "or --kb of eval/predict; the bundled KB by default), e.g. BRAND=Brand "
                            "(repeatable); the model stores only the types")
    train.add_argument("--kb-gazetteer-names", action="append", default=[], metavar="LABEL=PATH",
                       help="outside names (one per line) in the training folds' KB gazetteer, e.g. "
                            "BRAND=brands.txt; read at training time only, never stored (repeatable)")
    train.add_argument("--kb", default=None, metavar="PATH",
                       help="KB file or index directory for the KB gazetteer of the dev slices "
                            "(default: the bundled KB)")
    train.add_argument("--init-model", default=None, metavar="DIR",
                       help="warm start from a kgpipe model directory (e.g. ner/default_model): "
                            "its vocabularies, features and weights; heads it lacks start fresh")
    train.add_argument("--unlabelled", action="append", default=[], metavar="PATH",
                       help="raw text for pre-training the character and bigram embeddings: "
                            "JSON lines (text field), TSV (last column) or one text per line")
    train.add_argument("--pretrain-epochs", type=int, default=0,
                       help="skip-gram epochs over the training + unlabelled text (0: no pre-training)")
    train.add_argument("--word-vectors-dim", type=int, default=0,
                       help="SoftLexicon word vectors of this size, skip-gram over the same text "
                            "(needs --pretrain-epochs; 0: none)")
    model = train.add_argument_group("model")
    model.add_argument("--encoder", default=None, metavar="DIR",
                       help="start from a pre-trained ALBERT encoder directory (written by "
                            "`ner import-albert` or `ner pretrain`): its config, vocabulary and "
                            "weights; the size flags below then come from it")
    model.add_argument("--head", default="crf", choices=("crf", "globalpointer"),
                       help="head kind of every corpus (globalpointer: flat and nested spans)")
    model.add_argument("--bigrams", default="auto", choices=("auto", "on", "off"),
                       help="bigram embeddings (auto: on, off with --encoder)")
    model.add_argument("--lexicon", default="auto", choices=("auto", "on", "off"),
                       help="SoftLexicon + gazetteer features (auto: on, off with --encoder)")
    for flag, default in _SIZE_FLAGS.items():
        model.add_argument(flag, type=int, default=None, help=f"default {default} (no --encoder)")
    model.add_argument("--lstm-units", type=int, default=None,
                       help="BiLSTM units per direction (0: none; default 256, 0 with --encoder)")
    model.add_argument("--bigram-dim", type=int, default=64)
    model.add_argument("--bigram-max-size", type=int, default=40000)
    model.add_argument("--embedding-dropout", type=float, default=None,
                       help="default 0.3, 0.1 with --encoder")
    model.add_argument("--output-dropout", type=float, default=None,
                       help="default 0.3, 0.1 with --encoder")
    model.add_argument("--hidden-dropout", type=float, default=0.1)
    model.add_argument("--max-sequence-length", type=int, default=128,
                       help="tokens incl. [CLS]/[SEP]; at most the encoder's position table")
    model.add_argument("--buckets", default=None,
                       help="padded lengths inference runs at (default: 16,32,48,64,96,128 up to "
                            "and ending at --max-sequence-length)")
    opt = train.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=32)
    opt.add_argument("--learning-rate", "--head-lr", dest="learning_rate", type=float,
                     default=1.5e-3, help="peak LR of the heads and new layers (and of the "
                                          "encoder without --encoder-lr)")
    opt.add_argument("--encoder-lr", type=float, default=None,
                     help="peak LR of the encoder (default: 1e-4 with --encoder, else "
                          "--learning-rate)")
    opt.add_argument("--layer-decay", type=float, default=1.0,
                     help="LR x this per transformer group below the top (embeddings lowest); "
                          "ALBERT shares one group across its layers")
    opt.add_argument("--freeze-embeddings", action="store_true",
                     help="keep the encoder's word/position/type embeddings fixed")
    opt.add_argument("--warmup-steps", type=int, default=300)
    opt.add_argument("--token-dropout", type=float, default=0.05)
    opt.add_argument("--bigram-dropout", type=float, default=0.1)
    opt.add_argument("--time-budget", type=float, default=3600.0, help="seconds")
    opt.add_argument("--eval-every", type=float, default=240.0, help="seconds")
    opt.add_argument("--patience", type=int, default=6)
    opt.add_argument("--select", action="append", default=[], metavar="NAME=WEIGHT",
                     help="choose checkpoints by the weighted mean of the dev F1 of these --train "
                          "corpora (repeatable; default: micro F1 over all dev slices pooled)")
    opt.add_argument("--max-epochs", type=int, default=100)
    opt.add_argument("--seed", type=int, default=13)
    train.set_defaults(func=run_train)


# Encoder size flags: defaults without --encoder; with it they come from the encoder's config.
_SIZE_FLAGS = {"--embedding-size": 128, "--hidden-size": 256, "--num-layers": 0,
               "--num-heads": 4, "--intermediate-size": 1024}


def _resolve_model_flags(args) -> None:
    """Fills the ``None`` defaults that depend on ``--encoder`` (in place)."""
    encoder = args.encoder is not None
    for flag, default in _SIZE_FLAGS.items():
        dest = flag[2:].replace("-", "_")
        if encoder and getattr(args, dest) is not None:
            raise SystemExit(f"{flag}: the encoder size comes from --encoder's albert_config.json;"
                             f" drop {flag}")
        if getattr(args, dest) is None:
            setattr(args, dest, default)
    pick = lambda value, plain, with_encoder: (with_encoder if encoder else plain) \
        if value is None else value
    args.lstm_units = pick(args.lstm_units, 256, 0)
    args.embedding_dropout = pick(args.embedding_dropout, 0.3, 0.1)
    args.output_dropout = pick(args.output_dropout, 0.3, 0.1)
    args.encoder_lr = pick(args.encoder_lr, None, 1e-4)
    args.bigrams = args.bigrams == "on" or args.bigrams == "auto" and not encoder
    args.lexicon = args.lexicon == "on" or args.lexicon == "auto" and not encoder
    training_entities = args.lexicon and not getattr(args, "init_model", None)
    gazetteer = 5 if training_entities or getattr(args, "kb_gazetteer", None) else 0
    args.gazetteer_folds = pick(args.gazetteer_folds, gazetteer, gazetteer)
    if args.buckets is None:
        args.buckets = ",".join(str(b) for b in (16, 32, 48, 64, 96, 128)
                                if b < args.max_sequence_length) + f",{args.max_sequence_length}"
        args.buckets = args.buckets.lstrip(",")


def _kb_names(args):
    from kgpipe.pipeline.kb_names import KbNames

    return KbNames(args.kb)


def _pairs(values, what):
    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise SystemExit(f"{what}: expected KEY=VALUE, got {value!r}")
        out.append((key, rest))
    return out


def train_config_from_args(args):
    """Turns parsed ``ner train`` flags into a ``ner.training.TrainConfig``."""
    from kgpipe.ner.albert_config import AlbertConfig
    from kgpipe.ner.config import HeadConfig, NerConfig
    from kgpipe.ner.training import Corpus, TrainConfig

    label_map = dict(_pairs(args.label_map, "--label-map"))
    repeats = {name: int(n) for name, n in _pairs(args.repeat, "--repeat")}
    augment = {name: float(x) for name, x in _pairs(args.augment, "--augment")}
    corpora = tuple(Corpus(name, path, label_map, args.dev_size, repeats.get(name, 1),
                           augment=augment.pop(name, 0.0))
                    for name, path in _pairs(args.train, "--train"))
    if augment:
        raise SystemExit(f"--augment names no --train corpus: {sorted(augment)}")
    corpora += tuple(Corpus(name, path, label_map, 0, repeats.get(name, 1), auxiliary=True)
                     for name, path in _pairs(args.aux_train, "--aux-train"))
    corpora += tuple(Corpus(f"{head}+{Path(path).name}", path, label_map, 0, head=head)
                     for head, path in _pairs(args.extra_train, "--extra-train"))
    args = argparse.Namespace(**vars(args))  # resolved on a copy: callers may reuse theirs
    _resolve_model_flags(args)
    buckets = tuple(int(b) for b in args.buckets.split(","))
    albert = AlbertConfig(vocab_size=1, embedding_size=args.embedding_size,
                          hidden_size=args.hidden_size, num_hidden_layers=args.num_layers,
                          num_attention_heads=args.num_heads, intermediate_size=args.intermediate_size,
                          max_position_embeddings=max(args.max_sequence_length, 128),
                          hidden_dropout_prob=args.hidden_dropout,
                          attention_probs_dropout_prob=args.hidden_dropout)
    model = NerConfig(albert=albert, heads=(HeadConfig("placeholder", ("X",)),),
                      bigram_dim=args.bigram_dim, lstm_units=args.lstm_units,
                      embedding_dropout=args.embedding_dropout, output_dropout=args.output_dropout,
                      max_sequence_length=args.max_sequence_length, bucket_lengths=buckets,
                      name=args.name)
    words = tuple((cat, tuple(paths.split(","))) for cat, paths in
                  _pairs(args.lexicon_words, "--lexicon-words"))
    return TrainConfig(
        output_dir=args.out, corpora=corpora, model=model,
        report=tuple(_pairs(args.report, "--report")),
        lexicon_jieba=args.lexicon and not args.no_jieba_lexicon,
        lexicon_words=words if args.lexicon else (), gazetteer_folds=args.gazetteer_folds, batch_size=args.batch_size, learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps, token_dropout=args.token_dropout,
        bigram_dropout=args.bigram_dropout, time_budget_s=args.time_budget,
        eval_every_s=args.eval_every, patience=args.patience, max_epochs=args.max_epochs,
        bigram_max_size=args.bigram_max_size, unlabelled=tuple(args.unlabelled),
        pretrain_epochs=args.pretrain_epochs, word_vectors_dim=args.word_vectors_dim,
        select=tuple((name, float(w)) for name, w in _pairs(args.select, "--select")),
        seed=args.seed, encoder_dir=args.encoder, encoder_learning_rate=args.encoder_lr,
        layer_decay=args.layer_decay, freeze_embeddings=args.freeze_embeddings,
        bigrams=args.bigrams, head_kind=args.head, init_model=args.init_model,
        augment_names=tuple(_pairs(args.augment_names, "--augment-names")),
        augment_names_share=args.augment_names_share,
        augment_labels=tuple(x for x in args.augment_labels.split(",") if x),
        kb_gazetteer=tuple((label, tuple(t for t in types.split(",") if t))
                           for label, types in _pairs(args.kb_gazetteer, "--kb-gazetteer")),
        kb_gazetteer_names=tuple(_pairs(args.kb_gazetteer_names, "--kb-gazetteer-names")),
        kb_names=_kb_names(args))


def run_train(args) -> int:
    import shutil

    from kgpipe.ner.training import Trainer

    try:
        config = train_config_from_args(args)
        trainer = Trainer(config)
        progress = trainer.run()
    except ValueError as e:  # bad data, encoder or flags: one line, not a traceback
        raise SystemExit(f"kgpipe ner train: {e}") from None
    best = f"{config.output_dir}/best"
    print(json.dumps({"best_dev": progress["best"], "best_step": progress.get("best_step"),
                      "version": progress.get("best_version")}))
    if args.export:
        shutil.copytree(best, args.export, dirs_exist_ok=True)
    if config.report:
        from kgpipe.ner.data import read_examples
        from kgpipe.ner.tagger import MentionTagger
        tagger = MentionTagger.load(best, kb_names=config.kb_names)
        for name, path in config.report:
            scores = evaluate_tagger(tagger, read_examples(path, label_map=dict(_pairs(args.label_map, ""))))
            print(json.dumps({"report": name, "path": path, **scores}))
    return 0


def evaluate_tagger(tagger, examples, heads=None, batch_size=64) -> dict:
    """Entity scores of ``tagger`` on ``examples`` (predictions restricted to the gold label set).

    Args:
        heads: the heads to decode; ``None``: those that emit a gold label (all if none does).
            Spans of other labels are not scored, so merging them in would only let them
            displace gold-label spans (a news head's PER over a title's brand); the pipeline
            decodes product text with its product heads for the same reason.
    """
    from kgpipe.ner.data import label_set, split_long
    from kgpipe.ner.evaluation import entity_scores

    gold_labels = set(label_set(examples))
    if heads is None:
        heads = [name for name, labels in tagger.head_labels.items() if gold_labels & set(labels)] or None
    pieces = [p for ex in examples for p in split_long(ex, tagger.max_window_chars)]
    texts = [p.text for p in pieces]
    t0 = time.perf_counter()
    predicted = tagger.predict_spans(texts, heads=heads, batch_size=batch_size)
    seconds = time.perf_counter() - t0
    predicted = [[s for s in spans if s[2] in gold_labels] for spans in predicted]
    scores = entity_scores([p.spans for p in pieces], predicted).to_dict()
    chars = sum(len(t) for t in texts)
    scores.update(heads=sorted(heads or tagger.head_labels), chars=chars, seconds=round(seconds, 3),
                  chars_per_second=round(chars / seconds),
                  model=tagger.version, device=tagger.device,
                  mixed_precision=tagger.mixed_precision, jit_compile=tagger.jit_compile)
    return scores


def _model_dirs(given: list[str] | str | None) -> list[str]:
    """``--model`` as given, or the bundled default model (as ``kgpipe run`` uses)."""
    from kgpipe.pipeline.handlers import default_model_dir
    from kgpipe.pipeline.preflight import ModelInfo

    paths = ([given] if isinstance(given, str) else list(given)) if given else [default_model_dir()]
    for path in paths:
        ModelInfo.read(path)  # A missing or broken directory: one readable line before TensorFlow loads.
    return paths


def run_eval(args) -> int:
    from kgpipe.ner.data import read_examples
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.options import tri_state

    tagger = MentionTagger.load(_model_dirs(args.model)[0], kb_names=_kb_names(args), mixed_precision=tri_state(args.mixed_precision),
                                jit_compile=tri_state(args.jit_compile))
    examples = read_examples(args.data, label_map=dict(_pairs(args.label_map, "--label-map")))
    heads = None if not args.heads else list(tagger.head_labels) if args.heads == "all" else args.heads.split(",")
    scores = evaluate_tagger(tagger, examples, heads=heads, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(scores, indent=2))
        return 0
    print(f"model {scores['model']}  data {args.data}  heads {','.join(scores['heads'])}")
    print(f"{'type':<10}{'P':>8}{'R':>8}{'F1':>8}{'gold':>8}")
    for label, s in list(scores["per_type"].items()) + [("micro", scores["micro"])]:
        print(f"{label:<10}{s['precision']:8.4f}{s['recall']:8.4f}{s['f1']:8.4f}{s['gold']:8d}")
    print(f"{scores['chars']} chars in {scores['seconds']:.2f}s = {scores['chars_per_second']} chars/s")
    return 0


def run_predict(args) -> int:
    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(_model_dirs(args.model)[0], kb_names=_kb_names(args))
    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    heads = args.heads.split(",") if args.heads else None
    for number, text in enumerate(texts):
        mentions = tagger.tag_text(text, doc_id=str(number), heads=heads)
        if args.json:
            print(json.dumps({"text": text, "mentions": [
                {"start": m.start, "end": m.end, "text": m.text, "label": m.label, "score": m.score}
                for m in mentions]}, ensure_ascii=False))
            continue
        print(text)
        for m in mentions:
            print(f"  [{m.start}, {m.end})\t{m.label}\t{m.text}\t{m.score:.3f}")
    return 0


def run_label(args) -> int:
    from kgpipe.ner.data import write_column_file
    from kgpipe.ner.pretrain import read_texts
    from kgpipe.ner.pseudo import pseudo_label
    from kgpipe.ner.tagger import MentionTagger

    as_json = str(args.out).lower().endswith((".json", ".jsonl"))
    taggers = [MentionTagger.load(path, kb_names=_kb_names(args)) for path in _model_dirs(args.model)]
    nested_heads = [name for t in taggers for name in getattr(t, "nested_heads", ())]
    if nested_heads and not as_json:  # before hours of tagging, not after
        raise SystemExit(f"kgpipe ner label: heads {nested_heads} emit nested spans, which a column file "
                         "cannot hold; write CMeEE-style JSON lines instead: --out FILE.jsonl")
    texts = [text for path in args.input for text in read_texts(path)]
    t0 = time.perf_counter()
    examples, stats = pseudo_label(
        taggers, texts, heads=args.heads.split(",") if args.heads else None,
        labels=args.labels.split(",") if args.labels else None, min_score=args.min_score)
    if as_json:  # CMeEE-style JSON lines: nested spans too (--scheme applies to column files)
        from kgpipe.ner.nested import write_cmeee

        write_cmeee(args.out, examples)
    else:
        from kgpipe.ner.nested import has_overlaps

        nested = sum(map(has_overlaps, examples))
        if nested:
            raise SystemExit(f"kgpipe ner label: {nested} kept windows have nested or overlapping spans "
                             "(a GlobalPointer model's), which a column file cannot hold; write "
                             "CMeEE-style JSON lines instead: --out FILE.jsonl")
        write_column_file(args.out, examples, scheme=args.scheme)
    print(json.dumps({"out": args.out, "texts": len(texts), **stats.to_dict(),
                      "seconds": round(time.perf_counter() - t0, 1),
                      "models": [t.version for t in taggers]}))
    return 0


def run_import_albert(args) -> int:
    from kgpipe.ner.checkpoints import import_checkpoint

    result = import_checkpoint(args.checkpoint, args.out, config_path=args.config,
                               vocab_path=args.vocab)
    if result is not None:
        print(result)
    return 0


def run_pretrain(args) -> int:
    import logging

    from kgpipe.ner.relations.training import set_threads  # pipeline/ imports no TensorFlow itself

    if args.threads:
        set_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from kgpipe.ner.albert_pretrain import PretrainConfig, pretrain

    run = PretrainConfig(
        unlabelled=tuple(args.unlabelled), exclude_tail=args.exclude_tail,
        seq_length=args.seq_length, batch_size=args.batch_size, learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps, time_budget=args.time_budget,
        eval_seconds=args.eval_seconds, checkpoint_seconds=args.checkpoint_seconds,
        dev_segments=args.dev_segments, max_steps=args.max_steps, seed=args.seed)
    report = pretrain(run, args.config, args.out)
    if args.export_tf1:
        from kgpipe.ner.albert_tf1 import export_tf1

        report["export_tf1"] = str(export_tf1(args.out, args.export_tf1))
    print(json.dumps(report))
    return 0


def main(argv=None) -> int:
    """Runs ``ner`` alone: ``python -m kgpipe.pipeline.commands.ner train ...``."""
    parser = argparse.ArgumentParser(prog="kgpipe")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ner", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
