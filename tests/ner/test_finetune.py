"""`ner import-albert` -> `ner train --encoder` -> reload -> `kgpipe run --model`, with tiny
checkpoints in both layouts, on 200 MSRA sentences (shared data)."""

from __future__ import annotations

import collections
import dataclasses
import json
import shutil

import numpy as np
import pytest

from kgpipe.ner import checkpoints
from kgpipe.ner.data import read_column_file, write_column_file
from kgpipe.pipeline.commands import ner as ner_command
from tests.ner import ckpt_factory

SENTENCES = 200


def _msra_slice(shared_data, tmp_path):
    """The first sentences of MSRA train holding entities, and a vocabulary of their chars."""
    examples = [ex for ex in read_column_file(shared_data / "msra" / "train.txt")[:2000]
                if ex.spans and len(ex.text) <= 60][:SENTENCES]
    path = tmp_path / "msra200.txt"
    write_column_file(path, examples, scheme="BIO")
    counts = collections.Counter(c for ex in examples for c in ex.text)
    return path, examples, [c for c, _ in counts.most_common(395)]


def _encoder_dir(tmp_path, layout, chars):
    """A tiny released-style checkpoint whose vocabulary holds ``chars``, imported."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    config = ckpt_factory.tiny_config(layout, vocab_size=len(vocab), max_position_embeddings=64)
    variables = ckpt_factory.encoder_variables(config, layout, np.random.default_rng(3))
    # At the scale of trained weights (the factory's are large, to make import errors show).
    variables = {name: value if name.endswith("gamma") else 0.1 * value
                 for name, value in variables.items()}
    source = ckpt_factory.write_albert_dir(tmp_path / f"{layout}_release", config, variables)
    (source / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return checkpoints.import_checkpoint(source, tmp_path / f"{layout}_encoder")


def _train_args(data, encoder, out, *extra):
    parser = ner_command.argparse.ArgumentParser()
    ner_command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args([
        "ner", "train", "--train", f"msra={data}", "--encoder", str(encoder), "--out", str(out),
        "--dev-size", "20", "--batch-size", "16", "--max-epochs", "5", "--time-budget", "900",
        "--eval-every", "100000", "--max-sequence-length", "64", "--learning-rate", "2e-2",
        "--encoder-lr", "5e-3", "--warmup-steps", "5", "--token-dropout", "0", *extra])


def _ema_tagger_through_float16(trainer):
    """The trainer's final EMA weights as the model directory stores them (float16)."""
    from kgpipe.ner.model import NerModel
    from kgpipe.ner.tagger import MentionTagger

    model = NerModel(trainer.export_config)
    model.build_all()
    for variable, shadow in zip(model.weights, trainer.ema):
        variable.assign(shadow.numpy().astype(np.float16).astype(np.float32))
    return MentionTagger(model, trainer.featurizer, version="ema")


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["brightmart", "google"])
def test_finetune_from_imported_encoder(shared_data, tmp_path, layout):
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.ner.training import Trainer
    from kgpipe.pipeline.run import run
    from kgpipe.schemas import arrow
    from kgpipe.schemas.records import Mention

    data, examples, chars = _msra_slice(shared_data, tmp_path)
    encoder = _encoder_dir(tmp_path, layout, chars)
    args = _train_args(data, encoder, tmp_path / "run")
    config = ner_command.train_config_from_args(args)
    trainer = Trainer(config)
    progress = trainer.run()

    # The encoder started the model: its vocabulary, its shapes, layers that were trained.
    _, start_weights = checkpoints.load_encoder_weights(encoder)
    assert trainer.featurizer.tokenizer.vocab[:6] == ("[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                     "[MASK]", chars[0])
    assert trainer.model_config.albert.num_hidden_layers == 2
    assert trainer.model_config.bigram_vocab_size == 0 and trainer.model_config.lstm_units == 0
    named = dict(trainer.model.encoder.named_weights())
    moved = [n for n, v in start_weights.items() if not np.allclose(named[n].numpy(), v)]
    assert len(moved) > len(start_weights) // 2
    # ~50 steps; the loss falls.
    losses = progress["epoch_losses"]
    assert 40 <= int(trainer.step_var.numpy()) <= 60
    assert losses[-1] < 0.6 * losses[0], losses

    best = tmp_path / "run" / "best"
    loaded = MentionTagger.load(best)
    assert loaded.max_window_chars == 62
    texts = [ex.text for ex in examples[:40]]
    predicted = loaded.predict_spans(texts)
    assert predicted == MentionTagger.load(best).predict_spans(texts)
    assert predicted == _ema_tagger_through_float16(trainer).predict_spans(texts)
    assert sum(map(len, predicted)) > 0

    # The model directory drives the pipeline unchanged.
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(texts[:8])), encoding="utf-8")
    out = tmp_path / "pipeline"
    summary = run(["--input", str(docs), "--output", str(out), "--no_progress", "--model", str(best)])
    import pyarrow.parquet as pq
    rows = [row for path in sorted((out / "parquet" / arrow.TABLES[Mention]).glob("*.parquet"))
            for row in pq.read_table(path).to_pylist()]
    assert rows and summary["counts"]["documents"] == 8
    assert {row["model"] for row in rows} == {loaded.version}


@pytest.mark.slow
def test_resume_with_another_vocabulary_is_one_clear_error(shared_data, tmp_path):
    from kgpipe.ner.training import Trainer

    data, _, chars = _msra_slice(shared_data, tmp_path)
    encoder = _encoder_dir(tmp_path, "brightmart", chars)
    args = _train_args(data, encoder, tmp_path / "run", "--max-epochs", "1")
    Trainer(ner_command.train_config_from_args(args)).run()
    other = tmp_path / "other_encoder"
    shutil.copytree(encoder, other)
    vocab = (other / "vocab.txt").read_text("utf-8").splitlines()
    vocab[5], vocab[6] = vocab[6], vocab[5]
    (other / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    config = dataclasses.replace(ner_command.train_config_from_args(args), encoder_dir=str(other))
    with pytest.raises(ValueError, match="vocab.txt differs from the vocabulary run"):
        Trainer(config).run()
    resumed = Trainer(ner_command.train_config_from_args(
        _train_args(data, encoder, tmp_path / "run", "--max-epochs", "2"))).run()
    assert resumed["epoch"] == 2


def test_encoder_flags_conflict_with_size_flags(tmp_path):
    with pytest.raises(SystemExit, match="--hidden-size"):
        ner_command.train_config_from_args(
            _train_args("x.txt", tmp_path, tmp_path / "run", "--hidden-size", "64"))


def test_missing_encoder_files_name_the_directory(tmp_path):
    with pytest.raises(ValueError, match="has no albert_config.json"):
        ner_command.train_config_from_args(_train_args("x.txt", tmp_path, tmp_path / "run"))
