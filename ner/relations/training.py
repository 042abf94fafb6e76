"""Training loop for the relation model: time-budgeted, dev-selected, resumable.

Model selection (written before training): the saved model is the one with the best dev
triple-level micro F1, evaluated every ``eval_every`` steps and at the end; ties keep the earlier.
``DIR/last/`` holds the latest weights and ``DIR/state.json`` the step and best F1, so a killed
run resumes from its last evaluation, skipping the batches of the epoch it already trained on
(the optimizer state starts afresh). With ``ema_decay`` the dev scores and the saved model are those
of the weights' exponential moving average (``DIR/last/ema.npz`` carries it across a resume).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kgpipe.ner.relations.data import Example, Predicate
from kgpipe.ner.relations.evaluation import score_triples
from kgpipe.ner.relations.extractor import CharVocab, RelationExtractorModel
from kgpipe.ner.relations.config import RelationConfig
from kgpipe.ner.relations.model import RelationModel, pair_targets

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (``time_budget`` in seconds; 0 means no limit)."""

    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 2e-3
    time_budget: float = 0.0
    eval_every: int = 200
    seed: int = 0
    ema_decay: float = 0.0  # > 0: dev scores and saved models use an exponential moving average of the weights

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={getattr(self, name)!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in [0, 1). Received: ema_decay={self.ema_decay!r}")
        if self.learning_rate <= 0 or self.time_budget < 0:
            raise ValueError(f"`learning_rate` must be > 0 and `time_budget` >= 0. Received: "
                             f"learning_rate={self.learning_rate!r}, time_budget={self.time_budget!r}")


def targets(examples: Sequence[Example], predicates: dict[str, int], n: int) -> dict[str, np.ndarray]:
    """Dense targets for one batch: ``entity`` [b, 2, n, n], ``head``/``tail`` [b, P, n, n]."""
    entity, head, tail = [], [], []
    for example in examples:
        e, h, t = set(), set(), set()
        for triple in example.triples:
            (ss, se), (os_, oe), p = triple.subject, triple.object, predicates[triple.predicate]
            if max(se, oe) > n:
                continue
            e.update({(0, ss, se - 1), (1, os_, oe - 1)})
            h.add((p, ss, os_))
            t.add((p, se - 1, oe - 1))
        entity.append(sorted(e)), head.append(sorted(h)), tail.append(sorted(t))
    return {"entity": pair_targets(entity, 2, n), "head": pair_targets(head, len(predicates), n),
            "tail": pair_targets(tail, len(predicates), n)}


def batches(examples: Sequence[Example], batch_size: int, rng: np.random.Generator) -> list[list[Example]]:
    """Shuffled batches of similar lengths (sorted within pools of 20 batches)."""
    order = rng.permutation(len(examples))
    pool = batch_size * 20
    out = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: len(examples[i].text))
        out += [[examples[i] for i in chunk[b:b + batch_size]] for b in range(0, len(chunk), batch_size)]
    return [out[i] for i in rng.permutation(len(out))]


def evaluate(extractor: RelationExtractorModel, examples: Sequence[Example], batch_size: int = 32,
             threshold: float | None = None) -> dict:
    """Triple-level scores of ``extractor`` on ``examples`` (``evaluation.score_triples``);
    ``threshold`` overrides the model's decoding threshold."""
    predicted = extractor.predict([e.text for e in examples], batch_size=batch_size, threshold=threshold)
    return score_triples((e.strings(), {(e.text[t.subject[0]:t.subject[1]], t.predicate,
                                         e.text[t.object[0]:t.object[1]]) for t in p})
                         for e, p in zip(examples, predicted))


def choose_threshold(extractor: RelationExtractorModel, examples: Sequence[Example],
                     candidates: Sequence[float]) -> tuple[float, dict[float, dict]]:
    """The decoding threshold with the best micro F1 on ``examples`` (ties: the one closest to
    0), and the micro scores of every candidate."""
    if not candidates:
        raise ValueError("`candidates` must not be empty")
    scores = {float(t): evaluate(extractor, examples, threshold=t)["micro"] for t in candidates}
    best = max(scores, key=lambda t: (scores[t]["f1"], -abs(t)))
    return best, scores


def ner_embedding_tables(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The character and bigram vectors of a kgpipe NER model directory, keyed as ``CharVocab``
    keys: one character; two characters (``"\\x00"`` second at the end of a text).

    Raises:
        ValueError: the directory is not a NER model, or its tables do not match its vocabularies.
    """
    from kgpipe.ner.model_dir import read_meta

    path = Path(path)
    meta = read_meta(path)
    tokens = (path / meta["tokenizer"]["vocab_file"]).read_text(encoding="utf-8").splitlines()
    pairs = (path / meta["bigrams_file"]).read_text(encoding="utf-8").splitlines()
    with np.load(path / "weights.npz") as data:
        found = {suffix: [k for k in data.files if k.endswith(suffix)]
                 for suffix in ("/albert/word_embeddings/embeddings", "/bigram_embeddings/embeddings")}
        if any(len(keys) != 1 for keys in found.values()):
            raise ValueError(f"{path}: expected one character and one bigram embedding table in weights.npz, "
                             f"found {found}")
        chars, bigrams = (data[keys[0]] for keys in found.values())
    if len(tokens) != len(chars) or len(pairs) != len(bigrams):
        raise ValueError(f"{path}: {len(tokens)} tokens / {len(pairs)} bigrams in the vocabulary files, but "
                         f"embedding tables of {len(chars)} / {len(bigrams)} rows")
    char_vectors = {t: chars[i] for i, t in enumerate(tokens) if len(t) == 1}
    bigram_vectors = {}
    for i, line in enumerate(pairs):
        a, tab, b = line.partition("\t")
        if tab and len(a) == 1 and (len(b) == 1 or b == "</s>"):
            bigram_vectors[a + ("\x00" if b == "</s>" else b)] = bigrams[i]
    return char_vectors, bigram_vectors


def initial_model(train_examples: Sequence[Example], predicates: Sequence[Predicate], model_config: dict,
                   init_embeddings: str | Path | None) -> tuple[RelationExtractorModel, dict]:
    """A fresh model; with ``init_embeddings`` (a NER model directory) its vocabulary also holds
    that model's characters and bigrams, and their rows start from its tables."""
    vocab = CharVocab.build(e.text for e in train_examples)
    tables = ner_embedding_tables(init_embeddings) if init_embeddings else ({}, {})
    if init_embeddings:
        vocab = CharVocab(vocab.chars + sorted(set(tables[0]) - set(vocab.chars)),
                          vocab.bigrams + sorted(set(tables[1]) - set(vocab.bigrams)))
    rc = RelationConfig(predicates=tuple(p.name for p in predicates), vocab_size=len(vocab.chars),
                        bigram_vocab_size=len(vocab.bigrams), **model_config)
    model = RelationModel(rc)
    model.build_all()
    counts = {}
    for name, keys, table, layer in (("chars", vocab.chars, tables[0], model.char_embeddings),
                                     ("bigrams", vocab.bigrams, tables[1], model.bigram_embeddings)):
        if not table:
            continue
        matrix = np.array(layer.embeddings.numpy())
        dim = len(next(iter(table.values())))
        if dim != matrix.shape[1]:
            flag = "--embedding-dim" if name == "chars" else "--bigram-dim"
            raise ValueError(f"{init_embeddings}: its {name} vectors have {dim} dimensions, the relation model's "
                             f"{matrix.shape[1]}; set {flag} {dim}")
        rows = [i for i, key in enumerate(keys) if key in table]
        if rows:
            matrix[rows] = np.stack([table[keys[i]] for i in rows])
            layer.embeddings.assign(matrix)
        counts[name] = len(rows)
    init = {"init_embeddings": {"from": str(init_embeddings), "rows": counts}} if init_embeddings else {}
    return RelationExtractorModel(model, vocab, predicates), init


def set_threads(threads: int) -> None:
    """Limits TensorFlow to ``threads`` intra-op and inter-op threads.

    TensorFlow fixes its thread pools when it first runs an operation; a later call in the same process (a
    notebook, or a test run after other models) cannot change them, so it warns and leaves them as they are.
    """
    import tensorflow as tf

    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        current = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
        if current != (threads, threads):
            logger.warning("threads=%d not applied: TensorFlow is already running in this process with "
                           "%s intra-op and %s inter-op threads", threads, *(n or "automatic" for n in current))


def _train_step(model: RelationModel, optimizer, ema: list | None = None, ema_decay: float = 0.0):
    """One optimisation step; with ``ema`` (variables shadowing ``model.weights``) it also updates
    their moving average, warm-started as in ``tf.train.ExponentialMovingAverage`` with
    ``num_updates`` (decay ``min(ema_decay, (1 + t) / (10 + t))``), as the NER trainer does."""
    import tensorflow as tf

    from kgpipe.ner.globalpointer import globalpointer_loss

    inputs = {"char_ids": tf.TensorSpec([None, None], tf.int32), "bigram_ids": tf.TensorSpec([None, None], tf.int32)}
    if model.config.lexicon_dim:
        inputs["lexicon"] = tf.TensorSpec([None, None, model.config.lexicon_dim], tf.float32)
    spec = (inputs, {k: tf.TensorSpec([None, None, None, None], tf.float32) for k in ("entity", "head", "tail")})

    @tf.function(input_signature=spec)
    def step(inputs, gold):
        with tf.GradientTape() as tape:
            scores = model(inputs, training=True)
            loss = tf.add_n([tf.reduce_mean(globalpointer_loss(scores[k], gold[k])) for k in gold])
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        if ema:
            t = tf.cast(optimizer.iterations, tf.float32)
            decay = tf.minimum(ema_decay, (1.0 + t) / (10.0 + t))
            for shadow, v in zip(ema, model.weights):
                shadow.assign(decay * shadow + (1.0 - decay) * v)
        return loss
    return step


class _Swapped:
    """Within the block, ``model``'s weights are the EMA shadows (the training weights after it)."""

    def __init__(self, model, ema: list | None):
        self.model, self.ema = model, ema

    def __enter__(self):
        if self.ema:
            self.saved = [v.numpy() for v in self.model.weights]
            for v, shadow in zip(self.model.weights, self.ema):
                v.assign(shadow)

    def __exit__(self, *exc):
        if self.ema:
            for v, value in zip(self.model.weights, self.saved):
                v.assign(value)


def train(train_examples: Sequence[Example], dev_examples: Sequence[Example], predicates: Sequence[Predicate],
          out: str | Path, model_config: dict | None = None, config: TrainConfig = TrainConfig(),
          log: Callable[[str], None] = print, card: dict | None = None,
          init_embeddings: str | Path | None = None) -> dict:
    """Trains and writes the dev-selected model to ``out`` (see the module docstring).

    Args:
        model_config: ``RelationConfig`` fields other than predicates and vocabulary sizes.
        init_embeddings: a NER model directory whose character and bigram tables start the
            model's (a fresh run only; ``ner_embedding_tables``).

    Returns:
        ``{"steps", "best_f1", "best_step", "history": [...], "losses": [...]}``.
    """
    import keras

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state_file = out / "state.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else None
    if state is not None and (out / "last" / "config.json").is_file():
        extractor = RelationExtractorModel.load(out / "last", backend="keras")  # training needs Keras
        log(f"resuming from step {state['steps']} (best dev F1 {state['best_f1']:.4f})")
    else:
        extractor, init = initial_model(train_examples, predicates, model_config or {}, init_embeddings)
        card = {**(card or {}), **init}
        if init:
            log(f"embedding rows from {init_embeddings}: {init['init_embeddings']['rows']}")
        state = {"steps": 0, "best_f1": -1.0, "best_step": 0, "history": [], "losses": [], "epoch": 0}
    model, rc = extractor.model, extractor.config
    keras.utils.set_random_seed(config.seed + state["steps"])
    index = {p: i for i, p in enumerate(rc.predicates)}
    optimizer = keras.optimizers.Adam(config.learning_rate)
    ema = None
    if config.ema_decay:
        import tensorflow as tf

        saved = out / "last" / "ema.npz"  # a resumed run continues its average
        values = [v.numpy() for v in model.weights]
        if state["steps"] and saved.is_file():
            with np.load(saved) as stored:
                values = [stored[f"e{i:04d}"] for i in range(len(values))]
        ema = [tf.Variable(value, trainable=False) for value in values]
        optimizer.iterations.assign(state["steps"])  # the average's warm-up counts steps across resumes
    step = _train_step(model, optimizer, ema, config.ema_decay)
    started, rng = time.monotonic(), np.random.default_rng(config.seed + state["epoch"])
    meta = {**(card or {}), "train_sentences": len(train_examples), "dev_sentences": len(dev_examples)}

    def checkpoint() -> None:
        with _Swapped(model, ema):
            scores = evaluate(extractor, dev_examples)
            f1 = scores["micro"]["f1"]
            state["history"].append({"step": state["steps"], "dev": scores["micro"],
                                     "seconds": round(time.monotonic() - started, 1)})
            log(f"step {state['steps']}: dev P {scores['micro']['precision']:.4f} "
                f"R {scores['micro']['recall']:.4f} F1 {f1:.4f}")
            if f1 > state["best_f1"]:
                state.update(best_f1=f1, best_step=state["steps"])
                extractor.save(out, {**meta, "dev": scores, "step": state["steps"]})
        extractor.save(out / "last")  # the training weights, to resume from
        if ema:
            np.savez(out / "last" / "ema.npz", **{f"e{i:04d}": v.numpy() for i, v in enumerate(ema)})
        state_file.write_text(json.dumps(state, indent=1))

    # Batches of the current epoch already trained on (a resumed run skips them).
    done = state.get("epoch_step", state["steps"] if state["epoch"] == 0 else 0)
    while state["epoch"] < config.epochs:
        for batch in batches(train_examples, config.batch_size, rng)[done:]:
            texts = [e.text[:rc.max_length] for e in batch]
            inputs = extractor.encode(texts)
            loss = float(step(inputs, targets(batch, index, inputs["char_ids"].shape[1])))
            state["steps"] += 1
            state["epoch_step"] = state.get("epoch_step", done) + 1
            state["losses"].append(round(loss, 4))
            if state["steps"] % 20 == 0:
                log(f"epoch {state['epoch']} step {state['steps']} loss {np.mean(state['losses'][-20:]):.4f} "
                    f"({time.monotonic() - started:.0f}s)")
            if state["steps"] % config.eval_every == 0:
                checkpoint()
            if config.time_budget and time.monotonic() - started > config.time_budget:
                break
        else:
            state["epoch"] += 1
            state["epoch_step"], done = 0, 0
            continue
        break
    checkpoint()
    return state
