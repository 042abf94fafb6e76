"""GlobalPointer: nested decoding by hand, the layer's masks, the loss, and overfitting nested data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kgpipe.ner.decoding import decode_globalpointer
from kgpipe.ner.nested import has_overlaps, read_cmeee

LABELS = ("bod", "sym")


def _scores(length, positives, num_labels=2, fill=-5.0):
    scores = np.full((1, num_labels, length, length), fill, np.float32)
    for label, start, end, value in positives:
        scores[0, label, start, end] = value
    return scores


def test_decode_nested_keeps_inner_and_outer_spans():
    # 肺内病变: bod [0, 1) inside sym [0, 4); and a second bod [5, 6).
    scores = _scores(8, [(0, 0, 0, 3.0), (1, 0, 3, 2.0), (0, 5, 5, 1.0)])
    got = decode_globalpointer(scores, np.array([8]), LABELS, nested=True)[0]
    assert [s[:3] for s in got] == [(0, 1, "bod"), (0, 4, "sym"), (5, 6, "bod")]
    assert got[0][3] == pytest.approx(1 / (1 + np.exp(-3.0)))


def test_decode_nested_keeps_one_label_per_exact_span():
    scores = _scores(8, [(0, 2, 4, 1.0), (1, 2, 4, 2.5), (0, 2, 3, 0.5)])
    got = decode_globalpointer(scores, np.array([8]), LABELS, nested=True)[0]
    assert [s[:3] for s in got] == [(2, 4, "bod"), (2, 5, "sym")]


def test_decode_flat_keeps_best_non_overlapping():
    scores = _scores(8, [(0, 0, 0, 3.0), (1, 0, 3, 2.0), (1, 2, 6, 4.0)])
    got = decode_globalpointer(scores, np.array([8]), LABELS, nested=False)[0]
    assert [s[:3] for s in got] == [(0, 1, "bod"), (2, 7, "sym")]


def test_decode_ignores_padding_and_reversed_spans():
    scores = _scores(8, [(0, 3, 1, 5.0), (1, 2, 6, 5.0), (0, 1, 2, 1.0)])
    got = decode_globalpointer(scores, np.array([4]), LABELS, nested=True)[0]
    assert [s[:3] for s in got] == [(1, 3, "bod")]  # (2, 6) runs past length 4; (3, 1) reversed
    assert decode_globalpointer(scores, np.array([0]), LABELS, nested=True) == [[]]


def test_layer_masks_padding_and_lower_triangle():
    from kgpipe.ner.globalpointer import NEGATIVE, GlobalPointerHead

    head = GlobalPointerHead(3, head_size=8)
    hidden = np.random.default_rng(0).standard_normal((2, 5, 6)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    scores = np.asarray(head(hidden, token_mask=mask))
    assert scores.shape == (2, 3, 5, 5)
    i, j = np.tril_indices(5, -1)
    assert (scores[:, :, i, j] == NEGATIVE).all()
    assert (scores[1, :, 3:, :] == NEGATIVE).all() and (scores[1, :, :, 3:] == NEGATIVE).all()
    assert (scores[0, :, 0, 4] > NEGATIVE / 2).all()
    # Rotary encoding: the span score of the same tokens does not depend on where they sit.
    shifted = np.concatenate([hidden[:, :1], hidden[:, :1], hidden[:, 1:4]], axis=1)
    again = np.asarray(head(shifted, token_mask=np.ones((2, 5), bool)))
    np.testing.assert_allclose(again[0, :, 2, 3], scores[0, :, 1, 2], atol=1e-4)


def test_loss_matches_numpy_reference():
    from kgpipe.ner.globalpointer import globalpointer_loss

    rng = np.random.default_rng(1)
    scores = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    targets = (rng.random((2, 2, 4, 4)) < 0.2).astype(np.float32)
    got = np.asarray(globalpointer_loss(scores, targets))

    def reference(s, t):  # log(1 + sum_neg e^s) + log(1 + sum_pos e^-s)
        return np.log1p(np.exp(s[t == 0]).sum()) + np.log1p(np.exp(-s[t == 1]).sum())

    want = [sum(reference(scores[b, k], targets[b, k]) for k in range(2)) for b in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-5)


NESTED = [
    {"text": "研究证实，细胞减少与肺内病变程度密切相关。", "entities": [
        {"start_idx": 10, "end_idx": 10, "type": "bod"}, {"start_idx": 10, "end_idx": 13, "type": "sym"}]},
    {"text": "患儿出现左下肺炎症，伴有发热。", "entities": [
        {"start_idx": 4, "end_idx": 6, "type": "bod"}, {"start_idx": 4, "end_idx": 8, "type": "dis"},
        {"start_idx": 12, "end_idx": 13, "type": "sym"}]},
    {"text": "胃黏膜出血多见于老年人。", "entities": [
        {"start_idx": 0, "end_idx": 2, "type": "bod"}, {"start_idx": 0, "end_idx": 4, "type": "sym"}]},
    {"text": "给予阿莫西林口服治疗。", "entities": [{"start_idx": 2, "end_idx": 5, "type": "dru"}]},
    {"text": "心脏杂音提示先天性心脏病。", "entities": [
        {"start_idx": 0, "end_idx": 1, "type": "bod"}, {"start_idx": 0, "end_idx": 3, "type": "sym"},
        {"start_idx": 6, "end_idx": 11, "type": "dis"}, {"start_idx": 9, "end_idx": 10, "type": "bod"}]},
    {"text": "咳嗽三天后出现呼吸困难。", "entities": [
        {"start_idx": 0, "end_idx": 1, "type": "sym"}, {"start_idx": 7, "end_idx": 10, "type": "sym"}]},
]


def test_cmeee_reader_keeps_nested_spans_and_names_bad_records(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(NESTED, ensure_ascii=False), encoding="utf-8")
    examples = read_cmeee(path)
    assert examples[0].spans == ((10, 11, "bod"), (10, 14, "sym"))
    assert sum(map(has_overlaps, examples)) == 4
    bad = [{"text": "肺炎", "entities": [{"start_idx": 1, "end_idx": 2, "type": "dis"}]}]
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="record 0.*outside the text of 2 chars"):
        read_cmeee(path)


@pytest.mark.slow
def test_overfits_nested_sentences_and_eval_scores_them_exactly(tmp_path, capsys):
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.commands import ner as ner_command

    data = tmp_path / "nested.json"
    data.write_text(json.dumps(NESTED, ensure_ascii=False), encoding="utf-8")
    run = tmp_path / "run"
    assert ner_command.main([
        "train", "--train", f"cmeee={data}", "--head", "globalpointer", "--out", str(run),
        "--embedding-size", "32", "--hidden-size", "32", "--num-layers", "1", "--num-heads", "2",
        "--intermediate-size", "64", "--lstm-units", "32", "--lexicon", "off", "--bigrams", "off",
        "--embedding-dropout", "0", "--output-dropout", "0", "--hidden-dropout", "0",
        "--token-dropout", "0", "--batch-size", "6", "--max-epochs", "150", "--warmup-steps", "5",
        "--learning-rate", "1e-2", "--time-budget", "600", "--eval-every", "100000",
        "--max-sequence-length", "32"]) == 0
    capsys.readouterr()
    tagger = MentionTagger.load(run / "best")
    assert tagger.head_labels == {"cmeee": ("bod", "dis", "dru", "sym")}
    gold = [ex.spans for ex in read_cmeee(data)]
    predicted = [[s[:3] for s in spans] for spans in tagger.predict_spans([r["text"] for r in NESTED])]
    assert predicted == [list(spans) for spans in gold]
    assert ner_command.main(["eval", "--model", str(run / "best"), "--data", str(data), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["micro"]["f1"] == 1.0 and scores["micro"]["gold"] == 14
