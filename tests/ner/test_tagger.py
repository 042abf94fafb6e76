"""Tagger contract on a tiny random model saved and loaded, and a slow overfit round trip."""

import threading

import numpy as np
import pytest

from kgpipe.ner.albert import AlbertConfig
from kgpipe.ner.config import HeadConfig, NerConfig
from kgpipe.ner.data import Example
from kgpipe.ner.features import BigramVocab, Featurizer
from kgpipe.ner.lexicon import build_lexicon
from kgpipe.ner.tokenizer import Tokenizer
from kgpipe.schemas.records import Mention, TextWindow

TEXTS = ["张三在北京大学工作。", "华为手机P30很好用", "李四去了上海和Apple公司"]


def tiny_featurizer(texts=TEXTS):
    tokenizer = Tokenizer.build(texts, min_word_count=1)
    bigrams = BigramVocab.build(texts, tokenizer, min_count=1)
    lexicon = build_lexicon(use_jieba=False, extra={"LOC": ["北京", "上海"], "BRAND": ["华为"]})
    lexicon.uses_jieba = False
    return Featurizer(tokenizer, bigrams, lexicon)


def tiny_model(featurizer, **overrides):
    from kgpipe.ner.model import NerModel

    albert = AlbertConfig(vocab_size=len(featurizer.tokenizer), embedding_size=8, hidden_size=8,
                          num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                          max_position_embeddings=32)
    config = NerConfig(albert=albert,
                       heads=(HeadConfig("news", ("LOC", "ORG", "PER")),
                              HeadConfig("shop", ("BRAND", "PRODUCT"))),
                       bigram_vocab_size=len(featurizer.bigram_vocab), bigram_dim=4,
                       lexicon_dim=featurizer.lexicon_dim, lstm_units=4,
                       max_sequence_length=32, bucket_lengths=(8, 16, 32), name="tiny",
                       **overrides)
    model = NerModel(config)
    model.build_all()
    return model


@pytest.fixture(scope="module")
def saved_dir(tmp_path_factory):
    import keras

    from kgpipe.ner.model_dir import save_model_dir

    keras.utils.set_random_seed(1)
    featurizer = tiny_featurizer()
    model = tiny_model(featurizer)
    # Push emissions so the random model predicts entities (the contract needs some mentions).
    for head in model.heads.values():
        kernel, bias = head.emission.weights
        bias.assign(np.linspace(2.0, -2.0, bias.shape[0]).astype("float32")[::-1].copy())
        kernel.assign(np.random.default_rng(0).normal(0, 3, kernel.shape).astype("float32"))
    path = tmp_path_factory.mktemp("model")
    save_model_dir(path, model, featurizer)
    return path


def test_contract_attributes(saved_dir):
    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(saved_dir)
    assert tagger.version.startswith("kgpipe-ner-tiny-")
    assert tagger.labels == ("BRAND", "LOC", "ORG", "PER", "PRODUCT")
    assert tagger.max_sequence_length == 32
    assert tagger.max_window_chars == 30
    assert tagger.bucket_lengths == (8, 16, 32)
    assert tagger.token_count("北京abc") == 2 + 3


def test_tag_batch_offsets_determinism_and_threads(saved_dir):
    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(saved_dir)
    document = "前言。张三在北京大学工作。华为手机P30很好用"
    windows = [TextWindow("d1", 3, document[3:13]), TextWindow("d1", 13, document[13:]),
               TextWindow("d2", 0, "")]
    first = tagger.tag_batch(windows)
    assert len(first) == 3 and first[2] == []
    mentions = [m for ms in first for m in ms]
    assert mentions, "the biased random model should emit mentions"
    for m in mentions:
        assert isinstance(m, Mention)
        assert document[m.start:m.end] == m.text
        assert m.label in tagger.labels and 0.0 <= m.score <= 1.0
        assert m.model == tagger.version
    assert tagger.tag_batch(windows) == first
    assert tagger.tag_batch(windows[::-1])[::-1] == first  # batch order does not matter
    results = [None] * 4

    def work(i):
        results[i] = tagger.tag_batch(windows)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == first for r in results)


def test_too_long_window_raises(saved_dir):
    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(saved_dir)
    with pytest.raises(ValueError, match="max_window_chars=30"):
        tagger.tag_batch([TextWindow("d", 0, "字" * 31)])
    # tag_text splits a long text into windows and maps their mentions back to the text's offsets.
    from kgpipe.ner.windows import split_windows
    from kgpipe.schemas.records import Document

    text = "张三在北京大学工作。" * 7  # 70 characters: one window per sentence
    windows = split_windows(Document("text", text), tagger.max_window_chars)
    assert len(windows) == 7 and all(len(w.text) <= 30 for w in windows)
    mentions = tagger.tag_text(text)
    assert mentions and max(m.end for m in mentions) > 60  # The last window was tagged too.
    assert all(m.doc_id == "text" and text[m.start:m.end] == m.text for m in mentions)
    alone = [m for w in windows for m in tagger.tag_batch([w])[0]]  # Window by window: the same mentions.
    assert [(m.start, m.end, m.label) for m in mentions] == [(m.start, m.end, m.label) for m in alone]
    assert all(abs(m.score - a.score) < 1e-4 for m, a in zip(mentions, alone))  # Batch shape: float noise only.


def test_saved_model_signature_takes_any_batch(saved_dir, tmp_path):
    import tensorflow as tf

    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(saved_dir)
    tagger.export_saved_model(tmp_path / "serving")
    loaded = tf.saved_model.load(str(tmp_path / "serving"))
    serve = loaded.signatures["serving_default"]
    for batch in (1, 3):
        outputs = serve(token_ids=tf.ones((batch, 8), tf.int32), bigram_ids=tf.ones((batch, 8), tf.int32),
                        lexicon=tf.zeros((batch, 8, tagger.featurizer.lexicon_dim)))
        assert outputs["news"].shape == (batch, 7, 13)
        assert outputs["shop"].shape == (batch, 7, 9)


@pytest.mark.slow
def test_overfit_save_reload_predicts_identically(tmp_path):
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.ner.training import Corpus, TrainConfig, Trainer

    examples = [Example("张三在北京大学工作。", ((0, 2, "PER"), (3, 7, "ORG"))),
                Example("李四去了上海。", ((0, 2, "PER"), (4, 6, "LOC")))]
    data = tmp_path / "train.txt"
    from kgpipe.ner.data import write_column_file
    write_column_file(data, examples * 20, "BIO")
    albert = AlbertConfig(vocab_size=1, embedding_size=16, hidden_size=16, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    model = NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=8,
                      lstm_units=16, max_sequence_length=32, bucket_lengths=(16, 32),
                      embedding_dropout=0.0, output_dropout=0.0, name="overfit")
    config = TrainConfig(output_dir=str(tmp_path / "run"), corpora=(Corpus("news", str(data), {}, 4),),
                         model=model, lexicon_jieba=False, batch_size=4, learning_rate=1e-2,
                         # Epochs end the run, not the clock: a busy machine must not cut it short.
                         warmup_steps=5, time_budget_s=3600, eval_every_s=15, patience=100,
                         max_epochs=25, token_dropout=0.0, bigram_dropout=0.0, ema_decay=0.9)
    Trainer(config).run()
    tagger = MentionTagger.load(tmp_path / "run" / "best")
    spans = tagger.predict_spans([e.text for e in examples])
    assert [[s[:3] for s in row] for row in spans] == [list(e.spans) for e in examples]
    again = MentionTagger.load(tmp_path / "run" / "best").predict_spans([e.text for e in examples])
    assert again == spans


def test_cli_eval_and_predict(saved_dir, tmp_path, capsys):
    import json

    from kgpipe.ner.data import write_column_file
    from kgpipe.pipeline.commands import ner as ner_commands

    data = tmp_path / "gold.txt"
    write_column_file(data, [Example("张三在北京大学工作。", ((0, 2, "PER"), (3, 7, "ORG")))], "BIOES")
    assert ner_commands.main(["eval", "--model", str(saved_dir), "--data", str(data), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["micro"]["gold"] == 2 and scores["chars"] == 10
    assert set(scores["per_type"]) <= {"ORG", "PER"}  # predictions limited to the gold types
    assert scores["mixed_precision"] is False and scores["jit_compile"] is False  # CPU defaults
    assert ner_commands.main(["eval", "--model", str(saved_dir), "--data", str(data), "--json",
                              "--mixed-precision", "on"]) == 0
    bf16 = json.loads(capsys.readouterr().out)
    assert bf16["mixed_precision"] is True and bf16["micro"]["gold"] == 2
    assert ner_commands.main(["predict", "--model", str(saved_dir), "--json", "张三在北京大学工作。"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["text"] == "张三在北京大学工作。"
    for m in line["mentions"]:
        assert line["text"][m["start"]:m["end"]] == m["text"]



def test_cli_label_writes_what_the_model_predicts(saved_dir, tmp_path, capsys):
    import json

    from kgpipe.ner.data import read_column_file
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.commands import ner as ner_commands

    raw = tmp_path / "raw.jsonl"
    texts = ["张三在北京大学工作。华为手机P30很好用", "李四去了上海和Apple公司"]
    raw.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts),
                   encoding="utf-8")
    out = tmp_path / "pseudo.bio"
    assert ner_commands.main(["label", "--model", str(saved_dir), "--model", str(saved_dir),
                              "--input", str(raw), "--out", str(out), "--min-score", "0"]) == 0
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stats["texts"] == 2 and stats["windows"] == 3 and stats["kept"] == 3
    examples = read_column_file(out)
    windows = ["张三在北京大学工作。", "华为手机P30很好用", "李四去了上海和Apple公司"]
    assert [ex.text for ex in examples] == windows
    predicted = MentionTagger.load(saved_dir).predict_spans(windows)
    assert [list(ex.spans) for ex in examples] == [sorted(s[:3] for s in row) for row in predicted]
    assert stats["entities"] == sum(map(len, predicted)) > 0

@pytest.mark.slow
def test_training_resumes_from_checkpoint(tmp_path):
    import json

    from kgpipe.ner.data import write_column_file
    from kgpipe.ner.training import Corpus, TrainConfig, Trainer

    data = tmp_path / "train.txt"
    write_column_file(data, [Example("张三在北京。", ((0, 2, "PER"), (3, 5, "LOC")))] * 30, "BIO")
    albert = AlbertConfig(vocab_size=1, embedding_size=8, hidden_size=8, num_hidden_layers=0,
                          num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
    model = NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=4, lstm_units=4,
                      max_sequence_length=16, bucket_lengths=(16,), name="resume")

    def config(epochs):
        return TrainConfig(output_dir=str(tmp_path / "run"), corpora=(Corpus("news", str(data), {}, 3),),
                           model=model, lexicon_jieba=False, gazetteer_folds=0, batch_size=9,
                           time_budget_s=120, eval_every_s=1000, max_epochs=epochs)

    first = Trainer(config(1)).run()
    steps_first = first["history"][-1]["step"]
    second = Trainer(config(2)).run()
    assert second["epoch"] == 2 and first["epoch"] == 1
    assert second["history"][-1]["step"] > steps_first
    log = (tmp_path / "run" / "train.log").read_text(encoding="utf-8")
    assert "resumed at step" in log
    assert json.loads((tmp_path / "run" / "progress.json").read_text())["epoch"] == 2


def test_zero_layer_model_builds_no_transformer_and_loads_legacy_dirs(tmp_path):
    from kgpipe.ner.model_dir import load_model_dir, save_model_dir

    featurizer = tiny_featurizer()
    albert = AlbertConfig(vocab_size=len(featurizer.tokenizer), embedding_size=8, hidden_size=8,
                          num_hidden_layers=0, num_attention_heads=2, intermediate_size=16,
                          max_position_embeddings=32)
    model = tiny_model(featurizer)
    import dataclasses

    from kgpipe.ner.model import NerModel
    model = NerModel(dataclasses.replace(model.config, albert=albert))
    model.build_all()
    assert not any("group_" in v.path for v in model.weights)
    save_model_dir(tmp_path, model, featurizer)
    # An older kgpipe stored an unused transformer layer for 0-layer encoders: still loads.
    with np.load(tmp_path / "weights.npz") as data:
        arrays = dict(data)
    arrays["9999:ner_model/albert/group_0_inner_0/query/kernel"] = np.zeros((8, 8), np.float16)
    np.savez(tmp_path / "weights.npz", **arrays)
    loaded, _, _ = load_model_dir(tmp_path)
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-2)
    arrays["9998:ner_model/other/kernel"] = np.zeros((2,), np.float16)
    np.savez(tmp_path / "weights.npz", **arrays)
    with pytest.raises(ValueError, match="holds"):
        load_model_dir(tmp_path)


@pytest.mark.slow
def test_auxiliary_corpus_trains_but_is_not_exported(tmp_path):
    import json

    from kgpipe.ner.data import write_column_file
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.ner.training import Corpus, TrainConfig, Trainer

    news = tmp_path / "news.txt"
    write_column_file(news, [Example("张三在北京。", ((0, 2, "PER"), (3, 5, "LOC")))] * 30, "BIO")
    aux = tmp_path / "aux.json"
    aux.write_text("\n".join(json.dumps({"text": "李四住在上海路", "label": {
        "name": {"李四": [[0, 1]]}, "address": {"上海路": [[4, 6]]}}}, ensure_ascii=False)
        for _ in range(20)), encoding="utf-8")
    albert = AlbertConfig(vocab_size=1, embedding_size=8, hidden_size=8, num_hidden_layers=0,
                          num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
    model = NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=4, lstm_units=4,
                      max_sequence_length=16, bucket_lengths=(16,), name="aux")
    config = TrainConfig(output_dir=str(tmp_path / "run"), model=model, lexicon_jieba=False,
                         corpora=(Corpus("cluener", str(aux), {}, 0, auxiliary=True),
                                  Corpus("news", str(news), {}, 3)),
                         gazetteer_folds=0, batch_size=8, time_budget_s=60, eval_every_s=1000,
                         max_epochs=2)
    trainer = Trainer(config)
    progress = trainer.run()
    assert [h.name for h in trainer.model_config.heads] == ["news", "cluener"]
    assert set(progress["history"][-1]) == {"step", "elapsed", "news", "micro"}
    tagger = MentionTagger.load(tmp_path / "run" / "best")
    assert [h.name for h in tagger.model.config.heads] == ["news"]
    assert set(tagger.labels) == {"LOC", "PER"}
    # The exported weights are the trained model's shared + news-head weights.
    full = trainer.ema_tagger()
    texts = ["张三在北京。", "李四住在上海路"]
    exported, trained = tagger.predict_spans(texts), full.predict_spans(texts, heads=["news"])
    assert [[s[:3] for s in row] for row in exported] == [[s[:3] for s in row] for row in trained]
    for row_a, row_b in zip(exported, trained):  # float16 storage of the exported weights
        np.testing.assert_allclose([s[3] for s in row_a], [s[3] for s in row_b], atol=1e-3)
    with pytest.raises(ValueError, match="auxiliary"):
        TrainConfig(output_dir=str(tmp_path / "r2"), model=model,
                    corpora=(Corpus("cluener", str(aux), {}, 0, auxiliary=True),))
