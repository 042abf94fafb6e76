"""The bundled medical GlobalPointer model (``ner/medical_model``): loads, tags nested spans, scores
on its CMeEE dev slice what its model card says, and runs through the pipeline."""

import json

import pytest

from kgpipe.ner.data import read_examples
from kgpipe.ner.tagger import MentionTagger
from kgpipe.pipeline.commands.ner import evaluate_tagger
from tests.conftest import REPO_ROOT

MODEL = REPO_ROOT / "ner" / "medical_model"


@pytest.fixture(scope="module")
def tagger():
    return MentionTagger.load(MODEL)


def test_tags_nested_medical_entities(tagger):
    (spans,) = tagger.predict_spans(["超声心动图提示左心室肥厚，胸片示心脏增大。"])
    found = {(start, end, label) for start, end, label, *_ in spans}
    text = "超声心动图提示左心室肥厚，胸片示心脏增大。"
    named = {(text[s:e], label) for s, e, label in found}
    assert ("左心室肥厚", "sym") in named and ("心脏增大", "sym") in named
    # Nested: a body part inside a symptom, both kept.
    assert any(a != b and a[0] <= b[0] and b[1] <= a[1] for a in found for b in found)


def test_dev_slice_score_matches_the_model_card(tagger, shared_data, tmp_path):
    records = json.loads((shared_data / "cmeee" / "train.json").read_text(encoding="utf-8"))[-400:]
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    scores = evaluate_tagger(tagger, read_examples(dev))  # As `kgpipe ner eval` scores it.
    assert scores["micro"]["f1"] == pytest.approx(0.5322, abs=5e-4)
