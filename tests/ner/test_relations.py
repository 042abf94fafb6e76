"""Relation extraction: DuIE reader errors, decoding, triple scores, a tiny overfit with save/reload."""

import dataclasses
import json

import numpy as np
import pytest

from kgpipe.ner.relations.data import Predicate, read_duie, read_schema
from kgpipe.ner.relations.evaluation import score_triples
from kgpipe.ner.relations.decoding import decode

SCHEMA = [{"predicate": "创始人", "subject_type": "企业", "object_type": {"@value": "人物"}},
          {"predicate": "出生地", "subject_type": "人物", "object_type": {"@value": "地点"}},
          {"predicate": "作者", "subject_type": "图书作品", "object_type": {"@value": "人物"}}]
SENTENCES = [
    ("星河科技由张明远创立", [("星河科技", "创始人", "张明远", "企业", "人物")]),
    ("李文清出生于杭州", [("李文清", "出生地", "杭州", "人物", "地点")]),
    ("《远山》是王思雨写的小说", [("远山", "作者", "王思雨", "图书作品", "人物")]),
    ("蓝海公司的创始人是陈立", [("蓝海公司", "创始人", "陈立", "企业", "人物")]),
]


def _spo(subject, predicate, obj, subject_type, object_type):
    return {"subject": subject, "predicate": predicate, "object": {"@value": obj},
            "subject_type": subject_type, "object_type": {"@value": object_type}}


def _write(tmp_path, sentences=SENTENCES, schema=SCHEMA):
    data, schema_file = tmp_path / "data.json", tmp_path / "schema.json"
    data.write_text("".join(json.dumps({"text": t, "spo_list": [_spo(*s) for s in spo]}, ensure_ascii=False) + "\n"
                            for t, spo in sentences), encoding="utf-8")
    schema_file.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return data, schema_file


def test_reader_locates_first_occurrence_and_keeps_value_slot(tmp_path):
    sentences = [("张三和张三的公司甲乙公司", [("甲乙公司", "创始人", "张三", "企业", "人物")])]
    data, schema = _write(tmp_path, sentences)
    examples, report = read_duie(data, read_schema(schema))
    assert examples[0].triples[0].subject == (8, 12) and examples[0].triples[0].object == (0, 2)
    assert examples[0].strings() == {("甲乙公司", "创始人", "张三")}
    assert (report.sentences, report.triples, report.unlocatable) == (1, 1, 0)


def test_unknown_predicate_names_file_and_line_or_is_counted(tmp_path):
    data, schema = _write(tmp_path, SENTENCES[:1] + [("甲是乙的父亲", [("甲", "父亲", "乙", "人物", "人物")])])
    with pytest.raises(ValueError, match=r"data\.json:2: predicate '父亲' is not in the schema"):
        read_duie(data, read_schema(schema))
    examples, report = read_duie(data, read_schema(schema), unknown="skip")
    assert report.unknown_predicates == 1 and len(examples) == 2 and examples[1].triples == ()


def test_spans_not_in_text_are_counted_with_their_line(tmp_path):
    data, schema = _write(tmp_path, [("李文清出生于杭州", [("李文清", "出生地", "上海", "人物", "地点")])])
    examples, report = read_duie(data, read_schema(schema))
    assert report.unlocatable == 1 and examples[0].triples == ()
    assert report.examples[0].startswith(f"{data}:1:") and "'上海'" in report.examples[0]


def test_schema_that_is_not_duie_is_one_clear_error(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps([{"name": "x"}]), encoding="utf-8")
    with pytest.raises(ValueError, match=r"schema\.json: entry 0 is not a DuIE schema entry"):
        read_schema(path)


def test_type_mismatch_against_schema_is_counted(tmp_path):
    data, schema = _write(tmp_path, [("李文清出生于杭州", [("李文清", "出生地", "杭州", "企业", "地点")])])
    _, report = read_duie(data, read_schema(schema))
    assert report.type_mismatches == 1


def test_decode_needs_spans_head_and_tail_pairs():
    n, neg = 6, -5.0
    entity, head, tail = (np.full((k, n, n), neg, np.float32) for k in (2, 3, 3))
    entity[0, 0, 1] = 2.0      # subject chars 0..1
    entity[1, 3, 5] = 1.0      # object chars 3..5
    head[2, 0, 3] = 3.0        # predicate 2: subject head 0, object head 3
    tail[2, 1, 5] = 0.5
    head[1, 0, 3] = 3.0        # predicate 1 has a head pair but no tail pair: not decoded
    assert decode(entity, head, tail, n) == [(0, 2, 2, 3, 6, 0.5)]
    assert decode(entity, head, tail, 4) == []  # the object runs past the real length


def test_score_triples_micro_and_per_predicate():
    gold = [{("a", "p", "b"), ("c", "q", "d")}, {("e", "p", "f")}]
    predicted = [{("a", "p", "b"), ("c", "p", "d")}, set()]
    scores = score_triples(zip(gold, predicted))
    assert scores["micro"]["correct"] == 1 and scores["micro"]["predicted"] == 2 and scores["micro"]["gold"] == 3
    assert scores["micro"]["precision"] == pytest.approx(0.5)
    assert scores["micro"]["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert scores["per_predicate"]["p"]["gold"] == 2 and scores["per_predicate"]["q"]["recall"] == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("lexicon", ["", "jieba"])
def test_tiny_model_overfits_saves_and_reloads_identically(tmp_path, lexicon):
    from kgpipe.ner.relations.extractor import RelationExtractorModel
    from kgpipe.ner.relations.training import TrainConfig, evaluate, train

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    examples, _ = read_duie(data, predicates)
    tiny = {"embedding_dim": 32, "bigram_dim": 16, "lstm_units": 32, "head_size": 16, "dropout": 0.0,
            "lexicon": lexicon, "lexicon_units": 8}
    state = train(examples, examples, predicates, tmp_path / "model", tiny,
                  TrainConfig(epochs=150, batch_size=4, learning_rate=2e-2, eval_every=50), log=lambda _: None)
    assert np.mean(state["losses"][-10:]) < 0.2 * np.mean(state["losses"][:10])
    assert state["best_f1"] == 1.0
    loaded = RelationExtractorModel.load(tmp_path / "model")
    assert evaluate(loaded, examples)["micro"]["f1"] == 1.0
    again = RelationExtractorModel.load(tmp_path / "model")
    texts = [t for t, _ in SENTENCES]
    assert loaded.predict(texts) == again.predict(texts)
    assert loaded.version.startswith("kgpipe-re-") and loaded.version == again.version
    assert loaded.config.lexicon == lexicon and ("lexicon" in loaded.encode(texts)) == bool(lexicon)


def test_cli_trains_a_lexicon_model_that_evaluates_and_predicts(tmp_path, capsys):
    from kgpipe.pipeline.cli import main

    data, schema = _write(tmp_path)
    out = tmp_path / "model"
    assert main(["re", "train", "--data", str(data), "--schema", str(schema), "--out", str(out), "--dev", "1",
                 "--epochs", "3", "--batch-size", "2", "--eval-every", "2", "--lexicon", "jieba",
                 "--lexicon-units", "8", "--embedding-dim", "16", "--bigram-dim", "8", "--lstm-units", "8",
                 "--head-size", "8", "--threads", "1"]) == 0
    assert "best dev F1" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["model"]["lexicon"] == "jieba" and "--lexicon jieba" in config["card"]["command"]
    for backend in ("keras", "onnx"):
        assert main(["re", "eval", "--model", str(out), "--data", str(data), "--backend", backend, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["micro"]["gold"] == 4


def test_threads_after_tensorflow_started_warn_instead_of_failing(caplog):
    import tensorflow as tf

    from kgpipe.ner.relations.training import set_threads

    tf.constant(1) + 1  # the thread pools are fixed from here on
    current = tf.config.threading.get_intra_op_parallelism_threads()
    with caplog.at_level("WARNING", logger="kgpipe.ner.relations.training"):
        set_threads(current + 3)
    assert tf.config.threading.get_intra_op_parallelism_threads() == current
    assert f"threads={current + 3} not applied" in caplog.text


def test_cli_names_a_missing_model_directory_and_an_unknown_predicate(tmp_path, capsys):
    from kgpipe.pipeline.cli import main

    data, schema = _write(tmp_path)
    assert main(["re", "eval", "--model", str(tmp_path / "nope"), "--data", str(data)]) == 2
    assert "nope: not a relation model directory" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"text": "甲是乙的父亲", "spo_list": [_spo("甲", "父亲", "乙", "人物", "人物")]},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["re", "train", "--data", str(bad), "--schema", str(schema), "--out", str(tmp_path / "m")]) == 2
    assert "bad.json:1: predicate '父亲' is not in the schema" in capsys.readouterr().err


def test_threshold_choice_and_its_round_trip_through_the_model_directory(tmp_path):
    from kgpipe.ner.relations.extractor import CharVocab, RelationExtractorModel, Triple
    from kgpipe.ner.relations.config import RelationConfig
    from kgpipe.ner.relations.model import RelationModel
    from kgpipe.ner.relations.training import choose_threshold

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    examples, _ = read_duie(data, predicates)

    class Fake:  # finds the gold triple of the first two sentences from -1 down, junk below -2
        def predict(self, texts, batch_size=32, threshold=None):
            out = []
            for i, text in enumerate(texts):
                found = [Triple((0, 4), "创始人", (5, 8), 0.9)] if i == 0 and threshold <= -1 else []
                found += [Triple((0, 3), "出生地", (6, 8), 0.9)] if i == 1 and threshold <= -1 else []
                found += [Triple((0, 1), "作者", (1, 2), 0.1)] * (threshold <= -2)
                out.append(found)
            return out

    best, scores = choose_threshold(Fake(), examples, [0, -1, -1.5, -2])
    assert best == -1  # ties with -1.5 go to the value closest to 0
    assert scores[-1]["f1"] == scores[-1.5]["f1"] > scores[-2]["f1"] > scores[0]["f1"] == 0.0

    names = [p.name for p in predicates]
    vocab = CharVocab.build([t for t, _ in SENTENCES], min_bigram_count=1)
    config = RelationConfig(predicates=tuple(names), vocab_size=len(vocab.chars),
                            bigram_vocab_size=len(vocab.bigrams), embedding_dim=8, bigram_dim=4,
                            lstm_units=4, head_size=4)
    model = RelationModel(config)
    model.build_all()
    extractor = RelationExtractorModel(model, vocab, predicates)
    plain = extractor.save(tmp_path / "plain")
    extractor.threshold = -1.5
    tuned = extractor.save(tmp_path / "tuned")
    assert plain != tuned  # the threshold changes predictions, so the version
    loaded = RelationExtractorModel.load(tmp_path / "tuned")
    assert loaded.threshold == -1.5 and loaded.version == tuned
    texts = [t for t, _ in SENTENCES]
    assert loaded.predict(texts) == loaded.predict(texts, threshold=-1.5)
    assert RelationExtractorModel.load(tmp_path / "plain").threshold == 0.0


def test_factored_pair_scores_equal_the_dense_heads_exactly():
    from kgpipe.ner.relations.config import RelationConfig
    from kgpipe.ner.relations.decoding import PairScores
    from kgpipe.ner.relations.model import RelationModel

    config = RelationConfig(predicates=("a", "b", "c"), vocab_size=20, bigram_vocab_size=20,
                            embedding_dim=8, bigram_dim=4, lstm_units=4, head_size=4)
    model = RelationModel(config)
    model.build_all()
    rng = np.random.default_rng(0)
    inputs = {"char_ids": rng.integers(2, 20, (3, 7)).astype(np.int32),
              "bigram_ids": rng.integers(2, 20, (3, 7)).astype(np.int32)}
    inputs["char_ids"][2, 5:] = 0  # a padded row: only its real positions are compared
    dense = {k: np.asarray(v) for k, v in model(inputs).items()}
    factors = {k: np.asarray(v) for k, v in model.predict_factors(inputs).items()}
    np.testing.assert_array_equal(factors["entity"], dense["entity"])
    for name in ("head", "tail"):
        for row, length in enumerate((7, 7, 5)):
            pairs = PairScores(*(factors[f"{name}_{part}"][row] for part in ("pair", "end", "start")))
            for i in range(length):
                for j in range(length):
                    np.testing.assert_array_equal(pairs.at(i, j), dense[name][row, :, i, j])


def test_init_embeddings_start_from_the_ner_models_tables_and_widen_the_vocabulary(tmp_path):
    from kgpipe.ner.relations.training import initial_model, ner_embedding_tables
    from kgpipe.pipeline.handlers import default_model_dir

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    examples, _ = read_duie(data, predicates)
    chars, bigrams = ner_embedding_tables(default_model_dir())
    sizes = {"embedding_dim": 128, "bigram_dim": 64, "lstm_units": 4, "head_size": 4}
    extractor, init = initial_model(examples, predicates, sizes, default_model_dir())
    vocab, model = extractor.vocab, extractor.model
    assert vocab.chars[:2] == ["<pad>", "<unk>"] and "科" in vocab.char_index and "鲸" in vocab.char_index
    assert len(vocab.chars) > len(chars) // 2 and init["init_embeddings"]["rows"]["chars"] > 1000
    table = model.char_embeddings.embeddings.numpy()
    np.testing.assert_array_equal(table[vocab.char_index["科"]], chars["科"])
    np.testing.assert_array_equal(model.bigram_embeddings.embeddings.numpy()[vocab.bigram_index["公司"]],
                                  bigrams["公司"])
    plain, none = initial_model(examples, predicates, sizes, None)
    assert none == {} and "鲸" not in plain.vocab.char_index
    with pytest.raises(ValueError, match="64 dimensions.*--bigram-dim 64"):
        initial_model(examples, predicates, {**sizes, "bigram_dim": 16}, default_model_dir())
    with pytest.raises(ValueError, match="128 dimensions.*--embedding-dim 128"):
        initial_model(examples, predicates, {**sizes, "embedding_dim": 32}, default_model_dir())
    with pytest.raises(FileNotFoundError, match="no config.json"):
        ner_embedding_tables(tmp_path)


NO_GPU = pytest.mark.skipif(__import__("kgpipe.ner.tagger", fromlist=["may_have_gpu"]).may_have_gpu(),
                            reason="a GPU (or a non-Linux) machine loads the Keras path by default")


def _random_relation_model(tmp_path, lexicon=""):
    """A saved relation model with random weights (larger than the overfit one, so that many
    spans and pairs pass a low threshold) and its texts of several lengths."""
    import keras

    from kgpipe.ner.relations.extractor import CharVocab, RelationExtractorModel
    from kgpipe.ner.relations.config import RelationConfig
    from kgpipe.ner.relations.model import RelationModel

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    texts = [t for t, _ in SENTENCES] + ["远山公司在杭州成立", "陈立", "《海》"]
    vocab = CharVocab.build(texts)
    keras.utils.set_random_seed(3)
    model = RelationModel(RelationConfig(predicates=tuple(p.name for p in predicates), vocab_size=len(vocab.chars),
                                         bigram_vocab_size=len(vocab.bigrams), embedding_dim=16, bigram_dim=8,
                                         lstm_units=8, head_size=8, max_length=12, lexicon=lexicon,
                                         lexicon_units=4))
    model.build_all()
    RelationExtractorModel(model, vocab, predicates, threshold=-0.3).save(tmp_path / "random")
    return tmp_path / "random", texts + ["星河科技由张明远创立于杭州，蓝海公司的创始人是陈立"]  # > max_length: windows


@pytest.mark.parametrize("lexicon", ["", "jieba"])
def test_onnx_backend_scores_and_triples_equal_the_keras_models(tmp_path, lexicon):
    from kgpipe.ner.relations.extractor import RelationExtractorModel

    path, texts = _random_relation_model(tmp_path, lexicon)
    keras_model = RelationExtractorModel.load(path, backend="keras")
    onnx_model = RelationExtractorModel.load(path, backend="onnx")
    assert (keras_model.backend, onnx_model.backend) == ("keras", "onnx") and onnx_model.model is None
    assert onnx_model.version == keras_model.version and onnx_model.threshold == -0.3
    inputs = keras_model.encode([t[:12] for t in texts])
    assert ("lexicon" in inputs) == bool(lexicon)
    if lexicon:
        assert inputs["lexicon"].any()  # dictionary words in the texts: the ONNX input is exercised
    want = {k: np.asarray(v) for k, v in keras_model._serve(inputs).items()}
    got = onnx_model._serve(inputs)
    assert set(got) == set(want)
    lengths = (inputs["char_ids"] != 0).sum(axis=1)
    for name in want:  # real characters only: padding is never decoded
        for row, n in enumerate(lengths):
            w, g = want[name][row], got[name][row]
            real = (slice(None), slice(0, n), slice(0, n)) if name == "entity" else \
                (slice(0, n), slice(0, n)) if name.endswith("pair") else (slice(None), slice(0, n))
            np.testing.assert_allclose(g[real], w[real], rtol=1e-4, atol=1e-4, err_msg=name)
    predicted, expected = onnx_model.predict(texts), keras_model.predict(texts)
    assert sum(map(len, expected)) >= 5
    assert [[(t.subject, t.predicate, t.object) for t in row] for row in predicted] == \
        [[(t.subject, t.predicate, t.object) for t in row] for row in expected]
    with pytest.raises(ValueError, match="loaded for onnx; load it with backend='keras'"):
        onnx_model.save(tmp_path / "again")
    with pytest.raises(ValueError, match="backend='tflite'"):
        RelationExtractorModel.load(path, backend="tflite")
    with pytest.raises(ValueError, match="threads=0"):
        RelationExtractorModel.load(path, backend="onnx", threads=0)
    assert onnx_model.predict(["", "陈立"])[0] == []  # an empty text is a row of length 0
    two = RelationExtractorModel.load(path, backend="onnx", threads=2)
    assert two._serve.session.get_session_options().intra_op_num_threads == 2
    assert two.predict(texts) == predicted


def test_onnx_backend_names_a_weight_that_does_not_fit_the_config(tmp_path):
    from kgpipe.ner.relations.extractor import RelationExtractorModel

    path, _ = _random_relation_model(tmp_path)
    with np.load(path / "weights.npz") as data:
        arrays = {k: data[k] for k in data.files}
    key = next(k for k in arrays if k.endswith("head/label_bias/kernel"))
    arrays[key] = arrays[key][:, :4]
    np.savez(path / "weights.npz", **arrays)
    with pytest.raises(ValueError, match=r"'head/label_bias/kernel' has shape \(16, 4\), the config says \(16, 6\)"):
        RelationExtractorModel.load(path, backend="onnx")


@NO_GPU
def test_cpu_relation_model_loads_without_keras_or_tensorflow():
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from kgpipe.ner.relations import default_model_dir\n"
        "from kgpipe.ner.relations.extractor import RelationExtractorModel\n"
        "model = RelationExtractorModel.load(default_model_dir())\n"
        "out = model.predict(['《呐喊》是鲁迅创作的短篇小说集。'])\n"
        "assert model.backend == 'onnx', model.backend\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_lexicon_features_are_jiebas_softlexicon_per_text_whatever_the_batch():
    from kgpipe.ner.lexicon import build_lexicon
    from kgpipe.ner.relations.config import RelationConfig
    from kgpipe.ner.relations.extractor import lexicon_features

    texts = ["《呐喊》的作者是鲁迅", "北京大学", "", "Ｈｕａｗｅｉ在深圳"]
    batch = lexicon_features(texts, 12)
    assert batch.shape == (4, 12, 40) and batch.dtype == np.float32
    reference = build_lexicon()
    for row, text in enumerate(texts):
        np.testing.assert_array_equal(batch[row, :len(text)], reference.features(text))
        assert not batch[row, len(text):].any()  # padding
        np.testing.assert_array_equal(lexicon_features([text], 12)[0], batch[row])  # alone = in a batch
    assert batch[1, :4].any() and batch[0, 8:10].any()  # 北京大学, 鲁迅: dictionary words
    assert RelationConfig(predicates=("a",), vocab_size=4, bigram_vocab_size=4, lexicon="jieba").lexicon_dim == 40
    with pytest.raises(ValueError, match="`lexicon` must be one of.*lexicon='hanlp'"):
        RelationConfig(predicates=("a",), vocab_size=4, bigram_vocab_size=4, lexicon="hanlp")


def test_vectorised_encoding_gives_the_dictionary_ids():
    from kgpipe.ner.relations.extractor import CharVocab, normalize_char

    vocab = CharVocab.build(["星河科技由张明远创立", "ＡＢＣ公司在杭州", "abc公司", "x"], min_bigram_count=1)
    texts = ["星河ＡＢＣ公司由張明远创立", "", "x", "公司\x00司", "🙂公司ab", "杭州" * 40]

    def by_dictionary(text):
        norm = [normalize_char(c) for c in text]
        return ([vocab.char_index.get(c, 1) for c in norm],
                [vocab.bigram_index.get(a + b, 1) for a, b in zip(norm, norm[1:] + ["\x00"])])

    batch = vocab.encode_batch(texts)
    assert batch["char_ids"].shape == (len(texts), 80) and batch["char_ids"].dtype == np.int32
    for row, text in enumerate(texts):
        chars, bigrams = by_dictionary(text)
        assert batch["char_ids"][row, :len(text)].tolist() == chars
        assert batch["bigram_ids"][row, :len(text)].tolist() == bigrams
        assert not batch["char_ids"][row, len(text):].any() and not batch["bigram_ids"][row, len(text):].any()
    assert batch["char_ids"][0, 2] == vocab.char_index["a"]  # full-width Ａ folds to a
    assert vocab.encode_batch([""])["char_ids"].shape == (1, 1)


def test_a_stopped_run_resumes_on_the_keras_model(tmp_path):
    from kgpipe.ner.relations.training import TrainConfig, train

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    examples, _ = read_duie(data, predicates)
    tiny = {"embedding_dim": 8, "bigram_dim": 4, "lstm_units": 4, "head_size": 4}
    first = train(examples, examples, predicates, tmp_path / "run", tiny,
                  TrainConfig(epochs=2, batch_size=2, eval_every=100), log=lambda _: None)
    lines = []
    second = train(examples, examples, predicates, tmp_path / "run", tiny,
                   TrainConfig(epochs=4, batch_size=2, eval_every=100), log=lines.append)
    assert first["steps"] == 4 and second["steps"] == 8
    assert lines[0].startswith("resuming from step 4")


def test_label_keeps_confident_sentences_and_train_reads_them_as_extra_data(tmp_path, capsys):
    from kgpipe.ner.relations.extractor import RelationExtractorModel
    from kgpipe.ner.relations.training import TrainConfig, train
    from kgpipe.pipeline.cli import main

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    examples, _ = read_duie(data, predicates)
    tiny = {"embedding_dim": 32, "bigram_dim": 16, "lstm_units": 32, "head_size": 16, "dropout": 0.0}
    train(examples, examples, predicates, tmp_path / "model", tiny,
          TrainConfig(epochs=150, batch_size=4, learning_rate=2e-2, eval_every=50), log=lambda _: None)
    raw = tmp_path / "raw.txt"  # JSON lines and plain lines may mix; one text has no relation
    raw.write_text(json.dumps({"text": SENTENCES[0][0]}, ensure_ascii=False) + "\n\n"
                   + "\n".join(t for t, _ in SENTENCES[1:]) + "\n今天天气很好\n", encoding="utf-8")
    labelled = tmp_path / "pseudo.json"
    assert main(["re", "label", "--model", str(tmp_path / "model"), "--data", str(raw), "--out", str(labelled),
                 "--min-confidence", "0"]) == 0
    assert "kept 4 of 5 sentences" in capsys.readouterr().err
    back, report = read_duie(labelled, predicates)
    assert report.type_mismatches == 0 and [e.strings() for e in back] == [e.strings() for e in examples]
    confidences = [t.confidence for ts in RelationExtractorModel.load(tmp_path / "model").predict(
        [t for t, _ in SENTENCES]) for t in ts]
    cut = sorted(confidences)[1]  # the least confident sentence drops out
    assert main(["re", "label", "--model", str(tmp_path / "model"), "--data", str(raw), "--out", str(labelled),
                 "--min-confidence", str(cut)]) == 0
    assert len(read_duie(labelled, predicates)[0]) == sum(c >= cut for c in confidences)
    assert main(["re", "label", "--data", str(raw), "--out", str(labelled), "--min-confidence", "2"]) == 2
    assert "--min-confidence must be in [0, 1]" in capsys.readouterr().err

    out = tmp_path / "selftrained"
    assert main(["re", "train", "--data", str(data), "--schema", str(schema), "--out", str(out), "--dev", "1",
                 "--extra-data", str(labelled), "--epochs", "1", "--batch-size", "2", "--embedding-dim", "16",
                 "--bigram-dim", "8", "--lstm-units", "8", "--head-size", "8", "--threads", "1"]) == 0, \
        capsys.readouterr().err
    card = json.loads((out / "config.json").read_text(encoding="utf-8"))["card"]
    assert card["train_sentences"] == 3 + len(read_duie(labelled, predicates)[0])
    assert f"{labelled} (train)" in card["data"]


def test_ema_run_scores_and_saves_the_average_and_resumes_it(tmp_path):
    from kgpipe.ner.relations.extractor import RelationExtractorModel
    from kgpipe.ner.relations.training import TrainConfig, train

    data, schema = _write(tmp_path)
    predicates = read_schema(schema)
    examples, _ = read_duie(data, predicates)
    tiny = {"embedding_dim": 32, "bigram_dim": 16, "lstm_units": 32, "head_size": 16, "dropout": 0.0}
    config = TrainConfig(epochs=100, batch_size=4, learning_rate=2e-2, eval_every=1000, ema_decay=0.9)
    state = train(examples, examples, predicates, tmp_path / "run", tiny, config, log=lambda _: None)
    assert state["best_f1"] == 1.0 and state["best_step"] == 100  # one evaluation: at the end
    with np.load(tmp_path / "run" / "last" / "ema.npz") as stored:
        ema = dict(stored)
    best = RelationExtractorModel.load(tmp_path / "run", backend="keras").model.weights
    last = RelationExtractorModel.load(tmp_path / "run" / "last", backend="keras").model.weights
    assert len(ema) == len(best) == len(last)
    for i, (b, l) in enumerate(zip(best, last)):  # the saved model is the average, float16 as stored
        np.testing.assert_array_equal(b.numpy(), ema[f"e{i:04d}"].astype(np.float16).astype(np.float32))
    assert any(not np.array_equal(b.numpy(), l.numpy()) for b, l in zip(best, last))  # not the last step's

    lines = []  # a resumed run continues the stored average
    train(examples, examples, predicates, tmp_path / "run", tiny,
          dataclasses.replace(config, epochs=101), log=lines.append)
    assert lines[0].startswith("resuming from step 100")
    after = RelationExtractorModel.load(tmp_path / "run" / "last", backend="keras").model.weights
    with np.load(tmp_path / "run" / "last" / "ema.npz") as again:  # decay min(0.9, 102 / 111) at step 101
        for i, w in enumerate(after):
            np.testing.assert_allclose(again[f"e{i:04d}"], 0.9 * ema[f"e{i:04d}"] + 0.1 * w.numpy(), atol=2e-3)
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)


def test_spans_across_clause_punctuation_are_not_subjects_or_objects_unless_titles():
    from kgpipe.ner.relations.extractor import plausible_span

    text = "《红高粱家族》的作者是莫言，莫言出生于山东高密。《没关系，是爱情啊》是一首歌"
    assert plausible_span(text, 1, 6) and plausible_span(text, 11, 13)
    assert not plausible_span(text, 11, 16)  # 莫言，莫言
    assert plausible_span(text, text.index("没关系"), text.index("》是一首"))  # a title in 《》
    assert not plausible_span(text, text.index("没关系"), text.index("是爱情") + 2)  # 没关系，是爱: not the title


def test_int8_scores_track_float_scores_on_the_shipped_model(shared_data):
    """int8 matrix products: the shipped model's scores stay close to float32 and most triples are the same."""
    from kgpipe.ner.relations import default_model_dir
    from kgpipe.ner.relations.extractor import RelationExtractorModel

    exact = RelationExtractorModel.load(default_model_dir(), backend="onnx")
    fast = RelationExtractorModel.load(default_model_dir(), int8=True)
    assert fast.backend == "onnx" and fast.version == exact.version + "+int8"
    import onnx

    from kgpipe.ner.relations.onnx_runtime import export_onnx, quantized, read_arrays

    ops = {n.op_type for n in onnx.load_from_string(
        quantized(export_onnx(read_arrays(default_model_dir()), exact.config))).graph.node}
    assert "MatMulInteger" in ops and "DynamicQuantizeLSTM" in ops and "LSTM" not in ops
    texts = [json.loads(line)["text"] for line in
             (shared_data / "duie" / "train.json").read_text("utf-8").splitlines()[-200:]]
    inputs = exact.encode(texts[:32])
    a, b = exact._serve(inputs), fast._serve(inputs)
    lengths = (inputs["char_ids"] != 0).sum(axis=1)
    for row, n in enumerate(lengths):  # real characters of the subject/object span scores
        diff = np.abs(a["entity"][row][:, :n, :n] - b["entity"][row][:, :n, :n])
        assert np.median(diff) < 0.5 and not np.array_equal(a["entity"][row], b["entity"][row])
    found = [{(i, t.subject, t.predicate, t.object) for i, row in enumerate(m.predict(texts)) for t in row}
             for m in (exact, fast)]
    assert len(found[0] & found[1]) >= 0.75 * len(found[0] | found[1]) and len(found[0]) >= 100
    with pytest.raises(ValueError, match="int8 relation scoring runs on ONNX Runtime"):
        RelationExtractorModel.load(default_model_dir(), backend="keras", int8=True)
