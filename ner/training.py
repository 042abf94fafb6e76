"""Training: several corpora, one CRF head each, over a shared encoder.

Each corpus trains only its own head (MSRA labels PER/LOC/ORG, the e-commerce corpus only
BRAND/PRODUCT, so neither may teach the other's head that its types are ``O``). Batches hold one
corpus each, drawn in shuffled order; lengths are bucketed (sorted within pools) and each batch
is padded only to its own longest sentence. The learning rate warms up linearly, then decays
linearly with *wall-clock* progress towards ``time_budget_s`` (so a run given N minutes uses its
whole schedule in N minutes). An exponential moving average of the weights is what gets
evaluated and exported. Early stopping uses a dev slice held out from the *training files*.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from kgpipe.ner.config import HEAD_KINDS, HeadConfig, NerConfig
from kgpipe.ner.data import Example, label_set, read_examples, split_long
from kgpipe.ner.nested import has_overlaps
from kgpipe.ner.evaluation import entity_scores
from kgpipe.ner.features import BIGRAM_UNK, BigramVocab, Featurizer, char_spans_to_token_spans
from kgpipe.ner.lexicon import build_gazetteer, build_lexicon, read_word_list
from kgpipe.ner.schemes import spans_to_tags

log = logging.getLogger("kgpipe.ner.training")


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A training file and the head it trains. ``label_map`` renames (None drops) labels."""

    name: str
    path: str
    label_map: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    dev_size: int = 1000
    repeat: int = 1  # times each training sentence appears per epoch (upsamples small corpora)
    auxiliary: bool = False  # trains the shared encoder through its own head; no dev slice,
    #                          and the head is dropped from the exported model
    head: str | None = None  # extra sentences for another corpus's head (e.g. pseudo-labels):
    #                          no dev slice, that head's repeat applies, and spans of labels
    #                          outside the head's set are not learnt (their tokens count as O)
    augment: float = 0.0  # adds this fraction of mention-replaced copies (ner.augment)

    def __post_init__(self):
        if not (self.augment >= 0.0 and self.augment < float("inf")):
            raise ValueError(f"`augment` must be a fraction >= 0. Received: augment={self.augment}")
        if self.head and (self.repeat != 1 or self.augment or self.dev_size or self.auxiliary):
            raise ValueError(f"corpus {self.name!r} adds to head {self.head!r}: it takes that "
                             "head's repeat and has no dev slice, augmentation or head of its own. "
                             f"Received: repeat={self.repeat}, augment={self.augment}, "
                             f"dev_size={self.dev_size}, auxiliary={self.auxiliary}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train. Times in seconds; ``time_budget_s`` bounds the whole run."""

    output_dir: str
    corpora: tuple[Corpus, ...]
    model: NerConfig | None = None  # heads and vocab sizes are filled in from the data
    report: tuple[tuple[str, str], ...] = ()  # (name, path) scored at the end only
    lexicon_jieba: bool = True
    lexicon_words: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (category, word-list paths)
    gazetteer_folds: int = 5  # 0: no gazetteer of training entities
    batch_size: int = 32
    learning_rate: float = 1.5e-3
    warmup_steps: int = 300
    final_lr_fraction: float = 0.05
    weight_decay: float = 1e-4
    clip_norm: float = 5.0
    ema_decay: float = 0.999
    token_dropout: float = 0.05
    bigram_dropout: float = 0.1
    time_budget_s: float = 3600.0
    max_epochs: int = 100
    eval_every_s: float = 240.0
    patience: int = 6
    bigram_min_count: int = 2
    bigram_max_size: int = 40000
    unlabelled: tuple[str, ...] = ()  # raw text files for the embedding pre-training
    pretrain_epochs: int = 0  # skip-gram epochs over training + unlabelled text; 0: none
    word_vectors_dim: int = 0  # SoftLexicon word vectors of this size (needs pretrain_epochs)
    select: tuple[tuple[str, float], ...] = ()  # (corpus, weight): checkpoints are chosen by the
    #                                             weighted mean of dev F1 per corpus; (): by the
    #                                             micro F1 over all dev slices pooled
    seed: int = 13
    # Fine-tuning from a pre-trained encoder (``ner import-albert`` / ``ner pretrain`` directory):
    # its config, vocabulary and weights replace ``model.albert`` and the tokenizer.
    encoder_dir: str | None = None
    encoder_learning_rate: float | None = None  # encoder peak LR; None: ``learning_rate``
    layer_decay: float = 1.0  # LR x decay per group below the top (embeddings lowest)
    freeze_embeddings: bool = False  # word/position/type tables and their LayerNorm
    bigrams: bool = True  # the bigram table (the featurizer always computes bigram ids)
    head_kind: str = "crf"  # every head's kind: "crf" or "globalpointer"
    # Warm start from a kgpipe model directory (e.g. the bundled default, to adapt it to your
    # text): its vocabularies, lexicon, word vectors, shapes and weights start the run; heads of
    # the same name must have the same labels, and heads it lacks start from random weights.
    init_model: str | None = None
    # Outside name lists for mention replacement, (label, path) (``ner.augment.read_names``):
    # read at training time only, never stored with the model.
    augment_names: tuple[tuple[str, str], ...] = ()
    augment_names_share: float = 0.5
    augment_labels: tuple[str, ...] = ()  # replace only these labels' mentions (): all
    # KB gazetteer features, (label, KB entity types): a gazetteer of these labels whose words, at
    # inference, are the names and aliases of the KB's entities of those types (the KB the pipeline
    # links against; ``ner.model_dir.load_featurizer(kb_names=...)``); the model directory stores only
    # the types. In training each fold's sentences see the other folds' entity surfaces (as with
    # the training-entity gazetteer) plus ``kb_gazetteer_names``; dev slices are scored with the
    # names ``kb_names`` gives (``pipeline.kb_names.KbNames``; needed by a run with a KB gazetteer).
    kb_gazetteer: tuple[tuple[str, tuple[str, ...]], ...] = ()
    kb_gazetteer_names: tuple[tuple[str, str], ...] = ()  # (label, path): training time only
    kb_names: Callable | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        if not self.corpora:
            raise ValueError("`corpora` must not be empty")
        if self.batch_size < 1 or self.time_budget_s <= 0:
            raise ValueError(f"bad batch_size={self.batch_size} or time_budget_s={self.time_budget_s}")
        if self.word_vectors_dim and not self.pretrain_epochs:
            raise ValueError("word_vectors_dim needs pretrain_epochs > 0 (the vectors are skip-gram)")
        if all(corpus.auxiliary or corpus.head for corpus in self.corpora):
            raise ValueError("at least one corpus must not be auxiliary")
        owners = {corpus.name for corpus in self.corpora if not corpus.head}
        for corpus in self.corpora:
            if corpus.head and corpus.head not in owners:
                raise ValueError(f"corpus {corpus.name!r} adds to head {corpus.head!r}, which no "
                                 f"training corpus trains. Received heads: {sorted(owners)}")
        if self.kb_gazetteer:
            if not self.gazetteer_folds:
                raise ValueError("`kb_gazetteer` needs gazetteer_folds > 0 (its training-time folds)")
            labels = [label for label, _ in self.kb_gazetteer]
            if len(set(labels)) != len(labels) or not all(types for _, types in self.kb_gazetteer):
                raise ValueError("`kb_gazetteer` takes each label once, with at least one KB type. "
                                 f"Received: {self.kb_gazetteer}")
            for label, path in self.kb_gazetteer_names:
                if label not in labels:
                    raise ValueError(f"`kb_gazetteer_names` for {label!r}, which is not a "
                                     f"`kb_gazetteer` label ({labels})")
                if not os.path.isfile(path):
                    raise ValueError(f"kb_gazetteer_names for {label}: no file {path!r}")
        elif self.kb_gazetteer_names:
            raise ValueError("`kb_gazetteer_names` needs `kb_gazetteer`")
        if self.gazetteer_folds and not self.kb_gazetteer and any(corpus.augment for corpus in self.corpora):
            # Replacement names come from every fold, so a held-out fold's gazetteer would hold
            # its own entities: the model would learn to trust gazetteer hits it cannot trust.
            raise ValueError("`augment` needs gazetteer_folds=0. Received: "
                             f"gazetteer_folds={self.gazetteer_folds}")
        if self.head_kind not in HEAD_KINDS:
            raise ValueError(f"`head_kind` must be one of {HEAD_KINDS}. "
                             f"Received: head_kind={self.head_kind!r}")
        if not 0.0 < self.layer_decay <= 1.0:
            raise ValueError(f"`layer_decay` must be in (0, 1]. Received: {self.layer_decay}")
        if self.encoder_learning_rate is not None and not self.encoder_learning_rate > 0:
            raise ValueError("`encoder_learning_rate` must be > 0. "
                             f"Received: {self.encoder_learning_rate}")
        if self.encoder_dir is not None:
            for name in ("albert_config.json", "vocab.txt", "encoder.weights.npz"):
                if not os.path.isfile(os.path.join(self.encoder_dir, name)):
                    raise ValueError(f"encoder directory {self.encoder_dir!r} has no {name} "
                                     "(write one with `kgpipe ner import-albert` or `ner pretrain`)")
        if self.init_model is not None:
            if not os.path.isfile(os.path.join(self.init_model, "config.json")):
                raise ValueError(f"--init-model {self.init_model!r} is not a kgpipe model directory "
                                 "(no config.json)")
            clashing = {"encoder_dir": self.encoder_dir, "pretrain_epochs": self.pretrain_epochs,
                        "word_vectors_dim": self.word_vectors_dim, "lexicon_words": self.lexicon_words,
                        # a KB gazetteer may be added to a model without one (its inputs start at 0)
                        "gazetteer_folds": 0 if self.kb_gazetteer else self.gazetteer_folds}
            clashing = {k: v for k, v in clashing.items() if v}
            if clashing:
                raise ValueError("`init_model` takes its vocabularies, features and weights from "
                                 f"the model directory; drop {sorted(clashing)}. Received: {clashing}")
        if self.augment_names and not any(corpus.augment for corpus in self.corpora):
            raise ValueError("`augment_names` needs a corpus with `augment` > 0")
        for label, path in self.augment_names:
            if not os.path.isfile(path):
                raise ValueError(f"augment name list for {label}: no file {path!r}")
        if not 0.0 <= self.augment_names_share <= 1.0:
            raise ValueError("`augment_names_share` must be in [0, 1]. "
                             f"Received: {self.augment_names_share}")
        with_dev = {corpus.name for corpus in self.corpora
                    if corpus.dev_size and not (corpus.auxiliary or corpus.head)}
        for name, weight in self.select:
            if name not in with_dev or not weight > 0:
                raise ValueError(f"`select` takes corpora with a dev slice and weights > 0. "
                                 f"Received: {name}={weight}; corpora with a dev slice: "
                                 f"{sorted(with_dev)}")


@dataclasses.dataclass
class Instance:
    features: object  # ner.features.Features
    tags: np.ndarray  # CRF head: int32 [n] tag ids of the content tokens; GlobalPointer head:
    #                   int32 [k, 3] (start, end inclusive, label index) token spans
    head: str


def make_instances(examples: Sequence[Example], featurizer: Featurizer, head: HeadConfig,
                   max_tokens: int) -> list[Instance]:
    index = {t: i for i, t in enumerate(head.tags)}
    pieces = [piece for ex in examples for piece in split_long(ex, max_tokens - 2)
              if piece.text.strip()]
    out = []
    for piece, f in zip(pieces, featurizer.batch([piece.text for piece in pieces])):
        n = len(f.offsets)
        if n == 0 or n + 2 > max_tokens:
            continue
        if head.kind == "globalpointer":  # every span, nested ones included
            spans = sorted({(s, e - 1, index[label]) for s, e, label in
                            char_spans_to_token_spans(f.offsets, piece.spans) if label in index})
            out.append(Instance(f, np.array(spans, np.int32).reshape(-1, 3), head.name))
            continue
        spans, taken = [], set()
        for s, e, label in sorted(char_spans_to_token_spans(f.offsets, piece.spans)):
            if label in head.labels and not taken & set(range(s, e)):
                spans.append((s, e, label))
                taken |= set(range(s, e))
        tags = np.array([index[t] for t in spans_to_tags(spans, n, head.scheme)], np.int32)
        out.append(Instance(f, tags, head.name))
    return out


def batches(instances: list[Instance], batch_size: int, rng: random.Random, *,
            pool: int = 50) -> list[list[Instance]]:
    """Length-bucketed batches: shuffle, sort pools of ``pool`` batches by length, cut, shuffle."""
    out = []
    step = batch_size * pool
    for head in sorted({x.head for x in instances}):  # a batch trains one head
        order = [x for x in instances if x.head == head]
        rng.shuffle(order)
        for k in range(0, len(order), step):
            chunk = sorted(order[k:k + step], key=lambda x: len(x.features))
            out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def pad_batch(batch: list[Instance], lexicon_dim: int, rng: np.random.Generator | None,
              unk_id: int, token_dropout: float = 0.0, bigram_dropout: float = 0.0,
              num_span_labels: int = 0):
    """Pads a batch to its longest sequence; replaces tokens/bigrams by UNK at random (training).

    With ``num_span_labels`` (a GlobalPointer head's label count) the targets are float32
    [batch, num_span_labels, length - 1, length - 1] span indicators instead of tag ids.
    """
    length = max(len(x.features) for x in batch)
    size = len(batch)
    token_ids = np.zeros((size, length), np.int32)
    bigram_ids = np.zeros((size, length), np.int32)
    lexicon = np.zeros((size, length, lexicon_dim), np.float32)
    tags = np.zeros((size, length - 1), np.int32)
    lengths = np.zeros(size, np.int32)
    for row, x in enumerate(batch):
        f, n = x.features, len(x.features)
        token_ids[row, :n], bigram_ids[row, :n], lexicon[row, :n] = f.token_ids, f.bigram_ids, f.lexicon
        if not num_span_labels:
            tags[row, :n - 2] = x.tags
        lengths[row] = n - 2
    if rng is not None:
        content = np.zeros_like(token_ids, bool)
        for row in range(size):
            content[row, 1:lengths[row] + 1] = True
        token_ids[content & (rng.random(token_ids.shape) < token_dropout)] = unk_id
        bigram_ids[content & (rng.random(bigram_ids.shape) < bigram_dropout)] = BIGRAM_UNK
    inputs = {"token_ids": token_ids, "bigram_ids": bigram_ids, "lexicon": lexicon}
    if num_span_labels:
        from kgpipe.ner.globalpointer import span_targets
        tags = span_targets([x.tags for x in batch], num_span_labels, length - 1)
    return inputs, tags, lengths


def hold_out(examples: list[Example], size: int) -> tuple[list[Example], list[Example]]:
    """Splits off the last ``size`` sentences (at most 10%) as the dev slice.

    A contiguous tail, not a random sample: corpora list sentences document by document, so
    random sentences share documents (and entities) with the training part and overstate
    what the model does on new text.
    """
    size = min(size, len(examples) // 10)
    return examples[:len(examples) - size], examples[len(examples) - size:]


def build_featurizer(config: TrainConfig, texts: list[str], tokenizer=None) -> Featurizer:
    from kgpipe.ner.tokenizer import Tokenizer

    tokenizer = tokenizer or Tokenizer.build(texts)
    bigram_vocab = BigramVocab.build(texts, tokenizer, min_count=config.bigram_min_count,
                                     max_size=config.bigram_max_size)
    lexicon = None
    if config.lexicon_jieba or config.lexicon_words:
        extra = {cat: read_word_list(paths) for cat, paths in config.lexicon_words}
        lexicon = build_lexicon(use_jieba=config.lexicon_jieba, extra=extra)
        lexicon.uses_jieba = config.lexicon_jieba
    return Featurizer(tokenizer, bigram_vocab, lexicon)


def score_dev(tagger, dev: Mapping[str, list[Example]],
              select: Sequence[tuple[str, float]] = ()) -> dict[str, float]:
    """Entity F1 per corpus with that corpus's own head, the micro F1 over all of them and, with
    ``select`` weights, ``select``: the weighted mean of the per-corpus F1 scores."""
    gold_all, pred_all, out = [], [], {}
    for name, examples in dev.items():
        texts = [ex.text for ex in examples]
        predicted = tagger.predict_spans(texts, heads=[name])
        gold = [ex.spans for ex in examples]
        out[name] = entity_scores(gold, predicted).micro.f1
        gold_all += gold
        pred_all += predicted
    out["micro"] = entity_scores(gold_all, pred_all).micro.f1
    if select:
        out["select"] = sum(w * out[name] for name, w in select) / sum(w for _, w in select)
    return out


class Trainer:
    """Runs one training job described by a ``TrainConfig``; resumable from ``output_dir``."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self.out = Path(config.output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.out / "train.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)

    # --- data -------------------------------------------------------------------------------
    def prepare(self):
        c = self.config
        train, dev, heads = {}, {}, []
        # Auxiliary heads come last, so the exported model's weights are a prefix of these.
        for corpus in sorted(c.corpora, key=lambda corpus: (bool(corpus.head), corpus.auxiliary)):
            examples = read_examples(corpus.path, label_map=dict(corpus.label_map))
            if corpus.head:  # after every head's own corpus (sort order)
                train[corpus.head] = train[corpus.head] + examples
                log.info("corpus %s: %d more training sentences for head %s", corpus.name,
                         len(examples), corpus.head)
                continue
            if corpus.auxiliary:
                train[corpus.name] = examples
            else:
                train[corpus.name], dev[corpus.name] = hold_out(examples, corpus.dev_size)
            if corpus.augment:
                from kgpipe.ner.augment import read_names, replace_mentions
                gold = train[corpus.name]
                unknown = {label for label, _ in c.augment_names} | set(c.augment_labels)
                unknown -= set(label_set(gold))
                if unknown:
                    raise ValueError(f"--augment-names/--augment-labels name {sorted(unknown)}, which "
                                     f"corpus {corpus.name!r} does not have; its labels: "
                                     f"{list(label_set(gold))}")
                replaced = set(c.augment_labels or label_set(gold))
                if replaced & {label for label, _ in c.kb_gazetteer}:
                    # Replacement names come from every fold: a fold's gazetteer would hold them.
                    raise ValueError(f"--augment {corpus.name} replaces {sorted(replaced)} mentions, "
                                     "and the KB gazetteer has labels "
                                     f"{sorted(label for label, _ in c.kb_gazetteer)}; limit "
                                     "--augment-labels to others")
                lower = not any(ch.isascii() and ch.isupper() for ex in gold for ch in ex.text)
                names = {label: read_names(path, lowercase=lower)
                         for label, path in c.augment_names if label in label_set(gold)}
                made = replace_mentions(gold, round(corpus.augment * len(gold)), seed=c.seed,
                                        names=names, names_share=c.augment_names_share,
                                        labels=c.augment_labels or None)
                if names:
                    log.info("corpus %s: outside names for %s (%s)", corpus.name,
                             ", ".join(f"{k}: {len(v)}" for k, v in names.items()),
                             "lower-cased" if lower else "as written")
                train[corpus.name] = train[corpus.name] + made
                log.info("corpus %s: %d mention-replaced sentences", corpus.name, len(made))
            heads.append(HeadConfig(corpus.name, label_set(examples), kind=c.head_kind,
                                    nested=c.head_kind == "globalpointer"
                                    and any(map(has_overlaps, examples))))
            log.info("corpus %s%s: %d train / %d dev sentences, labels %s", corpus.name,
                     " (auxiliary)" if corpus.auxiliary else "", len(train[corpus.name]),
                     len(dev.get(corpus.name, ())), heads[-1].labels)
        texts = [ex.text for exs in train.values() for ex in exs]
        if c.pretrain_epochs:  # vocabularies cover the unlabelled text, whose vectors we learn
            from kgpipe.ner.pretrain import read_texts
            unlabelled = [t for path in c.unlabelled for t in read_texts(path)]
            log.info("unlabelled text: %d texts, %d chars", len(unlabelled), sum(map(len, unlabelled)))
            texts = texts + unlabelled
        self.vocab_texts = texts
        resume = (self.out / "vocab").is_dir()
        encoder_config, encoder_tokenizer = self._check_encoder(resume)
        base = c.model
        if c.init_model:
            base = self._init_model_config(heads)
            if c.model is not None:  # the run's own name for the version string
                base = dataclasses.replace(base, name=c.model.name)
        if c.kb_gazetteer:
            known = {label for head in heads for label in head.labels}
            unknown = sorted(set(dict(c.kb_gazetteer)) - known)
            if unknown:
                raise ValueError(f"--kb-gazetteer names {unknown}, which no corpus has; labels: {sorted(known)}")
        if resume:
            from kgpipe.ner.model_dir import load_featurizer, read_meta
            meta = read_meta(self.out / "vocab")
            saved = (meta.get("gazetteer") or {}).get("kb_types")
            asked = {label: list(types) for label, types in c.kb_gazetteer} or None
            if saved != asked:
                raise ValueError(f"run {str(self.out)!r} was started with KB gazetteer {saved or 'none'}; "
                                 f"resume it with the same --kb-gazetteer flags (given: {asked or 'none'})")
            self.featurizer = load_featurizer(self.out / "vocab", meta, kb_names=c.kb_names)
        elif c.init_model:
            from kgpipe.ner.model_dir import load_featurizer, read_meta
            self.featurizer = load_featurizer(c.init_model, read_meta(c.init_model), kb_names=c.kb_names)
            if c.kb_gazetteer:
                if self.featurizer.gazetteer is not None:
                    raise ValueError(f"--init-model {c.init_model!r} has gazetteer features already; "
                                     "--kb-gazetteer adds them to a model without")
                self.featurizer = self.featurizer.with_gazetteer(self._kb_gazetteer())
        else:
            self.featurizer = build_featurizer(c, texts, encoder_tokenizer)
            if c.word_vectors_dim:
                from kgpipe.ner.word_vectors import WordVectors
                self.featurizer = self.featurizer.with_word_vectors(WordVectors.train(
                    texts, dim=c.word_vectors_dim, epochs=c.pretrain_epochs, seed=c.seed))
            if c.kb_gazetteer:
                self.featurizer = self.featurizer.with_gazetteer(self._kb_gazetteer())
            elif c.gazetteer_folds:
                labels = {label for head in heads for label in head.labels}
                everything = [ex for exs in train.values() for ex in exs]
                self.featurizer = self.featurizer.with_gazetteer(build_gazetteer(everything, labels))
        albert = dataclasses.replace(base.albert, vocab_size=len(self.featurizer.tokenizer))
        if encoder_config is not None:  # the encoder's shapes; our dropout
            albert = dataclasses.replace(
                encoder_config, hidden_dropout_prob=base.albert.hidden_dropout_prob,
                attention_probs_dropout_prob=base.albert.attention_probs_dropout_prob)
        self.model_config = dataclasses.replace(
            base, albert=albert, heads=tuple(heads),
            bigram_vocab_size=len(self.featurizer.bigram_vocab) if c.bigrams else 0,
            lexicon_dim=self.featurizer.lexicon_dim)
        auxiliary = {corpus.name for corpus in c.corpora if corpus.auxiliary}
        self.export_config = dataclasses.replace(
            self.model_config, heads=tuple(h for h in heads if h.name not in auxiliary))
        max_tokens = self.model_config.max_sequence_length
        t0 = time.time()
        self.train = self._instances(train, heads, max_tokens)
        repeats = {corpus.name: corpus.repeat for corpus in c.corpora if not corpus.head}
        self.train = [x for x in self.train for _ in range(repeats[x.head])]
        window = max_tokens - 2
        self.dev = {name: [p for ex in exs for p in split_long(ex, window)] for name, exs in dev.items()}
        log.info("featurised %d training sequences in %.0fs; vocab %d, bigrams %d, lexicon dim %d",
                 len(self.train), time.time() - t0, len(self.featurizer.tokenizer),
                 len(self.featurizer.bigram_vocab), self.featurizer.lexicon_dim)

    def _kb_gazetteer(self):
        """The KB gazetteer as inference builds it, from ``config.kb_names`` (dev slices)."""
        from kgpipe.ner.model_dir import load_kb_gazetteer

        if self.config.kb_names is None:
            raise ValueError("`kb_gazetteer` needs `kb_names`, the KB's names for the dev slices "
                             "(pipeline.kb_names.KbNames; `kgpipe ner train --kb`)")
        gazetteer = load_kb_gazetteer(dict(self.config.kb_gazetteer), self.config.kb_names)
        log.info("KB gazetteer from %s: %s", self.config.kb_names,
                 ", ".join(f"{label} {sum(1 for (_, cat) in gazetteer.extra if cat == f'G_{label}')} names"
                           for label in sorted(gazetteer.kb_types)))
        return gazetteer

    def _fold_gazetteer(self, others, labels):
        """The gazetteer one training fold sees: the other folds' entity surfaces (+ outside
        names for a KB gazetteer)."""
        c = self.config
        if not c.kb_gazetteer:
            return build_gazetteer(others, labels)
        if not hasattr(self, "_outside_names"):
            self._outside_names = {}
            from kgpipe.ner.augment import read_names  # 法雷奥（VALEO）: both forms, as titles write them
            for label, path in c.kb_gazetteer_names:
                self._outside_names.setdefault(label, []).extend(read_names(path))
            for label, names in self._outside_names.items():
                log.info("KB gazetteer, training folds: %d outside %s names", len(names), label)
        return build_gazetteer(others, set(dict(c.kb_gazetteer)), names=self._outside_names, once=True)

    def _init_model_config(self, heads) -> NerConfig:
        """The ``init_model``'s ``NerConfig``, after checking its heads against this run's."""
        from kgpipe.ner.model_dir import read_meta

        init = NerConfig.from_dict(read_meta(self.config.init_model)["model"])
        theirs = {h.name: h for h in init.heads}
        for head in heads:
            if head.name in theirs and (theirs[head.name].labels, theirs[head.name].kind) != (
                    head.labels, head.kind):
                raise ValueError(
                    f"--init-model {self.config.init_model!r}: its head {head.name!r} has labels "
                    f"{list(theirs[head.name].labels)} ({theirs[head.name].kind}), this run's "
                    f"corpus {head.name!r} has {list(head.labels)} ({head.kind})")
        return init

    def _check_encoder(self, resume: bool):
        """The encoder's ``(AlbertConfig, Tokenizer)`` ((None, None) without ``encoder_dir``);
        records it in the run
        directory, and on resume refuses an encoder whose vocabulary differs from the start's."""
        from kgpipe.ner.albert import AlbertConfig
        from kgpipe.ner.tokenizer import Tokenizer

        c, record = self.config, self.out / "encoder.json"
        started = json.loads(record.read_text("utf-8")) if record.is_file() else None
        if c.encoder_dir is None:
            if resume and started:
                raise ValueError(f"run {str(self.out)!r} was started with --encoder "
                                 f"{started['encoder_dir']!r}; pass it again to resume")
            return None, None
        directory = Path(c.encoder_dir)
        vocab = (directory / "vocab.txt").read_text("utf-8")
        digest = hashlib.sha256(vocab.encode("utf-8")).hexdigest()
        if resume:
            if started is None or started["vocab_sha256"] != digest:
                raise ValueError(
                    f"--encoder {c.encoder_dir!r}: its vocab.txt differs from the vocabulary run "
                    f"{str(self.out)!r} was started with "
                    f"({started['encoder_dir'] if started else 'no encoder'}); resume with that "
                    "encoder or start a new --out")
        config = AlbertConfig.from_json(directory / "albert_config.json")
        tokenizer = Tokenizer.from_file(directory / "vocab.txt")
        if len(tokenizer) != config.vocab_size or tokenizer.pad_id != 0:
            raise ValueError(f"--encoder {c.encoder_dir!r}: vocab.txt has {len(tokenizer)} tokens "
                             f"and [PAD] at id {tokenizer.pad_id}; the encoder needs "
                             f"vocab_size={config.vocab_size} and [PAD] at id 0")
        if not resume:
            record.write_text(json.dumps({"encoder_dir": str(directory.resolve()),
                                          "vocab_sha256": digest}, indent=1) + "\n", "utf-8")
        return config, tokenizer

    def _instances(self, train, heads, max_tokens) -> list[Instance]:
        """Training instances; with gazetteer folds, each fold sees a gazetteer built from the
        other folds only (as at test time, where entities are not all in the gazetteer). Folds
        are contiguous blocks, so a sentence's own document rarely feeds its gazetteer."""
        folds = self.config.gazetteer_folds
        if not folds:
            return [x for head in heads
                    for x in make_instances(train[head.name], self.featurizer, head, max_tokens)]
        labels = {label for head in heads for label in head.labels}
        out = []
        for head in heads:
            examples = train[head.name]
            bounds = [len(examples) * k // folds for k in range(folds + 1)]
            for k in range(folds):
                held = examples[bounds[k]:bounds[k + 1]]
                others = [ex for name, exs in train.items()
                          for i, ex in enumerate(exs)
                          if name != head.name or not bounds[k] <= i < bounds[k + 1]]
                featurizer = self.featurizer.with_gazetteer(self._fold_gazetteer(others, labels))
                out += make_instances(held, featurizer, head, max_tokens)
        return out

    # --- model ------------------------------------------------------------------------------
    def build(self):
        import keras
        import tensorflow as tf

        c = self.config
        keras.utils.set_random_seed(c.seed)
        from kgpipe.ner.model import NerModel
        self.model = NerModel(self.model_config)
        self.model.build_all()
        if c.encoder_dir:
            from kgpipe.ner.checkpoints import assign_encoder_weights, load_encoder_weights
            assign_encoder_weights(self.model.encoder, load_encoder_weights(c.encoder_dir)[1])
            log.info("encoder weights from %s", c.encoder_dir)
        if c.pretrain_epochs:
            self._load_pretrained()
        if c.init_model:
            self._load_init_model()
        if c.freeze_embeddings:
            e = self.model.encoder
            for layer in (e.word_embeddings, e.position_embeddings, e.token_type_embeddings,
                          e.embedding_norm):
                layer.trainable = False
        self.groups = self._parameter_groups()
        self.optimizers = []
        for multiplier, group in self.groups:
            optimizer = keras.optimizers.AdamW(learning_rate=c.learning_rate * multiplier,
                                               weight_decay=c.weight_decay)
            if c.encoder_dir:  # BERT practice: no decay on LayerNorm and biases
                optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
            optimizer.build(group)
            self.optimizers.append(optimizer)
        self.optimizer = self.optimizers[0]  # the heads' (multiplier 1), logged
        self.ema = [tf.Variable(v.numpy(), trainable=False) for v in self.model.weights]
        self.step_var = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self.steps = {h.name: self._make_step(h) for h in self.model_config.heads}

    def _parameter_groups(self) -> list[tuple[float, list]]:
        """Trainable variables grouped by LR multiplier (heads and new layers first, at 1).

        Encoder variables get ``encoder_learning_rate / learning_rate`` times
        ``layer_decay ** depth``, depth counted down from the top transformer group (0) to the
        embeddings (number of groups). ALBERT shares a group's weights across the layers it
        applies, so the decay steps per group, not per layer application.
        """
        c, encoder = self.config, self.model.encoder
        ratio = (c.encoder_learning_rate or c.learning_rate) / c.learning_rate
        depth = {id(v): len(encoder.groups) for layer in (
            encoder.word_embeddings, encoder.position_embeddings, encoder.token_type_embeddings,
            encoder.embedding_norm, encoder.embedding_projection) for v in layer.weights}
        for g, group in enumerate(encoder.groups):
            depth.update({id(v): len(encoder.groups) - 1 - g for layer in group
                          for v in layer.weights})
        groups: dict[float, list] = {1.0: []}
        for v in self.model.trainable_variables:
            multiplier = ratio * c.layer_decay ** depth[id(v)] if id(v) in depth else 1.0
            groups.setdefault(multiplier, []).append(v)
        return [(m, vs) for m, vs in groups.items() if vs]

    def _make_step(self, head: HeadConfig):
        """A ``tf.function`` training step for ``head``: loss, clipped gradients, one optimizer
        per LR group, warm-started EMA. Returns the mean loss."""
        import tensorflow as tf

        from kgpipe.ner.globalpointer import globalpointer_loss
        from kgpipe.ner.model import crf_log_likelihood

        c, model, ema, step_var = self.config, self.model, self.ema, self.step_var
        layer = model.heads[head.name]
        variables = [v for _, group in self.groups for v in group]
        spans = head.kind == "globalpointer"
        target = (tf.TensorSpec([None, len(head.labels), None, None], tf.float32) if spans
                  else tf.TensorSpec([None, None], tf.int32))
        spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None, self.model_config.lexicon_dim], tf.float32),
                target, tf.TensorSpec([None], tf.int32)]

        @tf.function(input_signature=spec)
        def step(token_ids, bigram_ids, lexicon, tags, lengths):
            with tf.GradientTape() as tape:
                outputs = model({"token_ids": token_ids, "bigram_ids": bigram_ids,
                                 "lexicon": lexicon}, training=True)
                if spans:
                    loss = tf.reduce_mean(globalpointer_loss(outputs[head.name], tags))
                else:
                    width = tf.reduce_max(lengths)
                    nll = -crf_log_likelihood(outputs[head.name][:, :width], tags[:, :width],
                                              lengths, layer)
                    loss = tf.reduce_mean(nll)
            grads = tape.gradient(loss, variables)
            grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
            grads, _ = tf.clip_by_global_norm(grads, c.clip_norm)
            offset = 0
            for optimizer, (_, group) in zip(self.optimizers, self.groups):
                optimizer.apply(grads[offset:offset + len(group)], group)
                offset += len(group)
            step_var.assign_add(1.0)
            # Warm-started EMA (as in tf.train.ExponentialMovingAverage with num_updates).
            decay = tf.minimum(c.ema_decay, (1.0 + step_var) / (10.0 + step_var))
            for shadow, v in zip(ema, model.weights):
                shadow.assign(decay * shadow + (1.0 - decay) * tf.cast(v, shadow.dtype))
            return loss
        return step

    def _load_pretrained(self):
        """Starts the token and bigram tables from skip-gram vectors (cached in the run dir)."""
        from kgpipe.ner import pretrain

        c, path = self.config, self.out / "pretrained.npz"
        if path.is_file():
            vectors = pretrain.load(path)
        else:
            vectors = pretrain.pretrain_embeddings(
                self.vocab_texts, self.featurizer, char_dim=self.model_config.albert.embedding_size,
                bigram_dim=self.model_config.bigram_dim, epochs=c.pretrain_epochs, seed=c.seed)
            pretrain.save(path, vectors)
        tables = {}
        if not c.encoder_dir:  # a pre-trained encoder keeps its own token table
            tables["tokens"] = self.model.encoder.word_embeddings.embeddings
        if self.model.bigram_embeddings is not None:
            tables["bigrams"] = self.model.bigram_embeddings.embeddings
        for name, variable in tables.items():
            matrix, covered = vectors[name]
            variable.assign(pretrain.scaled_like(variable.numpy(), matrix, covered))

    def _load_init_model(self):
        """Copies the ``init_model``'s weights by variable path (layer-name counters aside):
        every shared variable must match; heads the init model lacks keep their random start."""
        from kgpipe.ner.model_dir import load_model_dir
        from kgpipe.ner.model_dir import weight_key as key

        init, init_featurizer, _ = load_model_dir(self.config.init_model, kb_names=self.config.kb_names)
        arrays = {key(v.path): v.numpy() for v in init.weights}
        fresh = []
        for v in self.model.weights:
            array = arrays.get(key(v.path))
            if (array is not None and key(v.path) == "lexicon_projection/kernel"
                    and init_featurizer.gazetteer is None and self.featurizer.gazetteer is not None):
                # The KB gazetteer's inputs sit between the lexicon's and the word vectors'; their
                # rows start at zero, so the run starts from the init model's outputs exactly.
                at = init_featurizer.lexicon.feature_dim if init_featurizer.lexicon is not None else 0
                array = np.insert(array, [at] * self.featurizer.gazetteer.feature_dim, 0.0, axis=0)
            elif array is None and key(v.path).startswith("lexicon_projection/") and not init.config.lexicon_dim:
                array = np.zeros(v.shape, v.dtype)  # the init model had no per-character features
            if array is None and "/head_" in "/" + key(v.path):
                fresh.append(v.path)
                continue
            if array is None or tuple(array.shape) != tuple(v.shape):
                raise ValueError(f"--init-model {self.config.init_model!r}: variable {key(v.path)!r} "
                                 f"{'is missing' if array is None else f'has shape {array.shape}'}; "
                                 f"this run's model needs {tuple(v.shape)}")
            v.assign(array)
        log.info("weights from %s (%d variables; %d head variables start fresh)",
                 self.config.init_model, len(self.model.weights) - len(fresh), len(fresh))

    # --- state ------------------------------------------------------------------------------
    def _state_arrays(self):
        arrays = {f"w{i:04d}": v.numpy() for i, v in enumerate(self.model.weights)}
        arrays.update({f"e{i:04d}": v.numpy() for i, v in enumerate(self.ema)})
        arrays.update({f"o{i:04d}": v.numpy() for i, v in enumerate(self._optimizer_variables())})
        arrays["step"] = np.array(self.step_var.numpy())
        return arrays

    def _optimizer_variables(self) -> list:
        return [v for optimizer in self.optimizers for v in optimizer.variables]

    def save_checkpoint(self, progress: dict) -> None:
        tmp = self.out / "checkpoint.tmp.npz"
        np.savez(tmp, **self._state_arrays())
        os.replace(tmp, self.out / "checkpoint.npz")
        with open(self.out / "progress.json", "w") as f:
            json.dump(progress, f, indent=1)

    def restore_checkpoint(self) -> dict | None:
        path = self.out / "checkpoint.npz"
        if not path.is_file():
            return None
        with np.load(path) as data:
            for i, v in enumerate(self.model.weights):
                v.assign(data[f"w{i:04d}"])
            for i, v in enumerate(self.ema):
                v.assign(data[f"e{i:04d}"])
            for i, v in enumerate(self._optimizer_variables()):
                v.assign(data[f"o{i:04d}"])
            self.step_var.assign(float(data["step"]))
        with open(self.out / "progress.json") as f:
            return json.load(f)

    def ema_tagger(self):
        """A tagger over a copy of the model carrying the EMA weights."""
        from kgpipe.ner.model import NerModel
        from kgpipe.ner.tagger import MentionTagger

        model = NerModel(self.model_config)
        model.build_all()
        for v, shadow in zip(model.weights, self.ema):
            v.assign(shadow.numpy())
        return MentionTagger(model, self.featurizer, version="training")

    def export(self, path) -> str:
        """Saves the EMA weights without the auxiliary heads (whose weights come last)."""
        from kgpipe.ner.model import NerModel
        from kgpipe.ner.model_dir import save_model_dir

        model = self.model
        if self.export_config != self.model_config:
            model = NerModel(self.export_config)
            model.build_all()
            dropped = self.model.weights[len(model.weights):]
            kept = set(self.export_config.heads)
            for kept_var, var in zip(model.weights, self.model.weights):
                if tuple(kept_var.shape) != tuple(var.shape):
                    raise AssertionError(f"export weight order differs at {var.path}")
            if any(not any(f"head_{h.name}/" in v.path for h in self.model_config.heads
                           if h not in kept) for v in dropped):
                raise AssertionError("auxiliary head weights are not last in the model")
        return save_model_dir(path, model, self.featurizer,
                              weights=[v.numpy() for v in self.ema[:len(model.weights)]])

    # --- loop -------------------------------------------------------------------------------
    def learning_rate(self, step: int, elapsed: float) -> float:
        c = self.config
        warm = min(1.0, (step + 1) / max(c.warmup_steps, 1))
        progress = min(1.0, elapsed / c.time_budget_s)
        return c.learning_rate * warm * (1.0 - (1.0 - c.final_lr_fraction) * progress)

    def run(self) -> dict:
        c = self.config
        self.prepare()
        from kgpipe.ner.model_dir import save_model_dir
        if not (self.out / "vocab").is_dir():
            save_model_dir(self.out / "vocab", self._dummy_model(), self.featurizer)
        self.build()
        progress = self.restore_checkpoint() or {"epoch": 0, "elapsed": 0.0, "best": -1.0,
                                                 "bad_evals": 0, "history": []}
        if progress["elapsed"]:
            log.info("resumed at step %d, %.0fs elapsed", int(self.step_var.numpy()),
                     progress["elapsed"])
        rng = np.random.default_rng(c.seed + progress["epoch"])
        unk = self.featurizer.tokenizer.unk_id
        span_labels = {h.name: len(h.labels) for h in self.model_config.heads
                       if h.kind == "globalpointer"}
        start = time.time() - progress["elapsed"]
        last_eval, losses, stop = time.time(), [], False
        while progress["epoch"] < c.max_epochs and not stop:
            epoch_batches = batches(self.train, c.batch_size, random.Random(c.seed + progress["epoch"]))
            skip = progress.get("batch_in_epoch", 0)
            epoch_start = len(losses)
            for b, batch in enumerate(epoch_batches):
                if b < skip:
                    continue
                elapsed = time.time() - start
                step = int(self.step_var.numpy())
                rate = self.learning_rate(step, elapsed)
                for optimizer, (multiplier, _) in zip(self.optimizers, self.groups):
                    optimizer.learning_rate = rate * multiplier
                inputs, tags, lengths = pad_batch(batch, self.featurizer.lexicon_dim, rng, unk,
                                                  c.token_dropout, c.bigram_dropout,
                                                  span_labels.get(batch[0].head, 0))
                loss = self.steps[batch[0].head](inputs["token_ids"], inputs["bigram_ids"],
                                                 inputs["lexicon"], tags, lengths)
                losses.append(float(loss))
                if step % 100 == 0:
                    log.info("epoch %d step %d loss %.3f lr %.2e elapsed %.0fs", progress["epoch"],
                             step, np.mean(losses[-100:]), float(self.optimizer.learning_rate), elapsed)
                out_of_time = elapsed >= c.time_budget_s
                if time.time() - last_eval >= c.eval_every_s or out_of_time:
                    progress.update(elapsed=time.time() - start, batch_in_epoch=b + 1)
                    stop = self._evaluate(progress, step) or out_of_time
                    last_eval = time.time()
                    if stop:
                        break
            else:
                if len(losses) > epoch_start:  # mean training loss of each (resumed) epoch
                    progress.setdefault("epoch_losses", []).append(
                        round(float(np.mean(losses[epoch_start:])), 4))
                progress.update(epoch=progress["epoch"] + 1, batch_in_epoch=0)
        if not stop:  # ran out of epochs: score the final weights too
            progress["elapsed"] = time.time() - start
            self._evaluate(progress, int(self.step_var.numpy()))
        progress["elapsed"] = time.time() - start
        self.save_checkpoint(progress)
        log.info("done: best dev %.4f after %.0fs", progress["best"], progress["elapsed"])
        return progress

    def _dummy_model(self):
        class _Holder:  # save_model_dir needs .config and .weights for the vocab directory
            config = self.model_config
            weights = []
        return _Holder()

    def _evaluate(self, progress: dict, step: int) -> bool:
        """Scores the EMA weights on dev, exports the best; returns True to stop early."""
        t0 = time.time()
        scores = score_dev(self.ema_tagger(), self.dev, self.config.select)
        criterion = scores.get("select", scores["micro"])
        improved = criterion > progress["best"]
        progress["history"].append({"step": step, "elapsed": round(progress["elapsed"]),
                                    **{k: round(v, 4) for k, v in scores.items()}})
        if improved:
            progress.update(best=criterion, best_step=step, bad_evals=0)
            version = self.export(self.out / "best")
            progress["best_version"] = version
        else:
            progress["bad_evals"] += 1
        self.save_checkpoint(progress)
        log.info("eval step %d: %s (%.0fs)%s", step,
                 " ".join(f"{k}={v:.4f}" for k, v in scores.items()), time.time() - t0,
                 " *best*" if improved else "")
        return progress["bad_evals"] >= self.config.patience
