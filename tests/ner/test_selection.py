"""Checkpoint selection: pooled micro F1 by default, or a weighted mean of per-corpus dev F1."""

import pytest

from kgpipe.ner.data import Example
from kgpipe.ner.training import Corpus, TrainConfig, score_dev


class FixedTagger:
    """Predicts the spans it was given for each text, whatever the head."""

    def __init__(self, predictions):
        self.predictions = predictions

    def predict_spans(self, texts, heads=None):
        return [[(*span, 1.0) for span in self.predictions[text]] for text in texts]


DEV = {
    # news: 1 of 2 gold entities found, no false positives: P 1, R 0.5, F1 2/3
    "news": [Example("张三在北京。", ((0, 2, "PER"), (3, 5, "LOC")))],
    # shop: 4 gold, all found: F1 1
    "shop": [Example("华为手机和小米手机", ((0, 2, "BRAND"), (2, 4, "PRODUCT"),
                                       (5, 7, "BRAND"), (7, 9, "PRODUCT")))],
}
TAGGER = FixedTagger({"张三在北京。": [(0, 2, "PER")],
                      "华为手机和小米手机": [(0, 2, "BRAND"), (2, 4, "PRODUCT"),
                                              (5, 7, "BRAND"), (7, 9, "PRODUCT")]})


def test_pooled_micro_counts_entities_while_select_weights_corpora():
    scores = score_dev(TAGGER, DEV)
    assert scores["news"] == pytest.approx(2 / 3) and scores["shop"] == pytest.approx(1.0)
    # pooled: 5 of 6 gold found, 5 predicted: P 1, R 5/6
    assert scores["micro"] == pytest.approx(2 * (5 / 6) / (1 + 5 / 6))
    assert "select" not in scores
    weighted = score_dev(TAGGER, DEV, (("news", 2.0), ("shop", 1.0)))
    assert weighted["select"] == pytest.approx((2 * 2 / 3 + 1.0) / 3)
    assert score_dev(TAGGER, DEV, (("news", 1.0),))["select"] == pytest.approx(2 / 3)


def test_select_names_corpora_with_a_dev_slice(tmp_path):
    corpora = (Corpus("news", "n.txt", dev_size=10), Corpus("aux", "a.json", dev_size=0, auxiliary=True))
    TrainConfig(str(tmp_path), corpora, select=(("news", 1.0),))
    for bad in ((("aux", 1.0),), (("shop", 1.0),), (("news", 0.0),), (("news", float("nan")),)):
        with pytest.raises(ValueError, match="select"):
            TrainConfig(str(tmp_path), corpora, select=bad)


def test_cli_parses_select_flags():
    import argparse

    from kgpipe.pipeline.commands.ner import add_parser, train_config_from_args

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ner", "train", "--train", "msra=a.txt", "--train", "shop=b.txt",
                              "--out", "run", "--select", "msra=2", "--select", "shop=1"])
    assert train_config_from_args(args).select == (("msra", 2.0), ("shop", 1.0))
