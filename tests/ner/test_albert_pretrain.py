"""ner.albert_pretrain / ner.mlm_data / ner.albert_tf1: MLM pre-training, resume, TF1 round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from kgpipe.ner import checkpoints
from kgpipe.ner.albert_pretrain import PretrainConfig, pretrain
from kgpipe.ner.albert_tf1 import export_tf1
from kgpipe.ner.mlm_data import (MaskingConfig, Segments, build_segments, mask_batch,
                                 read_unlabelled)
from kgpipe.ner.tokenizer import MASK, Tokenizer

SENTENCES = ["北京大学的学生在图书馆里学习。", "上海市政府发布了新的交通规定。",
             "华为公司在深圳举行了新品发布会。", "中国人民银行宣布下调存款利率。",
             "他们明天去杭州西湖旅游。", "张三在清华大学读计算机专业。",
             "天气预报说明天会下大雨。", "这家餐厅的北京烤鸭非常好吃。"]
TINY = {"embedding_size": 8, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 32, "max_position_embeddings": 32}


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("\n".join(SENTENCES * 6) + "\n", encoding="utf-8")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY), encoding="utf-8")
    return path, config


def _run(path, **overrides) -> PretrainConfig:
    values = dict(unlabelled=(str(path),), seq_length=32, max_predictions=5, batch_size=4,
                  learning_rate=1e-2, warmup_steps=2, dev_segments=4, eval_seconds=1e9,
                  checkpoint_seconds=1e9, min_char_count=1, max_steps=20)
    return PretrainConfig(**{**values, **overrides})


def test_read_unlabelled_formats_and_dev_tails(tmp_path):
    columns = tmp_path / "train.txt"
    columns.write_text("".join(f"{c}\tO\n" for c in "甲乙") + "\n" +
                       "".join(f"{c}\tO\n" for c in "丙丁") + "\n", encoding="utf-8")
    lines = [json.dumps({"text": f"句子{i}", "label": {}}, ensure_ascii=False) for i in range(20)]
    (tmp_path / "cluener.json").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "cmeee.json").write_text(json.dumps(
        [{"text": f"病{i}", "entities": []} for i in range(30)], ensure_ascii=False),
        encoding="utf-8")
    (tmp_path / "duie.json").write_text("\n".join(
        json.dumps({"text": f"关系{i}", "spo_list": []}, ensure_ascii=False) for i in range(20)),
        encoding="utf-8")
    (tmp_path / "news.tsv").write_text("体育\t第一篇\n财经\t第二篇\n", encoding="utf-8")

    assert read_unlabelled(columns) == ["甲乙", "丙丁"]  # 10% of 2 sentences is none
    assert read_unlabelled(tmp_path / "cluener.json", exclude_tail=5) == [f"句子{i}" for i in range(18)]
    assert read_unlabelled(tmp_path / "cmeee.json", exclude_tail=1) == [f"病{i}" for i in range(29)]
    assert len(read_unlabelled(tmp_path / "duie.json", exclude_tail=5)) == 20  # not NER data
    assert read_unlabelled(tmp_path / "news.tsv") == ["第一篇", "第二篇"]
    with pytest.raises(ValueError, match="--unlabelled: no such file: .*missing.txt"):
        read_unlabelled(tmp_path / "missing.txt")


def test_segments_are_packed_within_the_length():
    tokenizer = Tokenizer.build(SENTENCES)
    segments = build_segments(SENTENCES * 3, tokenizer, 30)
    lengths = np.diff(segments.offsets)
    assert lengths.max() <= 30 and lengths.sum() == sum(len(s) for s in SENTENCES * 3)
    assert len(segments) < len(SENTENCES * 3)  # short sentences share a segment
    assert segments.word_starts[segments.offsets[:-1]].all()  # segments start on a word


def test_whole_word_masking_masks_whole_words_only():
    tokenizer = Tokenizer.build(SENTENCES)
    segments = build_segments(SENTENCES, tokenizer, 30)
    config = MaskingConfig(seq_length=32, max_predictions=8, mask_rate=0.15)
    rng = np.random.default_rng(0)
    for _ in range(20):
        batch = mask_batch(segments, range(len(segments)), config, tokenizer, rng)
        for row in range(len(segments)):
            start, end = segments.offsets[row], segments.offsets[row + 1]
            ids, starts = segments.token_ids[start:end], segments.word_starts[start:end]
            used = batch["masked_labels"][row] >= 0
            positions = batch["masked_positions"][row][used] - 1  # [CLS] shifts by one
            assert 1 <= used.sum() <= config.max_predictions
            np.testing.assert_array_equal(batch["masked_labels"][row][used], ids[positions])
            word_of = np.cumsum(starts) - 1
            for word in set(word_of[positions]):  # every token of a chosen word is chosen
                assert set(np.flatnonzero(word_of == word)) <= set(positions)
            assert batch["token_ids"][row, 0] == tokenizer.cls_id
            assert batch["token_ids"][row, len(ids) + 1] == tokenizer.sep_id
    mask_id = tokenizer.token_to_id[MASK]
    masked = batch["token_ids"][np.arange(len(segments))[:, None], batch["masked_positions"]]
    assert (masked[batch["masked_labels"] >= 0] == mask_id).mean() > 0.5


def test_pretrain_loss_falls_and_resume_continues_exactly(tmp_path, corpus):
    path, config = corpus
    whole = pretrain(_run(path, max_steps=24), str(config), tmp_path / "whole")
    log = [json.loads(line) for line in open(tmp_path / "whole/pretrain/log.jsonl")]
    assert log[0]["step"] == 0 and log[-1]["step"] == 24
    assert log[-1]["dev_loss"] < log[0]["dev_loss"] - 0.2
    assert 0.0 <= log[-1]["dev_accuracy"] <= 1.0 and whole["dev_accuracy"] == log[-1]["dev_accuracy"]

    pretrain(_run(path, max_steps=10), str(config), tmp_path / "split")
    resumed = pretrain(_run(path, max_steps=24), str(config), tmp_path / "split")
    steps = [json.loads(line)["step"] for line in open(tmp_path / "split/pretrain/log.jsonl")]
    assert steps == [0, 10, 24] and resumed["steps"] == 24
    _, a = checkpoints.load_encoder_weights(tmp_path / "whole")
    _, b = checkpoints.load_encoder_weights(tmp_path / "split")
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)


def test_resume_with_other_options_raises(tmp_path, corpus):
    path, config = corpus
    pretrain(_run(path, max_steps=1), str(config), tmp_path / "run")
    with pytest.raises(ValueError, match="run.batch_size: was 4, now 8"):
        pretrain(_run(path, max_steps=2, batch_size=8), str(config), tmp_path / "run")
    with pytest.raises(ValueError, match="--config must be one of"):
        pretrain(_run(path), "huge", tmp_path / "other")


def test_export_tf1_then_import_gives_identical_encoder(tmp_path, corpus):
    path, config = corpus
    pretrain(_run(path, max_steps=3), str(config), tmp_path / "run")
    tf1 = export_tf1(tmp_path / "run", tmp_path / "tf1")
    shapes = dict(tf.train.list_variables(str(tf1 / "albert_model.ckpt")))
    assert shapes["bert/embeddings/word_embeddings_2"] == [8, 16]
    assert shapes["bert/encoder/layer_shared/output/LayerNorm/gamma"] == [16]
    assert shapes["cls/predictions/transform/dense/kernel"] == [16, 16]  # brightmart's head
    assert shapes["global_step"] == []
    assert json.loads((tf1 / "albert_config.json").read_text())["ln_type"] == "postln"

    imported = checkpoints.import_checkpoint(tf1, tmp_path / "imported")
    token_ids = np.array([[2, 7, 9, 11, 3, 0], [2, 5, 6, 8, 12, 3]], np.int32)
    ours = np.asarray(checkpoints.load_encoder(tmp_path / "run")(token_ids))
    theirs = np.asarray(checkpoints.load_encoder(imported)(token_ids))
    np.testing.assert_array_equal(ours, theirs)
    assert (imported / "vocab.txt").read_text() == (tmp_path / "run/vocab.txt").read_text()


def test_cli_pretrain_with_export(tmp_path, corpus, capsys):
    from kgpipe.pipeline.commands import ner as ner_commands

    path, config = corpus
    assert ner_commands.main([
        "pretrain", "--unlabelled", str(path), "--out", str(tmp_path / "run"),
        "--config", str(config), "--max-steps", "2", "--seq-length", "32", "--batch-size", "4",
        "--dev-segments", "4", "--export-tf1", str(tmp_path / "tf1")]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["steps"] == 2 and report["export_tf1"] == str(tmp_path / "tf1")
    assert Segments.load(tmp_path / "run/pretrain/dev.npz").offsets.shape == (5,)
    assert (tmp_path / "tf1/albert_model.ckpt.index").exists()
