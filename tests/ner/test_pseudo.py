"""Pseudo-labelling for self-training: agreement and confidence filters, column-file round trip."""

import json

import pytest

from kgpipe.ner.data import read_column_file, write_column_file
from kgpipe.ner.pseudo import pseudo_label
from kgpipe.ner.training import Corpus, TrainConfig


class FakeTagger:
    """Tags every occurrence of the given names with a fixed score."""

    max_window_chars = 40
    head_labels = {"msra": ("LOC", "ORG", "PER"), "ecommerce": ("BRAND", "PRODUCT")}

    def __init__(self, names, scores=None):
        self.names = names  # surface -> label
        self.scores = scores or {}
        self.calls = []

    def predict_spans(self, texts, heads=None, batch_size=64):
        self.calls.append((list(texts), heads))
        out = []
        for text in texts:
            spans = []
            for name, label in self.names.items():
                start = text.find(name)
                if start >= 0:
                    spans.append((start, start + len(name), label, self.scores.get(name, 0.99)))
            out.append(sorted(spans))
        return out


DOCS = ["张三在北京工作。李四去了上海。", "王五加入了华为公司。", "短。", "今天天气很好，大家都出门了。"]


def test_agreeing_confident_windows_are_kept_with_window_offsets():
    teacher = FakeTagger({"张三": "PER", "北京": "LOC", "上海": "LOC", "李四": "PER", "华为": "ORG"})
    examples, stats = pseudo_label([teacher], DOCS, heads=["msra"], min_score=0.9)
    assert [ex.text for ex in examples] == ["张三在北京工作。", "李四去了上海。", "王五加入了华为公司。",
                                          "今天天气很好，大家都出门了。"]  # "短。" is under min_chars
    assert examples[0].spans == ((0, 2, "PER"), (3, 5, "LOC"))
    assert examples[2].spans == ((5, 7, "ORG"),)
    assert examples[3].spans == ()  # entity-free windows teach O
    assert stats.to_dict() == {"windows": 4, "skipped": 1, "kept": 4, "disagreed": 0,
                               "low_confidence": 0, "other_types": 0, "entities": 5}
    assert teacher.calls[0][1] == ["msra"]


def test_disagreement_and_low_scores_drop_the_window():
    a = FakeTagger({"张三": "PER", "北京": "LOC", "华为": "ORG"}, scores={"北京": 0.5})
    b = FakeTagger({"张三": "PER", "北京": "LOC", "华为": "LOC"})
    examples, stats = pseudo_label([a, b], DOCS, min_score=0.9)
    assert [ex.text for ex in examples] == ["李四去了上海。", "今天天气很好，大家都出门了。"]
    assert (stats.disagreed, stats.low_confidence, stats.kept) == (1, 1, 2)


def test_a_window_with_an_entity_of_another_type_is_dropped_not_stripped():
    a = FakeTagger({"华为": "ORG", "公司": "PRODUCT"})
    examples, stats = pseudo_label([a, a], ["王五加入了华为公司。", "张三在北京工作。"], labels=["ORG", "PER"])
    assert [ex.text for ex in examples] == ["张三在北京工作。"] and stats.other_types == 1
    examples, stats = pseudo_label([a], ["王五加入了华为。"], labels=["ORG"])
    assert examples[0].spans == ((5, 7, "ORG"),) and stats.other_types == 0


def test_unknown_heads_and_labels_are_rejected():
    with pytest.raises(ValueError, match="unknown heads \\['msar'\\]"):
        pseudo_label([FakeTagger({})], DOCS, heads=["msar"])
    with pytest.raises(ValueError, match="'BRAND'"):
        pseudo_label([FakeTagger({})], DOCS, heads=["msra"], labels=["PER", "BRAND"])


def test_windows_round_trip_through_a_column_file(tmp_path):
    teacher = FakeTagger({"New York": "LOC", "华为": "ORG"})
    examples, _ = pseudo_label([teacher], ["他 去了 New York。华为\t在深圳。"], min_score=0.5)
    assert [ex.text for ex in examples] == ["他 去了 New York。"]  # the tab window is not writable
    write_column_file(tmp_path / "pseudo.bio", examples)
    assert read_column_file(tmp_path / "pseudo.bio") == examples


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="at least one tagger"):
        pseudo_label([], DOCS)
    with pytest.raises(ValueError, match="min_score"):
        pseudo_label([FakeTagger({})], DOCS, min_score=1.5)


def test_extra_corpus_must_name_a_trained_head(tmp_path):
    gold = Corpus("msra", "train.txt")
    TrainConfig(str(tmp_path), (gold, Corpus("msra+pseudo", "p.bio", dev_size=0, head="msra")),
                gazetteer_folds=0)
    with pytest.raises(ValueError, match="adds to head 'news'"):
        TrainConfig(str(tmp_path), (gold, Corpus("x", "p.bio", dev_size=0, head="news")))
    with pytest.raises(ValueError, match="repeat=3"):
        Corpus("x", "p.bio", dev_size=0, head="msra", repeat=3)
    with pytest.raises(ValueError, match="augment"):
        Corpus("msra", "train.txt", augment=float("nan"))
    with pytest.raises(ValueError, match="gazetteer_folds=5"):
        TrainConfig(str(tmp_path), (Corpus("msra", "train.txt", augment=0.5),), gazetteer_folds=5)


def _tiny_config():
    from kgpipe.ner.albert import AlbertConfig
    from kgpipe.ner.config import HeadConfig, NerConfig

    albert = AlbertConfig(vocab_size=1, embedding_size=8, hidden_size=8, num_hidden_layers=0,
                          num_attention_heads=2, intermediate_size=8, max_position_embeddings=16)
    return NerConfig(albert=albert, heads=(HeadConfig("x", ("X",)),), bigram_dim=4, lstm_units=4,
                     max_sequence_length=16, bucket_lengths=(16,))


def test_extra_sentences_train_the_named_head_without_a_dev_slice(tmp_path):
    from kgpipe.ner.data import Example
    from kgpipe.ner.training import Trainer

    gold = [Example("张三在北京。", ((0, 2, "PER"), (3, 5, "LOC")))] * 40
    extra = [Example("王五去了上海和华为。", ((0, 2, "PER"), (4, 6, "LOC"), (7, 9, "BRAND")))] * 7
    write_column_file(tmp_path / "gold.txt", gold)
    write_column_file(tmp_path / "extra.txt", extra)
    model = _tiny_config()
    config = TrainConfig(output_dir=str(tmp_path / "run"), model=model, lexicon_jieba=False,
                         gazetteer_folds=0,
                         corpora=(Corpus("news+extra", str(tmp_path / "extra.txt"), dev_size=0,
                                         head="news"),
                                  Corpus("news", str(tmp_path / "gold.txt"), dev_size=4, repeat=2)))
    trainer = Trainer(config)
    trainer.prepare()
    assert [h.name for h in trainer.model_config.heads] == ["news"]
    assert trainer.model_config.heads[0].labels == ("LOC", "PER")  # from the gold corpus only
    assert len(trainer.dev["news"]) == 4  # the dev slice is the gold corpus's tail alone
    assert len(trainer.train) == 2 * (36 + 7)  # the head's repeat covers its extra sentences
    extra_tags = [x for x in trainer.train if len(x.tags) == 10]
    tags = trainer.model_config.heads[0].tags
    assert len(extra_tags) == 14 and not any("BRAND" in tags[t] for t in extra_tags[0].tags)


def test_extra_sentences_can_feed_an_auxiliary_head(tmp_path):
    from kgpipe.ner.data import Example
    from kgpipe.ner.training import Trainer

    write_column_file(tmp_path / "gold.txt", [Example("张三在北京。", ((0, 2, "PER"), (3, 5, "LOC")))] * 20)
    aux = tmp_path / "aux.json"
    aux.write_text(json.dumps({"text": "李四住在上海路", "label": {"name": {"李四": [[0, 1]]}}},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    write_column_file(tmp_path / "more.txt", [Example("王五来了", ((0, 2, "name"),))] * 3)
    model = _tiny_config()
    config = TrainConfig(output_dir=str(tmp_path / "run"), model=model, lexicon_jieba=False,
                         gazetteer_folds=0,
                         corpora=(Corpus("cluener+more", str(tmp_path / "more.txt"), dev_size=0,
                                         head="cluener"),
                                  Corpus("cluener", str(aux), dev_size=0, auxiliary=True),
                                  Corpus("news", str(tmp_path / "gold.txt"), dev_size=2)))
    trainer = Trainer(config)
    trainer.prepare()
    assert [h.name for h in trainer.model_config.heads] == ["news", "cluener"]
    assert sum(x.head == "cluener" for x in trainer.train) == 4


def test_cli_label_writes_nested_spans_as_cmeee_json_lines_only(tmp_path, monkeypatch, capsys):
    from kgpipe.ner.data import read_examples
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.commands import ner as ner_commands

    nested = FakeTagger({"北京大学": "ORG", "北京": "LOC", "张三": "PER"})  # 北京 inside 北京大学
    nested.version = "fake-nested"
    monkeypatch.setattr(MentionTagger, "load", classmethod(lambda cls, path, **kw: nested))
    monkeypatch.setattr(ner_commands, "_model_dirs", lambda given: ["fake"])
    raw = tmp_path / "raw.txt"
    raw.write_text("张三在北京大学工作。\n", encoding="utf-8")
    out = tmp_path / "pseudo.jsonl"
    assert ner_commands.main(["label", "--input", str(raw), "--out", str(out), "--min-score", "0"]) == 0
    (example,) = read_examples(out)
    assert example.text == "张三在北京大学工作。"
    assert example.spans == ((0, 2, "PER"), (3, 5, "LOC"), (3, 7, "ORG"))
    with pytest.raises(SystemExit, match="nested or overlapping spans.*--out FILE.jsonl"):
        ner_commands.main(["label", "--input", str(raw), "--out", str(tmp_path / "p.bio"), "--min-score", "0"])
