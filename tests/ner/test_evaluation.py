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
