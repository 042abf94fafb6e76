import json
import pathlib

import pytest

from kgpipe.linking.evaluation import GoldError, evaluate, read_gold, score
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.schemas.records import Candidate, Link

GOLD = pathlib.Path(__file__).parent / "data" / "gold.jsonl"


def _link(entity_id, alternatives=()):
    return Link(doc_id="d", start=0, end=1, text="x", label="ORG", entity_id=entity_id, score=0.5,
                alternatives=tuple(Candidate(a, 0.5) for a in alternatives),
                nil_key=None if entity_id else "ORG|x")


def test_metrics_on_a_hand_case():
    pairs = [
        ("A", _link("A", ["A", "B"])),   # correct
        ("A", _link("B", ["B", "A"])),   # wrong, gold in candidates
        ("C", _link(None, ["D"])),       # wrong: NIL, gold not in candidates
        (None, _link(None)),             # correct NIL
        (None, _link("E", ["E"])),       # wrong: should be NIL
    ]
    scores = score(pairs, k=5, seconds=0.5)
    assert (scores.mentions, scores.in_kb_mentions, scores.nil_mentions) == (5, 3, 2)
    assert scores.accuracy == pytest.approx(2 / 5)
    assert scores.in_kb_accuracy == pytest.approx(round(1 / 3, 4))
    assert scores.nil_precision == pytest.approx(0.5) and scores.nil_recall == pytest.approx(0.5)
    assert scores.nil_f1 == pytest.approx(0.5)
    assert scores.candidate_recall_at_k == pytest.approx(round(2 / 3, 4))
    assert scores.mentions_per_second == 10.0 and len(scores.errors) == 3
    assert scores.nil_clusters == 1  # both NIL links share the key "ORG|x"
    assert score(pairs, k=1).candidate_recall_at_k == pytest.approx(round(1 / 3, 4))


def test_gold_set_quality_on_the_default_kb():
    linker = EntityLinker.load(LinkerConfig())
    gold = list(read_gold(GOLD))
    scores = evaluate(linker, gold)
    assert scores.mentions >= 100 and scores.nil_mentions >= 8
    assert scores.accuracy >= 0.95 and scores.in_kb_accuracy >= 0.95
    assert scores.nil_precision >= 0.9 and scores.nil_recall >= 0.9
    assert scores.candidate_recall_at_k >= 0.97


def test_gold_near_misses_are_nil_and_typos_link():
    """The fuzzy stage's gold cases, mention by mention: CJK near-miss names (一汽集团 vs
    上汽集团, 小米粒科技 vs 小米科技) are NIL; a long CJK typo and Latin typos still link."""
    linker = EntityLinker.load(LinkerConfig())
    ids = {"near-miss-1", "near-miss-2", "nil-4", "variant-typo", "variant-latin-typo-1",
           "variant-latin-typo-2"}
    cases = [g for g in read_gold(GOLD) if g.document.id in ids]
    assert len(cases) == 6
    for gold in cases:
        predicted = [link.entity_id for link in linker.link(gold.document, gold.mentions)]
        assert predicted == list(gold.kb_ids), gold.document.id


def test_gold_spelling_variants_ignore_the_fuzzy_stage():
    """Normalised variants match exactly, so their links are the same with fuzzy matching off."""
    fuzzy = EntityLinker.load(LinkerConfig())
    exact_only = EntityLinker.load(LinkerConfig(fuzzy=False))
    variants = [g for g in read_gold(GOLD)
                if g.document.id.startswith("variant-") and "typo" not in g.document.id]
    assert len(variants) >= 6
    for gold in variants:
        links = fuzzy.link(gold.document, gold.mentions)
        assert links == exact_only.link(gold.document, gold.mentions), gold.document.id
        assert [link.entity_id for link in links] == list(gold.kb_ids), gold.document.id


def test_gold_file_matches_its_generator():
    from tests.linking import make_gold

    lines = GOLD.read_text("utf-8").splitlines()
    assert len(lines) == len(make_gold.SENTENCES)
    for line, (doc_id, marked) in zip(lines, make_gold.SENTENCES):
        record = json.loads(line)
        text, mentions = make_gold.parse(marked)
        assert (record["id"], record["text"], record["mentions"]) == (doc_id, text, mentions)


def test_bad_gold_names_the_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "text": "abc", "mentions": []}\n'
                    '{"id": "b", "text": "abc", "mentions": [{"start": 1, "end": 9, "label": "ORG", "kb_id": null}]}\n',
                    "utf-8")
    with pytest.raises(GoldError, match=r"gold.jsonl:2: bad gold record .*outside the text"):
        list(read_gold(path))
