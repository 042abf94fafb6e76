"""Skip-gram pre-training of the token and bigram tables, and its use by the trainer."""

import json

import numpy as np
import pytest

from kgpipe.ner import pretrain
from kgpipe.ner.albert import AlbertConfig
from kgpipe.ner.config import HeadConfig, NerConfig
from kgpipe.ner.data import Example, write_column_file
from kgpipe.ner.features import BigramVocab, Featurizer
from kgpipe.ner.tokenizer import Tokenizer


def test_read_texts_formats(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"text": "北京很大", "label": {}}, ensure_ascii=False) + "\n\n"
        + json.dumps({"text": "上海"}, ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text("体育\t姚明打球\n财经\t股市\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("第一行\n  \n第二行\n", encoding="utf-8")
    assert list(pretrain.read_texts(tmp_path / "a.jsonl")) == ["北京很大", "上海"]
    assert list(pretrain.read_texts(tmp_path / "b.tsv")) == ["姚明打球", "股市"]
    assert list(pretrain.read_texts(tmp_path / "c.txt")) == ["第一行", "第二行"]
    (tmp_path / "bad.jsonl").write_text('{"text": 3}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: 'text' must be a string"):
        list(pretrain.read_texts(tmp_path / "bad.jsonl"))


def test_vectors_follow_contexts_and_cover_seen_ids():
    # 甲 and 乙 share every context; 丙 lives elsewhere: skip-gram must see that.
    rng = np.random.default_rng(0)
    texts = []
    for _ in range(400):
        left, right = rng.choice(list("一二三四五")), rng.choice(list("六七八九十"))
        texts.append(left + rng.choice(["甲", "乙"]) + right)
        texts.append(rng.choice(list("天地人山水")) + "丙" + rng.choice(list("日月星云风")))
    tokenizer = Tokenizer.build(texts + ["未见"], min_word_count=1)
    featurizer = Featurizer(tokenizer, BigramVocab.build(texts, tokenizer, min_count=1), None)
    out = pretrain.pretrain_embeddings(texts, featurizer, char_dim=16, bigram_dim=8, epochs=20,
                                       sample=0, workers=1)
    vectors, covered = out["tokens"]
    assert vectors.shape == (len(tokenizer), 16) and out["bigrams"][0].shape[1] == 8
    ids = {c: tokenizer.token_to_id[c] for c in "甲乙丙未"}
    assert covered[ids["甲"]] and covered[ids["丙"]] and not covered[ids["未"]]
    assert not covered[tokenizer.pad_id]

    def cos(a, b):
        return float(vectors[a] @ vectors[b] / np.linalg.norm(vectors[a]) / np.linalg.norm(vectors[b]))

    assert cos(ids["甲"], ids["乙"]) > cos(ids["甲"], ids["丙"]) + 0.3


def test_scaled_like_keeps_uncovered_rows():
    initial = np.random.default_rng(1).normal(0, 0.02, (5, 4)).astype(np.float32)
    vectors = np.full((5, 4), 3.0, np.float32)
    vectors[1] = -3.0
    covered = np.array([False, True, True, False, False])
    out = pretrain.scaled_like(initial, vectors, covered)
    np.testing.assert_array_equal(out[~covered], initial[~covered])
    assert np.std(out[covered]) == pytest.approx(np.std(initial), rel=1e-5)
    assert out[1, 0] < 0 < out[2, 0]


def test_trainer_starts_from_pretrained_tables(tmp_path):
    from kgpipe.ner.training import Corpus, TrainConfig, Trainer

    data = tmp_path / "train.txt"
    write_column_file(data, [Example("张三在北京。", ((0, 2, "PER"), (3, 5, "LOC")))] * 20, "BIO")
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join(["王五去了广州。", "广州很热。"] * 30), encoding="utf-8")
    albert = AlbertConfig(vocab_size=1, embedding_size=8, hidden_size=8, num_hidden_layers=0,
                          num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
    model = NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=4, lstm_units=4,
                      max_sequence_length=16, bucket_lengths=(16,), name="pt")
    config = TrainConfig(output_dir=str(tmp_path / "run"), corpora=(Corpus("news", str(data), {}, 2),),
                         model=model, lexicon_jieba=False, gazetteer_folds=0, time_budget_s=60,
                         unlabelled=(str(raw),), pretrain_epochs=3, bigram_min_count=1)
    trainer = Trainer(config)
    trainer.prepare()
    trainer.build()
    tokenizer = trainer.featurizer.tokenizer
    assert "广" in tokenizer.token_to_id  # the vocabulary covers the unlabelled text
    vectors = pretrain.load(tmp_path / "run" / "pretrained.npz")
    table = trainer.model.encoder.word_embeddings.embeddings.numpy()
    matrix, covered = vectors["tokens"]
    row = tokenizer.token_to_id["广"]
    assert covered[row]
    scale = table[row] / matrix[row]
    np.testing.assert_allclose(scale, scale[0], rtol=1e-4)  # the vector, rescaled
    bigram_row = trainer.featurizer.bigram_vocab.index["广\x00州"]
    assert vectors["bigrams"][1][bigram_row]


def test_word_vector_features_follow_softlexicon():
    from kgpipe.ner.word_vectors import WordVectors

    words = ["北京", "北京大学", "大学"]
    vectors = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    freqs = np.array([2.0, 1.0, 1.0], np.float32)
    wv = WordVectors(words, vectors, freqs)
    f = wv.features("在北京大学").reshape(5, 3, 2)  # sets B, M, E
    np.testing.assert_array_equal(f[0], 0)  # 在: no word
    # 北: begins 北京 (z 2) and 北京大学 (z 1); Z = 3 -> B = 3/3 * (2*[1,0] + 1*[0,1]).
    np.testing.assert_allclose(f[1], [[2, 1], [0, 0], [0, 0]])
    # 京: ends 北京, inside 北京大学; Z = 3.
    np.testing.assert_allclose(f[2], [[0, 0], [0, 1], [2, 0]])
    # 大: begins 大学, inside 北京大学; Z = 2 -> scale 3/2.
    np.testing.assert_allclose(f[3], [[1.5, 1.5], [0, 1.5], [0, 0]])
    # 学: ends 北京大学 and 大学.
    np.testing.assert_allclose(f[4], [[0, 0], [0, 0], [1.5, 3]])
    assert wv.features("").shape == (0, 6) and not wv.features("无词").any()
    with pytest.raises(ValueError, match="two characters"):
        WordVectors(["京"], vectors[:1], freqs[:1])


def test_word_vectors_train_save_load(tmp_path):
    from kgpipe.ner.word_vectors import WordVectors

    texts = ["我们在北京大学学习。", "北京的大学很多。", "我们喜欢学习中文。"] * 30
    wv = WordVectors.train(texts, dim=8, epochs=3, workers=1)
    assert {"北京", "我们", "学习"} <= set(wv.words)
    assert all(len(w) >= 2 for w in wv.words)
    np.testing.assert_allclose(np.linalg.norm(wv.vectors, axis=1), 1.0, rtol=1e-5)
    spec = wv.save(tmp_path)
    again = WordVectors.load(tmp_path, spec)
    assert again.words == wv.words
    np.testing.assert_allclose(again.features("北京大学"), wv.features("北京大学"), atol=2e-3)


def test_model_dir_round_trip_with_word_vectors(tmp_path):
    from kgpipe.ner.model_dir import load_model_dir, save_model_dir
    from kgpipe.ner.word_vectors import WordVectors
    from tests.ner.test_tagger import TEXTS, tiny_featurizer, tiny_model

    wv = WordVectors(["北京", "上海"], np.eye(2, 3, dtype=np.float32), np.ones(2, np.float32))
    featurizer = tiny_featurizer().with_word_vectors(wv)
    assert featurizer.lexicon_dim == featurizer.lexicon.feature_dim + 9
    model = tiny_model(featurizer)
    version = save_model_dir(tmp_path, model, featurizer)
    _, loaded, meta = load_model_dir(tmp_path)
    assert meta["version"] == version and meta["word_vectors"]["dim"] == 3
    for text in TEXTS:
        np.testing.assert_array_equal(loaded(text).lexicon, featurizer(text).lexicon)


def test_batch_features_equal_text_by_text_features_exactly():
    """A text's features do not depend on the batch it is featurised in (reruns are identical
    however Beam groups the windows)."""
    from kgpipe.ner.word_vectors import WordVectors
    from tests.ner.test_tagger import tiny_featurizer

    words = ["北京", "北京大学", "京大", "大学生", "上海", "华为手机", "工作"]
    rng = np.random.default_rng(0)
    wv = WordVectors(words, rng.normal(size=(len(words), 5)).astype(np.float32),
                     rng.uniform(1, 50, len(words)).astype(np.float32))
    featurizer = tiny_featurizer().with_word_vectors(wv)
    # "去了北" + "京大学": a word would span the two if the batch did not keep texts apart.
    texts = ["张三在北京大学工作。", "", "华为手机P30很好用", "北京大学生\x00上海", "李四去了上海和Apple公司",
             "𠀀北京大学", "去了北", "京大学"]
    alone = [featurizer(text) for text in texts]
    for order in (texts, texts[::-1]):
        batch = dict(zip(order, featurizer.batch(order)))
        for text, expected in zip(texts, alone):
            got = batch[text]
            assert got.offsets == expected.offsets
            for name in ("token_ids", "bigram_ids", "lexicon"):
                np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert alone[0].lexicon[1:-1].any() and not alone[1].lexicon.any()
