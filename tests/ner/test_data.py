import json

import numpy as np
import pytest

from kgpipe.ner import data
from kgpipe.ner.data import Example
from kgpipe.ner.lexicon import Lexicon, build_gazetteer


def test_column_file_bio_tab_and_space(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("张 B-PER\n三 I-PER\n在 O\n\n北\tB-LOC\n京\tI-LOC\n", encoding="utf-8")
    examples = data.read_column_file(path)
    assert examples == [Example("张三在", ((0, 2, "PER"),)), Example("北京", ((0, 2, "LOC"),))]


def test_column_file_bioes_with_label_map(tmp_path):
    path = tmp_path / "b.bieos"
    path.write_text("华\tB-HP\n为\tE-HP\n手\tB-HC\n机\tE-HC\n壳\tS-HC\n的\tO\n", encoding="utf-8")
    examples = data.read_column_file(path, label_map={"HP": "BRAND", "HC": "PRODUCT"})
    assert examples[0].spans == ((0, 2, "BRAND"), (2, 4, "PRODUCT"), (4, 5, "PRODUCT"))
    assert data.label_set(examples) == ("BRAND", "PRODUCT")


@pytest.mark.parametrize("scheme", ["BIO", "BIOES", "BMES"])
def test_write_read_round_trip(tmp_path, scheme):
    examples = [Example("张三在北京大学", ((0, 2, "PER"), (3, 7, "ORG"))), Example("好", ())]
    path = tmp_path / "out.txt"
    data.write_column_file(path, examples, scheme)
    assert data.read_column_file(path) == examples


def test_cluener(tmp_path):
    path = tmp_path / "c.json"
    record = {"text": "浙商银行企业信贷部叶老桂", "label": {"name": {"叶老桂": [[9, 11]]},
                                                      "company": {"浙商银行": [[0, 3]]}}}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    (example,) = data.read_examples(path)
    assert example.spans == ((0, 4, "company"), (9, 12, "name"))
    assert example.text[9:12] == "叶老桂"


def test_split_long_never_cuts_entities():
    text = "我们" * 10 + "，" + "北京大学" + "。" + "好" * 30
    example = Example(text, ((21, 25, "ORG"),))
    pieces = data.split_long(example, 24)
    assert "".join(p.text for p in pieces) == text
    assert all(len(p.text) <= 24 for p in pieces)
    assert [s for p in pieces for s in p.spans] and all(
        p.text[s:e] == "北京大学" for p in pieces for s, e, _ in p.spans)


def test_softlexicon_features():
    lexicon = Lexicon(("WORD", "PER"))
    lexicon.add("北京大学", "WORD", 100)
    lexicon.add("张三", "PER", 100)
    lexicon.add("在", "WORD", 10)
    f = lexicon.features("张三在北京大学").reshape(7, 4, 2, 2)  # [chars, set, presence|weight, cat]
    presence, weight = f[:, :, 0], f[:, :, 1]
    assert presence[0, 0, 1] == 1 and presence[1, 2, 1] == 1  # B-PER, E-PER
    assert presence[2, 3, 0] == 1  # S-WORD
    assert presence[3, 0, 0] == 1 and presence[4, 1, 0] == 1 and presence[5, 1, 0] == 1
    assert presence[6, 2, 0] == 1
    assert presence.sum() == 7
    assert np.all((weight > 0) == (presence > 0))


def test_gazetteer_min_length_and_labels():
    examples = [Example("张三在北京", ((0, 2, "PER"), (3, 5, "LOC"))), Example("京", ((0, 1, "LOC"),))]
    gazetteer = build_gazetteer(examples, {"PER", "LOC"})
    assert gazetteer.categories == ("G_LOC", "G_PER")
    assert set(gazetteer.words) == {"张三", "北京"}


def test_automaton_matches_equal_prefix_scan():
    lexicon = Lexicon(("WORD", "PER"))
    for word, cat in [("北京", "WORD"), ("北京大学", "WORD"), ("京大", "PER"), ("学", "WORD"),
                      ("大学生", "PER"), ("大学生", "WORD")]:
        lexicon.add(word, cat, 50)
    text = "北京大学生北京"
    fast = sorted(zip(*lexicon._flat_matches(text)))
    slow = sorted(zip(*lexicon._flat_matches_python(text)))
    assert fast == slow and len(fast) == 7
