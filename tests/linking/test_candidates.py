"""Fuzzy candidates: a differing CJK character costs more than a Latin typo."""

import random
import unicodedata

import pytest
from rapidfuzz.distance import Levenshtein

from kgpipe.linking.candidates import fuzzy_match
from kgpipe.linking.features import LABEL_FOR_CLASS, kb_classes
from kgpipe.linking.kb import load_entities
from kgpipe.linking.linker import EntityLinker, LinkerConfig, default_kb_path
from kgpipe.linking.normalize import normalize
from kgpipe.schemas.records import Document, Mention


@pytest.mark.parametrize("key, alias_key, expected", [
    ("一汽集团", "上汽集团", 0.25),                # one CJK character in four: FAW is not SAIC
    ("小米粒科技", "小米科技", 0.4),               # one CJK character inserted into five
    ("华为技术有线公司", "华为技术有限公司", 0.625),  # one in eight: a typo of a long name
    ("华义", "华为", 0.0),                        # the edit outweighs a two-character name
    ("huawey", "huawei", 1 - 1 / 6),             # one Latin letter in six
    ("nvdia", "nvidia", 1 - 1 / 6),
    ("iphone15", "iphone14", 1 - 3 / 8),         # a differing digit is another model
    ("apple", "apple", 1.0),
])
def test_fuzzy_match_by_script_and_length(key, alias_key, expected):
    assert fuzzy_match(key, alias_key) == pytest.approx(expected)


@pytest.mark.parametrize("key, alias_key",
                         [("一汽集团", "上汽集团"), ("小米粒科技", "小米科技"), ("huawey", "huawei")])
def test_unit_cjk_cost_is_plain_levenshtein_similarity(key, alias_key):
    assert fuzzy_match(key, alias_key, cjk_edit_cost=1.0) == pytest.approx(
        Levenshtein.normalized_similarity(key, alias_key))


def test_fuzzy_candidates_carry_the_calibrated_match(tiny_kb):
    linker = EntityLinker.load(LinkerConfig(kb_path=tiny_kb))
    (typo,) = linker.candidates("华为技术有线公司")
    (latin,) = linker.candidates("Huawey")
    assert typo.fuzzy and typo.match == pytest.approx(0.625) and typo.alias_prior == 1.0
    assert latin.fuzzy and latin.match == pytest.approx(1 - 1 / 6)
    (exact,) = linker.candidates("華為技術有限公司")
    assert not exact.fuzzy and exact.match == 0.95


def test_config_rejects_a_negative_cjk_edit_cost():
    with pytest.raises(ValueError, match=r"Received: fuzzy_cjk_edit_cost=-1"):
        LinkerConfig(fuzzy_cjk_edit_cost=-1)


def _one_edit_typos(with_description: bool = False) -> dict[str, int]:
    """Links one-edit typos of the default KB's aliases, each alone in a document.

    Latin aliases of 5+ letters get one letter replaced; names of 3-5 CJK characters get
    one character replaced by another CJK character of the KB (seeded, so the same every run).
    Typos that are themselves an alias are skipped. With ``with_description`` the CJK typo is
    followed by its entity's description, the strongest context a mention can have.
    """
    linker = EntityLinker.load(LinkerConfig())
    rng = random.Random(7)
    entities = load_entities(default_kb_path())
    cjk = sorted({c for e in entities for c in e.name if unicodedata.east_asian_width(c) == "W"})
    counts = dict(latin=0, latin_right=0, latin_wrong=0, cjk=0, cjk_linked=0, cjk_right=0)
    for entity in entities:
        classes = kb_classes(entity.types)
        label = LABEL_FOR_CLASS.get(classes[0], "MISC") if classes else "MISC"
        for alias in (entity.name, *entity.aliases):
            if alias.isascii() and alias.isalpha() and len(alias) >= 5:
                kind, pool = "latin", "abcdefghijklmnopqrstuvwxyz"
            elif 3 <= len(alias) <= 5 and all(unicodedata.east_asian_width(c) == "W" for c in alias):
                kind, pool = "cjk", cjk
            else:
                continue
            at = rng.randrange(len(alias))
            typo = alias[:at] + rng.choice([c for c in pool if c != alias[at].lower()]) + alias[at + 1:]
            if linker.index.exact(normalize(typo)):
                continue
            text = typo + "，" + entity.description if kind == "cjk" and with_description else typo
            (link,) = linker.link(Document("d", text), [Mention("d", 0, len(typo), typo, label, 0.9, "test")])
            counts[kind] += 1
            if kind == "latin":
                counts["latin_right"] += link.entity_id == entity.id
                counts["latin_wrong"] += link.entity_id not in (None, entity.id)
            else:
                counts["cjk_linked"] += link.entity_id is not None
                counts["cjk_right"] += link.entity_id == entity.id
    return counts


def test_one_edit_typos_of_default_kb_aliases():
    """Alone in a document, Latin typos link and short CJK near misses are NIL; with the
    entity's description as context, many CJK near misses link to it again."""
    alone = _one_edit_typos()
    assert alone["latin"] > 250 and alone["latin_right"] >= 0.95 * alone["latin"]
    assert alone["latin_wrong"] <= 0.02 * alone["latin"]
    assert alone["cjk"] > 800 and alone["cjk_linked"] <= 0.01 * alone["cjk"]
    in_context = _one_edit_typos(with_description=True)
    assert in_context["cjk_right"] >= 0.4 * in_context["cjk"]


def test_cached_candidates_equal_fresh_ones_and_callers_cannot_change_them(tiny_kb):
    from kgpipe.linking.candidates import CandidateGenerator

    index = EntityLinker.load(LinkerConfig(kb_path=tiny_kb)).index
    cached, fresh = CandidateGenerator(index), CandidateGenerator(index, cache_size=0)
    keys = [normalize(k) for k in ("华为技术有线公司", "Huawey", "華為技術有限公司", "苹果", "没有这个")]
    for key in keys * 2:
        assert cached(key) == fresh(key)
    first = cached(keys[0])
    first.clear()  # a caller's list is its own
    assert cached(keys[0]) == fresh(keys[0]) != []
    assert cached._cached.cache_info().hits == len(keys) + 2  # second pass + the two reads above
    with pytest.raises(ValueError, match="cache_size=-1"):
        CandidateGenerator(index, cache_size=-1)
