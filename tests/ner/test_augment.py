"""Mention replacement keeps context, swaps names within a type, and is reproducible."""

import pytest

from kgpipe.ner.augment import replace_mentions
from kgpipe.ner.data import Example

TRAIN = [Example("张三在北京工作。", ((0, 2, "PER"), (3, 5, "LOC"))),
         Example("欧阳娜娜去了呼和浩特。", ((0, 4, "PER"), (6, 10, "LOC"))),
         Example("今天下雨。", ()),
         Example("重叠", ((0, 2, "ORG"), (1, 2, "LOC")))]  # nested spans: never a source


def test_every_mention_is_replaced_by_a_name_of_its_type():
    made = replace_mentions(TRAIN, 50, seed=1)
    assert len(made) == 50
    names = {"PER": {"张三", "欧阳娜娜"}, "LOC": {"北京", "呼和浩特"}}
    contexts = set()
    for ex in made:
        assert [label for _, _, label in ex.spans] == ["PER", "LOC"]
        for start, end, label in ex.spans:
            assert ex.text[start:end] in names[label]
        (s1, e1, _), (s2, e2, _) = ex.spans
        contexts.add((ex.text[:s1], ex.text[e1:s2], ex.text[e2:]))
    assert contexts == {("", "在", "工作。"), ("", "去了", "。")}
    assert {ex.text for ex in made} > {"张三在北京工作。", "欧阳娜娜在呼和浩特工作。"}  # mixed pairs appear


def test_reproducible_and_empty_without_mentions():
    assert replace_mentions(TRAIN, 10, seed=3) == replace_mentions(TRAIN, 10, seed=3)
    assert replace_mentions([Example("今天下雨。", ())], 5) == []
    with pytest.raises(ValueError, match="count"):
        replace_mentions(TRAIN, -1)


def test_outside_names_replace_only_the_chosen_labels():
    outside = {"LOC": ["火星基地", "月球港"]}
    made = replace_mentions(TRAIN, 200, seed=2, names=outside, names_share=1.0, labels=["LOC"])
    assert made and all(len(ex.spans) == 2 for ex in made)
    for ex in made:
        (ps, pe, per), (ls, le, loc) = ex.spans
        assert (per, loc) == ("PER", "LOC")
        assert ex.text[ls:le] in {"火星基地", "月球港"}  # share 1.0: always an outside name
        assert ex.text[ps:pe] in {"张三", "欧阳娜娜"}  # PER untouched, offsets still right
        assert ex.text.startswith(ex.text[ps:pe])
    half = replace_mentions(TRAIN, 400, seed=2, names=outside, names_share=0.5, labels=["LOC"])
    surfaces = {ex.text[s:e] for ex in half for s, e, label in ex.spans if label == "LOC"}
    assert surfaces == {"火星基地", "月球港", "北京", "呼和浩特"}
    with pytest.raises(ValueError, match="names_share"):
        replace_mentions(TRAIN, 1, names=outside, names_share=1.5)


def test_read_names_splits_bracketed_forms_and_lowercases(tmp_path):
    from kgpipe.ner.augment import read_names

    path = tmp_path / "brands.txt"
    path.write_text("法雷奥（VALEO）\nSASSOU JAPAN\n\n猎\nAdidas(阿迪达斯)\n", encoding="utf-8")
    assert read_names(str(path)) == sorted({"法雷奥（VALEO）", "法雷奥", "VALEO", "SASSOU JAPAN",
                                            "Adidas(阿迪达斯)", "Adidas", "阿迪达斯"})
    assert "valeo" in read_names(str(path), lowercase=True)
    (tmp_path / "empty.txt").write_text("猎\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no name"):
        read_names(str(tmp_path / "empty.txt"))


def test_training_refuses_outside_names_for_a_label_the_corpus_lacks(tmp_path):
    from kgpipe.ner.data import write_column_file
    from kgpipe.ner.training import Corpus, TrainConfig, Trainer

    data = tmp_path / "news.txt"
    write_column_file(data, TRAIN[:2] * 10, "BIO")
    names = tmp_path / "brands.txt"
    names.write_text("华为\n小米\n", encoding="utf-8")
    config = TrainConfig(output_dir=str(tmp_path / "run"), lexicon_jieba=False, gazetteer_folds=0,
                         corpora=(Corpus("news", str(data), {}, 2, augment=0.5),),
                         augment_names=(("BRNAD", str(names)),))
    with pytest.raises(ValueError, match=r"\['BRNAD'\].*labels: \['LOC', 'PER'\]"):
        Trainer(config).prepare()
