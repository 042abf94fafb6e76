"""ALBERT masked-LM pre-training (``kgpipe ner pretrain``), resumable and bounded by a time budget.

Not to be confused with ``ner.pretrain``, the skip-gram vectors of the BiLSTM tagger.

The model is ``ner.albert.AlbertEncoder`` (brightmart layout, so ``--export-tf1`` writes an
albert_zh checkpoint directly) plus the masked-LM head of brightmart's ``run_pretraining.py``:
a dense ``hidden -> hidden`` transform with GELU and LayerNorm, the transposed embedding
projection (``word_embeddings_2``, [E, H]) back to ``embedding_size``, then logits against the
tied word embeddings plus an output bias. Only masked positions are scored.

A run directory ``out`` is an encoder directory (as ``ner import-albert`` writes: config,
vocabulary, ``encoder.weights.npz``) rewritten at every checkpoint, plus ``pretrain/``::

    pretrain/run.json        options and inputs of the run (a resume must match them)
    pretrain/segments.npz    tokenized training segments; pretrain/dev.npz the held-out ones
    pretrain/state.npz       model and optimizer variables, step, seconds trained
    pretrain/log.jsonl       one line per evaluation: step, seconds, train loss, dev MLM loss/accuracy
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import time
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from kgpipe.ner.albert import AlbertConfig, AlbertEncoder
from kgpipe.ner.checkpoints import CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE
from kgpipe.ner.mlm_data import MaskingConfig, Segments, build_segments, mask_batch, read_unlabelled
from kgpipe.ner.tokenizer import Tokenizer

log = logging.getLogger(__name__)
REPORT_FILE = "pretrain_report.json"


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """Options of one pre-training run (everything but the encoder's shape)."""

    unlabelled: tuple[str, ...]
    exclude_tail: int = 1000
    seq_length: int = 128
    max_predictions: int = 20
    batch_size: int = 32
    learning_rate: float = 5e-4
    warmup_steps: int = 500
    weight_decay: float = 0.01
    time_budget: float = 3600.0
    eval_seconds: float = 300.0
    checkpoint_seconds: float = 300.0
    dev_segments: int = 256
    min_char_count: int = 2
    max_steps: int = 0
    seed: int = 0

    def __post_init__(self):
        if not self.unlabelled:
            raise ValueError("--unlabelled: at least one file is needed. Received: none")
        for name in ("seq_length", "max_predictions", "batch_size", "dev_segments",
                     "min_char_count"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1. Received: {name}={getattr(self, name)}")
        for name in ("exclude_tail", "warmup_steps", "max_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={getattr(self, name)}")
        for name in ("learning_rate", "time_budget", "eval_seconds", "checkpoint_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0. Received: {name}={getattr(self, name)}")

    def masking(self) -> MaskingConfig:
        return MaskingConfig(self.seq_length, self.max_predictions)


class WarmupInverseSqrt(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup`` steps, then ``peak * sqrt(warmup / step)``."""

    def __init__(self, peak: float, warmup: int):
        self.peak, self.warmup = float(peak), max(int(warmup), 1)

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        return self.peak * ops.minimum(step / self.warmup, ops.sqrt(self.warmup / step))

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup}


class AlbertMaskedLM(keras.Model):
    """Encoder + masked-LM head.

    Call: ``{"token_ids": int32 [batch, seq_length], "masked_positions": int32
    [batch, max_predictions]}`` -> logits float32 [batch, max_predictions, vocab_size].
    """

    def __init__(self, config: AlbertConfig, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.albert_config = config
        init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
        self.encoder = AlbertEncoder(config, name="encoder")
        self.transform = keras.layers.Dense(
            config.hidden_size, kernel_initializer=init, name="transform",
            activation=lambda x: keras.activations.gelu(x, approximate=True))
        self.transform_norm = keras.layers.LayerNormalization(
            epsilon=config.layer_norm_epsilon, name="transform_norm")
        self.encoder.build()
        self.transform.build((None, config.hidden_size))
        self.transform_norm.build((None, config.hidden_size))
        self.output_bias = self.add_weight(shape=(config.vocab_size,), initializer="zeros",
                                           name="output_bias")

    def call(self, inputs, training=False):
        token_ids, positions = inputs["token_ids"], inputs["masked_positions"]
        hidden = self.encoder(token_ids, training=training)  # [batch, seq, hidden]
        shape = ops.shape(hidden)
        flat = ops.reshape(hidden, (-1, shape[2]))
        rows = ops.arange(shape[0], dtype="int32")[:, None] * ops.cast(shape[1], "int32")
        picked = ops.take(flat, ops.reshape(ops.cast(positions, "int32") + rows, (-1,)), axis=0)
        x = self.transform_norm(self.transform(picked))  # [batch * predictions, hidden]
        x = ops.matmul(x, ops.transpose(self.encoder.embedding_projection.kernel))  # [.., E]
        logits = ops.matmul(x, ops.transpose(self.encoder.word_embeddings.embeddings))
        logits = logits + self.output_bias
        return ops.reshape(logits, (shape[0], -1, self.albert_config.vocab_size))

    def head_weights(self) -> list[tuple[str, object]]:
        """The head's variables under the reference ``cls/predictions/...`` names."""
        p = "cls/predictions"
        return [(f"{p}/transform/dense/kernel", self.transform.kernel),
                (f"{p}/transform/dense/bias", self.transform.bias),
                (f"{p}/transform/LayerNorm/gamma", self.transform_norm.gamma),
                (f"{p}/transform/LayerNorm/beta", self.transform_norm.beta),
                (f"{p}/output_bias", self.output_bias)]


def masked_lm_loss(labels, logits):
    """Mean cross-entropy over masked positions; ``labels`` is -1 where no token is predicted."""
    weights = ops.cast(ops.greater_equal(labels, 0), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(
        ops.maximum(labels, 0), ops.cast(logits, "float32"), from_logits=True)
    return ops.sum(losses * weights) / ops.maximum(ops.sum(weights), 1.0)


def build_model(config: AlbertConfig, run: PretrainConfig) -> AlbertMaskedLM:
    """The model, compiled with AdamW (no decay on LayerNorm and biases) and gradient clipping."""
    model = AlbertMaskedLM(config)
    optimizer = keras.optimizers.AdamW(
        learning_rate=WarmupInverseSqrt(run.learning_rate, run.warmup_steps),
        weight_decay=run.weight_decay, clipnorm=1.0, epsilon=1e-6)
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    model.compile(optimizer=optimizer, loss=masked_lm_loss)
    optimizer.build(model.trainable_variables)
    return model


def evaluate(model: AlbertMaskedLM, batches: Sequence[dict[str, np.ndarray]]) -> dict[str, float]:
    """Held-out MLM loss (mean over masked tokens, nats) and accuracy (top-1 over masked tokens)."""
    total_loss = correct = count = 0.0
    for batch in batches:
        logits = np.asarray(model(batch, training=False), np.float32)
        labels = batch["masked_labels"]
        used = labels >= 0
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        gold = np.take_along_axis(log_probs, np.maximum(labels, 0)[..., None], -1)[..., 0]
        total_loss -= float(gold[used].sum())
        correct += float((logits.argmax(-1) == labels)[used].sum())
        count += float(used.sum())
    return {"dev_loss": total_loss / max(count, 1.0), "dev_accuracy": correct / max(count, 1.0)}


def save_state(model: AlbertMaskedLM, path: pathlib.Path, step: int, seconds: float) -> None:
    """Model and optimizer variables plus progress, written atomically."""
    arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(model.weights)}
    arrays.update({f"optimizer_{i}": np.asarray(v)
                   for i, v in enumerate(model.optimizer.variables)})
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, step=step, seconds=seconds, **arrays)
    os.replace(tmp, path)


def restore_state(model: AlbertMaskedLM, path: pathlib.Path) -> tuple[int, float]:
    """Inverse of ``save_state``; returns (step, seconds trained)."""
    with np.load(path) as archive:
        for prefix, variables in (("model", model.weights),
                                  ("optimizer", model.optimizer.variables)):
            stored = sum(1 for k in archive.files if k.startswith(prefix + "_"))
            if stored != len(variables):
                raise ValueError(f"{path}: holds {stored} {prefix} variables, the model has "
                                 f"{len(variables)}; was the run started with another --config?")
            for i, variable in enumerate(variables):
                variable.assign(archive[f"{prefix}_{i}"])
        return int(archive["step"]), float(archive["seconds"])


def write_encoder_dir(model: AlbertMaskedLM, tokenizer: Tokenizer, out: pathlib.Path,
                      report: dict) -> None:
    """Writes ``out`` as an encoder directory (the files ``ner import-albert`` writes)."""
    out.mkdir(parents=True, exist_ok=True)
    model.albert_config.to_json(out / CONFIG_FILE)
    tokenizer.save(out / VOCAB_FILE)
    weights = {name: np.asarray(v, np.float32) for name, v in model.encoder.named_weights()}
    tmp = out / (WEIGHTS_FILE + ".tmp.npz")
    np.savez(tmp, **weights)
    os.replace(tmp, out / WEIGHTS_FILE)
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def resolve_encoder_config(name_or_path: str, vocab_size: int, seq_length: int) -> AlbertConfig:
    """``tiny``/``small``/``base``/``large`` or a JSON file of ``AlbertConfig`` fields.

    ``vocab_size`` comes from the built vocabulary, the layout is brightmart; positions cover
    ``seq_length`` unless the file asks for more.
    """
    if os.path.isfile(name_or_path):
        with open(name_or_path, encoding="utf-8") as f:
            values = json.load(f)
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(AlbertConfig)})
        if unknown:
            raise ValueError(f"--config {name_or_path}: unknown AlbertConfig fields {unknown}")
    else:
        from kgpipe.ner.albert import PRESETS
        if name_or_path not in PRESETS:
            raise ValueError(f"--config must be one of {sorted(PRESETS)} or a JSON file. "
                             f"Received: --config={name_or_path!r}")
        values = dict(PRESETS[name_or_path])
    values.setdefault("max_position_embeddings", seq_length)
    values.update(vocab_size=vocab_size, embedding_layout="brightmart",
                  num_hidden_groups=1, inner_group_num=1)
    config = AlbertConfig.from_dict(values)
    if config.max_position_embeddings < seq_length:
        raise ValueError(f"--config: max_position_embeddings={config.max_position_embeddings} "
                         f"is below --seq-length={seq_length}")
    return config


def prepare_data(run: PretrainConfig, work: pathlib.Path) -> tuple[Tokenizer, Segments, Segments]:
    """Builds (or, on resume, reloads) the vocabulary and the train / held-out segments.

    The held-out segments are a seeded random sample of ``dev_segments`` segments.
    """
    vocab, train_file, dev_file = work / VOCAB_FILE, work / "segments.npz", work / "dev.npz"
    if vocab.exists() and train_file.exists() and dev_file.exists():
        return Tokenizer.from_file(vocab), Segments.load(train_file), Segments.load(dev_file)
    t0 = time.monotonic()
    texts = [text for path in run.unlabelled
             for text in read_unlabelled(path, exclude_tail=run.exclude_tail)]
    tokenizer = Tokenizer.build(texts, min_char_count=run.min_char_count)
    segments = build_segments(texts, tokenizer, run.seq_length - 2)
    if len(segments) < 2 * run.dev_segments:
        raise ValueError(f"--unlabelled: {len(segments)} segments are too few for "
                         f"{run.dev_segments} held-out ones; add text or lower --dev-segments")
    order = np.random.default_rng(run.seed).permutation(len(segments))
    dev, train = segments.take(order[:run.dev_segments]), segments.take(order[run.dev_segments:])
    tokenizer.save(vocab)
    train.save(train_file)
    dev.save(dev_file)
    log.info("%d texts -> %d segments, %d tokens, vocabulary %d (%.0f s)", len(texts),
             len(segments), len(segments.token_ids), len(tokenizer), time.monotonic() - t0)
    return tokenizer, train, dev


_MAY_CHANGE_ON_RESUME = ("time_budget", "eval_seconds", "checkpoint_seconds", "max_steps")


def _check_run(path: pathlib.Path, run: PretrainConfig, config: AlbertConfig) -> None:
    """Writes ``run.json``, or checks that a resumed run uses the same options."""
    current = {"run": dataclasses.asdict(run), "encoder": config.to_dict()}
    current["run"]["unlabelled"] = list(run.unlabelled)
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(f"{part}.{key}: was {stored[part].get(key)!r}, now {value!r}"
                         for part in ("run", "encoder") for key, value in current[part].items()
                         if key not in _MAY_CHANGE_ON_RESUME and stored[part].get(key) != value)
        if changed:
            raise ValueError(f"{path.parent.parent}: resuming with other options than the run "
                             f"was started with: {changed}")
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")


def _batch_for(step: int, train: Segments, run: PretrainConfig, tokenizer: Tokenizer):
    """The masked batch of a step: a function of (seed, step) only, so resumes continue exactly."""
    per_epoch = max(len(train) // run.batch_size, 1)
    epoch, k = divmod(step, per_epoch)
    order = np.random.default_rng([run.seed, epoch]).permutation(len(train))
    indices = order[k * run.batch_size:(k + 1) * run.batch_size]
    return mask_batch(train, indices, run.masking(), tokenizer,
                      np.random.default_rng([run.seed, epoch, k]))


def pretrain(run: PretrainConfig, encoder_config: str, out: str | os.PathLike) -> dict:
    """Pre-trains (or resumes) until ``run.time_budget`` seconds of training in all, or max_steps.

    Returns:
        The final report: steps, seconds, tokens seen, the last held-out MLM loss and accuracy.
    """
    out = pathlib.Path(out)
    work = out / "pretrain"
    work.mkdir(parents=True, exist_ok=True)
    tokenizer, train, dev = prepare_data(run, work)
    config = resolve_encoder_config(encoder_config, len(tokenizer), run.seq_length)
    _check_run(work / "run.json", run, config)
    keras.utils.set_random_seed(run.seed)  # the initial weights, so reruns are identical
    model = build_model(config, run)
    state = work / "state.npz"
    step, base = restore_state(model, state) if state.exists() else (0, 0.0)
    dev_rng = np.random.default_rng([run.seed, 10**6])
    dev_batches = [mask_batch(dev, range(i, min(i + run.batch_size, len(dev))), run.masking(),
                              tokenizer, dev_rng) for i in range(0, len(dev), run.batch_size)]
    record = _log(work, model, dev_batches, step, base, []) if step == 0 else {}
    start, losses = time.monotonic(), []
    last_eval = last_save = seconds = base
    while seconds < run.time_budget and not (run.max_steps and step >= run.max_steps):
        batch = _batch_for(step, train, run, tokenizer)
        labels = batch.pop("masked_labels")
        losses.append(float(np.asarray(model.train_on_batch(batch, labels))))
        step, seconds = step + 1, base + time.monotonic() - start
        if seconds - last_eval >= run.eval_seconds:
            record, losses, last_eval = _log(work, model, dev_batches, step, seconds, losses), [], seconds
        if seconds - last_save >= run.checkpoint_seconds:
            save_state(model, state, step, seconds)
            write_encoder_dir(model, tokenizer, out, {**record, "steps": step, "partial": True})
            last_save = seconds
    if losses or not record:
        record = _log(work, model, dev_batches, step, seconds, losses)
    save_state(model, state, step, seconds)
    mean_length = float(np.mean(np.diff(train.offsets))) + 2
    report = {**record, "steps": step, "tokens_seen": int(step * run.batch_size * mean_length),
              "train_segments": len(train), "train_tokens": int(len(train.token_ids)),
              "dev_segments": len(dev), "vocab_size": len(tokenizer),
              "unlabelled": list(run.unlabelled), "exclude_tail": run.exclude_tail}
    write_encoder_dir(model, tokenizer, out, report)
    return report


def _log(work, model, dev_batches, step, seconds, losses) -> dict:
    record = {"step": step, "seconds": round(seconds, 1),
              "train_loss": round(float(np.mean(losses)), 4) if losses else None,
              **{k: round(v, 4) for k, v in evaluate(model, dev_batches).items()}}
    with open(work / "log.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    log.info("pretrain %s", record)
    return record
