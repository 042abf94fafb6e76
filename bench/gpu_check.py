"""GPU check on the JAX backend (run by bench/gpu_check.sh; works on CPU with ``--tiny``).

Reports, as JSON lines (also written to ``--out``):

1. the device JAX runs on;
2. inference tokens/s of an ALBERT encoder (random weights; ALBERT-base size by default) at
   ``--batches`` x ``--length`` tokens, float32 and bfloat16, jit-compiled (compile excluded);
3. fine-tuning steps/s of an ALBERT NER model (encoder + CRF head; forward, CRF likelihood,
   gradients and AdamW in one jitted step), float32 and mixed bfloat16;
4. ``ner eval`` chars/s (and entity F1) on MSRA test of the default model and of an ALBERT model
   directory (``--albert-model``; without one, a random-weight ALBERT model on the default
   model's vocabulary, for speed only: its F1 means nothing and is marked so).

Needs only keras, jax, numpy and, for the default model's lexicon features, jieba and
pyahocorasick: no TensorFlow. ``KERAS_BACKEND=jax`` must be set before Python starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _report(out: list, record: dict) -> None:
    out.append(record)
    print(json.dumps(record, ensure_ascii=False), flush=True)


def _albert_config(tiny: bool):
    from kgpipe.ner.albert import AlbertConfig

    if tiny:
        return AlbertConfig(vocab_size=21128, embedding_size=32, hidden_size=64,
                            num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)
    return AlbertConfig.preset("base")


def _timed(fn, args, seconds: float) -> tuple[float, int]:
    """Runs ``fn(*args)`` until ``seconds`` pass (at least 3 times); returns (seconds, calls)."""
    import jax

    jax.block_until_ready(fn(*args))  # compile + first run, not timed
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        jax.block_until_ready(fn(*args))
        calls += 1
    return time.perf_counter() - start, calls


def encoder_inference(args, out: list) -> None:
    import jax
    import keras

    from kgpipe.ner.albert import AlbertEncoder

    config = _albert_config(args.tiny)
    rng = np.random.default_rng(0)
    for dtype in ("float32", "bfloat16"):
        keras.config.set_dtype_policy(dtype)
        encoder = AlbertEncoder(config)
        encoder.build()
        weights = [v.value for v in encoder.weights]

        @jax.jit
        def call(weights, token_ids):
            hidden, _ = encoder.stateless_call(weights, [], token_ids)
            return hidden

        for batch in args.batches:
            ids = rng.integers(5, config.vocab_size, (batch, args.length)).astype(np.int32)
            seconds, calls = _timed(call, (weights, ids), args.seconds)
            _report(out, {"check": "encoder_inference", "dtype": dtype, "batch": batch,
                          "length": args.length, "hidden_size": config.hidden_size,
                          "layers": config.num_hidden_layers,
                          "tokens_per_second": round(batch * args.length * calls / seconds)})
    keras.config.set_dtype_policy("float32")


def _train_step(model, optimizer, head):
    """One jitted step: loss, gradients, AdamW, all as pure functions of the state."""
    import jax

    from kgpipe.ner.model import crf_log_likelihood

    def loss_fn(trainable, non_trainable, inputs, tags, lengths):
        outputs, non_trainable = model.stateless_call(trainable, non_trainable, inputs,
                                                      training=True)
        # The CRF parameters as the traced values (stateless: no variable reads).
        index = {id(v): i for i, v in enumerate(model.trainable_variables)}
        layer = model.heads[head]
        params = type("Crf", (), {name: trainable[index[id(getattr(layer, name))]]
                                  for name in ("transitions", "start", "end")})
        nll = -crf_log_likelihood(outputs[head], tags, lengths, params)
        return nll.mean(), non_trainable

    @jax.jit
    def step(trainable, non_trainable, opt_vars, inputs, tags, lengths):
        (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable, inputs, tags, lengths)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return loss, trainable, non_trainable, opt_vars

    return step


def fine_tuning(args, out: list) -> None:
    import jax
    import keras

    from kgpipe.ner.config import HeadConfig, NerConfig
    from kgpipe.ner.model import NerModel

    albert = _albert_config(args.tiny)
    config = NerConfig(albert=albert, heads=(HeadConfig("msra", ("LOC", "ORG", "PER")),),
                       lstm_units=0, embedding_dropout=0.1, output_dropout=0.1,
                       max_sequence_length=args.length, bucket_lengths=(args.length,))
    rng = np.random.default_rng(0)
    batch, length = args.train_batch, args.length
    inputs = {"token_ids": rng.integers(5, albert.vocab_size, (batch, length)).astype(np.int32),
              "bigram_ids": np.zeros((batch, length), np.int32),
              "lexicon": np.zeros((batch, length, 0), np.float32)}
    tags = rng.integers(0, len(config.heads[0].tags), (batch, length - 1)).astype(np.int32)
    lengths = np.full(batch, length - 2, np.int32)
    for policy in ("float32", "mixed_bfloat16"):
        keras.config.set_dtype_policy(policy)
        model = NerModel(config)
        model.build_all()
        optimizer = keras.optimizers.AdamW(learning_rate=1e-4)
        optimizer.build(model.trainable_variables)
        step = _train_step(model, optimizer, "msra")
        state = ([v.value for v in model.trainable_variables],
                 [v.value for v in model.non_trainable_variables],
                 [v.value for v in optimizer.variables])
        loss, *state = step(*state, inputs, tags, lengths)  # compile
        first = float(loss)
        jax.block_until_ready(state)
        steps, start = 0, time.perf_counter()
        while steps < 3 or time.perf_counter() - start < args.seconds:
            loss, *state = step(*state, inputs, tags, lengths)
            steps += 1
        jax.block_until_ready(state)
        seconds = time.perf_counter() - start
        _report(out, {"check": "fine_tuning", "policy": policy, "batch": batch, "length": length,
                      "hidden_size": albert.hidden_size, "layers": albert.num_hidden_layers,
                      "steps_per_second": round(steps / seconds, 3),
                      "loss_first": round(first, 3), "loss_last": round(float(loss), 3)})
    keras.config.set_dtype_policy("float32")


def _random_albert_model_dir(args, folder: Path) -> Path:
    """An ALBERT NER model directory with random weights on the default model's vocabulary."""
    import dataclasses

    from kgpipe.ner.config import HeadConfig, NerConfig
    from kgpipe.ner.model import NerModel
    from kgpipe.ner.model_dir import load_featurizer, read_meta, save_model_dir

    default = REPO / "ner" / "default_model"
    featurizer = load_featurizer(default, read_meta(default))
    featurizer.lexicon = featurizer.gazetteer = featurizer.word_vectors = None
    albert = dataclasses.replace(_albert_config(args.tiny), vocab_size=len(featurizer.tokenizer))
    config = NerConfig(albert=albert, heads=(HeadConfig("msra", ("LOC", "ORG", "PER")),),
                       lstm_units=0, max_sequence_length=128,
                       bucket_lengths=(16, 32, 48, 64, 96, 128), name="random-albert")
    model = NerModel(config)
    model.build_all()
    save_model_dir(folder, model, featurizer)
    return folder


def ner_eval(args, out: list) -> None:
    from kgpipe.ner.data import read_examples
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.commands.ner import evaluate_tagger

    examples = read_examples(args.msra)[:args.eval_sentences or None]
    models = [("default", REPO / "ner" / "default_model", True)]
    if args.albert_model:
        models.append(("albert", Path(args.albert_model), True))
    else:
        folder = Path(args.out).parent / "random_albert_model"
        models.append(("albert (random weights)", _random_albert_model_dir(args, folder), False))
    for name, path, meaningful in models:
        t0 = time.perf_counter()
        # runtime="tensorflow" names the Keras-model path (here on JAX), not ONNX Runtime.
        tagger = MentionTagger.load(path, runtime="tensorflow", jit_compile=True)
        load_seconds = time.perf_counter() - t0
        evaluate_tagger(tagger, examples[:64])  # compiles the buckets it meets
        scores = evaluate_tagger(tagger, examples, batch_size=64)
        _report(out, {"check": "ner_eval", "model": name, "version": tagger.version,
                      "sentences": len(examples), "chars": scores["chars"],
                      "chars_per_second": scores["chars_per_second"],
                      "f1": round(scores["micro"]["f1"], 4) if meaningful else None,
                      "mixed_precision": tagger.mixed_precision, "jit_compile": True,
                      "load_seconds": round(load_seconds, 1)})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_check.json", help="JSON file of all records")
    parser.add_argument("--tiny", action="store_true", help="tiny encoder (CPU proof run)")
    parser.add_argument("--batches", default="64,256", help="inference batch sizes")
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="timing per measurement")
    parser.add_argument("--msra", default=str(REPO.parent / "shared" / "data" / "msra" / "test.txt"))
    parser.add_argument("--eval-sentences", type=int, default=0, help="0: all of --msra")
    parser.add_argument("--albert-model", default=None, help="trained ALBERT model directory")
    parser.add_argument("--skip", default="", help="comma-separated checks to skip")
    args = parser.parse_args(argv)
    args.batches = [int(b) for b in args.batches.split(",")]
    import jax
    import keras

    if keras.backend.backend() != "jax":
        raise SystemExit(f"set KERAS_BACKEND=jax before starting Python. "
                         f"Received: backend={keras.backend.backend()!r}")
    out: list = []
    device = jax.devices()[0]
    _report(out, {"check": "device", "platform": device.platform,
                  "device": getattr(device, "device_kind", str(device)),
                  "count": jax.device_count(), "jax": jax.__version__, "keras": keras.__version__,
                  "python": sys.version.split()[0], "tiny": args.tiny})
    checks = {"encoder_inference": encoder_inference, "fine_tuning": fine_tuning,
              "ner_eval": ner_eval}
    for name, check in checks.items():
        if name in args.skip.split(","):
            continue
        t0 = time.perf_counter()
        try:
            check(args, out)
        except Exception as e:  # report and go on: one failing check must not hide the rest
            _report(out, {"check": name, "error": f"{type(e).__name__}: {e}"})
        _report(out, {"check": f"{name}_wall_seconds", "seconds": round(time.perf_counter() - t0, 1)})
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return 0 if not any("error" in r for r in out) else 1


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    sys.exit(main())
