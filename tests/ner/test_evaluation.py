import pytest

from kgpipe.ner.evaluation import entity_scores


def test_exact_span_and_type():
    gold = [[(0, 2, "PER"), (3, 5, "LOC")], [(0, 4, "ORG")]]
    predicted = [[(0, 2, "PER"), (3, 5, "ORG")], [(0, 3, "ORG"), (5, 6, "PER", 0.9)]]
    scores = entity_scores(gold, predicted)
    assert (scores.micro.true_positives, scores.micro.predicted, scores.micro.gold) == (1, 4, 3)
    assert scores.micro.precision == pytest.approx(0.25)
    assert scores.micro.recall == pytest.approx(1 / 3)
    assert scores.micro.f1 == pytest.approx(2 * 0.25 / 3 / (0.25 + 1 / 3))
    assert scores.per_type["PER"].f1 == pytest.approx(2 / 3)
    assert scores.per_type["LOC"].recall == 0.0
    assert scores.per_type["ORG"].precision == 0.0


def test_empty_and_mismatch():
    assert entity_scores([[]], [[]]).micro.f1 == 0.0
    with pytest.raises(ValueError):
        entity_scores([[]], [])


def test_ner_eval_decodes_the_heads_that_emit_the_gold_labels(tmp_path, capsys):
    """Spans of labels the data does not have are not scored, so by default they are not decoded
    either: the news head's PER no longer displaces a title's brand (the pipeline's product text)."""
    import json

    from kgpipe.pipeline.cli import main

    titles = tmp_path / "titles.bieos"
    rows = []
    for text, brand, product in (("戴森吹风机负离子家用大功率", 2, (2, 5)), ("李宁运动鞋男款跑步鞋", 2, (2, 5))):
        tags = ["O"] * len(text)
        tags[0], tags[brand - 1] = "B-HP", "E-HP"
        tags[product[0]:product[1]] = ["B-HC"] + ["M-HC"] * (product[1] - product[0] - 2) + ["E-HC"]
        assert len(tags) == len(text)
        rows += [f"{c}\t{t}" for c, t in zip(text, tags)] + [""]
    titles.write_text("\n".join(rows) + "\n", encoding="utf-8")
    scores = {}
    for heads in ([], ["--heads", "ecommerce"], ["--heads", "all"]):
        assert main(["ner", "eval", "--data", str(titles), "--label-map", "HP=BRAND", "--label-map", "HC=PRODUCT",
                     "--json", *heads]) == 0
        scores[" ".join(heads)] = json.loads(capsys.readouterr().out)
    assert scores[""]["heads"] == ["ecommerce"] and scores["--heads all"]["heads"] == ["ecommerce", "msra"]
    assert scores[""]["per_type"] == scores["--heads ecommerce"]["per_type"]
    assert scores[""]["per_type"]["BRAND"]["true_positives"] == 2  # 戴森, 李宁
    assert scores["--heads all"]["per_type"]["BRAND"]["true_positives"] == 0  # PER won the merge


def test_ner_predict_decodes_the_heads_asked_for(capsys):
    import json

    from kgpipe.pipeline.cli import main

    labels = {}
    for heads in ([], ["--heads", "ecommerce"]):
        assert main(["ner", "predict", "--json", *heads, "李宁运动鞋男款跑步鞋"]) == 0
        labels[" ".join(heads)] = {m["text"]: m["label"] for m in json.loads(capsys.readouterr().out)["mentions"]}
    assert labels[""]["李宁"] == "PER" and labels["--heads ecommerce"]["李宁"] == "BRAND"
    assert set(labels["--heads ecommerce"].values()) <= {"BRAND", "PRODUCT"}
    assert main(["ner", "predict", "--heads", "nope", "李宁"]) == 2
    assert "unknown heads ['nope']" in capsys.readouterr().err
