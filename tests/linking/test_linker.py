import copy
import dataclasses
import shutil

import pytest

from kgpipe.linking.index_build import build_index, content_hash_of_file
from kgpipe.linking.kb import load_entities
from kgpipe.linking.linker import EntityLinker, LinkerConfig, default_kb_path, nil_key
from kgpipe.schemas.records import Document, Mention


def _doc(text, *spans, doc_id="d"):
    """A document and its mentions from (surface, label) pairs (first occurrence after the previous)."""
    document = Document(id=doc_id, text=text)
    mentions, cursor = [], 0
    for surface, label in spans:
        start = text.index(surface, cursor)
        mentions.append(Mention(doc_id, start, start + len(surface), surface, label, 0.9, "test"))
        cursor = start + len(surface)
    return document, mentions


@pytest.fixture
def linker(tiny_kb):
    return EntityLinker.load(LinkerConfig(kb_path=tiny_kb, dictionary_mentions=True))


def test_config_validation_echoes_bad_values():
    with pytest.raises(ValueError, match=r"`top_k` must be a positive integer. Received: top_k=0"):
        LinkerConfig(top_k=0)
    with pytest.raises(ValueError, match=r"Received: nil_threshold=1.5"):
        LinkerConfig(nil_threshold=1.5)
    with pytest.raises(ValueError, match=r"Received: kb_format='xml'"):
        LinkerConfig(kb_format="xml")
    with pytest.raises(ValueError, match=r"weight_context=-1"):
        LinkerConfig(weight_context=-1)
    with pytest.raises(ValueError, match="at least one weight"):
        LinkerConfig(weight_prior=0, weight_match=0, weight_type=0, weight_context=0, weight_coherence=0)


def test_fruit_vs_company_by_context(linker):
    document, mentions = _doc("苹果发布了新款iPhone手机和Mac电脑", ("苹果", "ORG"))
    (company,) = linker.link(document, mentions)
    document, mentions = _doc("我每天吃一个苹果，味甜，富含维生素的水果", ("苹果", "PRODUCT"))
    (fruit,) = linker.link(document, mentions)
    assert company.entity_id == "Q312" and company.entity_name == "苹果公司"
    assert company.entity_types == ("Organization", "Brand")
    assert fruit.entity_id == "Q89"
    assert {c.entity_id for c in company.alternatives} == {"Q312", "Q89"}


def test_same_name_districts_by_city(linker):
    document, mentions = _doc("他住在长春市朝阳区", ("长春市", "LOC"), ("朝阳区", "LOC"))
    assert [link.entity_id for link in linker.link(document, mentions)] == ["kgp:changchun", "kgp:chaoyang-cc"]
    document, mentions = _doc("北京市朝阳区的商圈", ("北京市", "LOC"), ("朝阳区", "LOC"))
    assert [link.entity_id for link in linker.link(document, mentions)] == ["Q956", "kgp:chaoyang-bj"]


@pytest.mark.parametrize("surface", ["苹果公司", "蘋果公司", "苹果 公司", "ＡＰＰＬＥ", "apple", "Apple  Inc."])
def test_spelling_variants_link_like_the_canonical_form(linker, surface):
    document, mentions = _doc(f"{surface}发布了新款手机", (surface, "ORG"))
    (link,) = linker.link(document, mentions)
    assert link.entity_id == "Q312"


def test_fuzzy_candidate_for_a_typo(linker):
    document, mentions = _doc("华为技术有线公司发布新手机", ("华为技术有线公司", "ORG"))
    (link,) = linker.link(document, mentions)
    assert link.entity_id == "Q160120"
    strict = EntityLinker.load(dataclasses.replace(linker.config, fuzzy=False))
    assert strict.link(document, mentions)[0].is_nil


def test_nil_has_a_stable_key_and_no_entity(linker):
    document, mentions = _doc("字节跳动和字節跳動发布了产品", ("字节跳动", "ORG"), ("字節跳動", "org"))
    first, second = linker.link(document, mentions)
    assert first.is_nil and first.entity_id is None and first.entity_name is None
    assert first.nil_key == "ORG|字节跳动" == second.nil_key == nil_key("字节 跳动", "ORG")
    assert nil_key("字节跳动", "PER") != first.nil_key
    assert first.alternatives == ()


def test_type_mismatch_and_threshold_give_nil(linker):
    document, mentions = _doc("华为在奥运会上夺冠", ("华为", "ORG"))
    assert linker.link(document, mentions)[0].entity_id == "Q160120"
    person = Mention("d", 0, 2, "华为", "PER", 0.9, "test")
    (as_person,) = linker.link(document, [person])
    assert as_person.is_nil and as_person.nil_key == "PER|华为"
    picky = EntityLinker.load(dataclasses.replace(linker.config, nil_threshold=0.99))
    (link,) = picky.link(document, mentions)
    assert link.is_nil and 0.0 < link.score < 0.99 and link.alternatives[0].entity_id == "Q160120"


def test_scores_alternatives_and_ordering(linker):
    document, mentions = _doc("苹果和北京和朝阳区", ("苹果", "ORG"), ("北京", "LOC"), ("朝阳区", "LOC"))
    for link in linker.link(document, mentions):
        scores = [c.score for c in link.alternatives]
        assert all(0.0 <= s <= 1.0 for s in scores) and 0.0 <= link.score <= 1.0
        assert link.alternatives == tuple(sorted(link.alternatives, key=lambda c: (-c.score, c.entity_id)))
        assert link.kb_version == linker.kb_version and len(link.alternatives) <= linker.config.top_k


def test_deterministic_and_never_mutates(linker):
    document, mentions = _doc("苹果在北京市朝阳区开店，蘋果很甜", ("苹果", "ORG"), ("北京市", "LOC"),
                              ("朝阳区", "LOC"), ("蘋果", "PRODUCT"))
    before = copy.deepcopy((document, mentions))
    runs = [linker.link(document, mentions) for _ in range(3)]
    fresh = EntityLinker.load(linker.config).link(document, mentions)
    assert runs[0] == runs[1] == runs[2] == fresh
    assert (document, mentions) == before
    assert [(l.start, l.end) for l in runs[0]] == [(m.start, m.end) for m in mentions]


def test_empty_inputs(linker):
    assert linker.link(Document(id="d", text=""), []) == []
    assert linker.detect_mentions(Document(id="d", text="")) == []


def test_detect_mentions_with_offsets_and_no_overlap(linker):
    document, mentions = _doc("蘋果公司在北京朝陽區開店，Apple和pineapple", ("蘋果公司", "ORG"))
    found = linker.detect_mentions(document, mentions)
    assert [(m.text, m.label) for m in found] == [("北京朝陽區", "LOC"), ("Apple", "ORG")]
    for mention in found:
        assert document.text[mention.start:mention.end] == mention.text
        assert mention.model == f"dictionary:{linker.kb_version}" and 0.0 <= mention.score <= 1.0
    off = EntityLinker.load(dataclasses.replace(linker.config, dictionary_mentions=False))
    assert off.detect_mentions(document, mentions) == []


def test_entity_lookup(linker):
    assert linker.entity("Q312").name == "苹果公司"
    assert linker.entity("missing") is None


def test_overfit_save_reload_identical_links(tiny_kb, tmp_path):
    """Index a tiny KB, save it, reload the index directory: identical links."""
    from_file = EntityLinker.load(LinkerConfig(kb_path=tiny_kb))
    index_dir = build_index(load_entities(tiny_kb), tmp_path / "saved", name="tiny",
                            content_hash=content_hash_of_file(tiny_kb))
    moved = shutil.copytree(index_dir, tmp_path / "moved")
    from_index = EntityLinker.load(LinkerConfig(kb_path=str(moved)))
    assert from_index.kb_version == from_file.kb_version
    document, mentions = _doc("苹果发布iPhone，北京市朝阳区和长春朝阳区，字节跳动", ("苹果", "ORG"),
                              ("北京市", "LOC"), ("朝阳区", "LOC"), ("长春朝阳区", "LOC"), ("字节跳动", "ORG"))
    assert from_index.link(document, mentions) == from_file.link(document, mentions)


def test_default_kb_loads_and_links():
    assert default_kb_path().is_file()
    linker = EntityLinker.load(LinkerConfig())
    assert linker.kb_version.startswith("default_kb@")
    document, mentions = _doc("华为和腾讯在深圳", ("华为", "ORG"), ("腾讯", "ORG"), ("深圳", "LOC"))
    assert [l.entity_id for l in linker.link(document, mentions)] == ["Q160120", "Q860580", "kgp:shenzhen"]
    assert len({e.id for e in load_entities(default_kb_path())}) >= 400


def test_near_miss_cjk_names_are_nil_but_latin_typos_link():
    """One character from 上汽集团 is 一汽集团 (FAW, not in the KB); one letter from Nvidia is a typo."""
    linker = EntityLinker.load(LinkerConfig())
    document, mentions = _doc("长春市朝阳区的汽车零部件企业与一汽集团签订了长期供货协议。",
                              ("长春市", "LOC"), ("朝阳区", "LOC"), ("一汽集团", "ORG"))
    *located, faw = linker.link(document, mentions)
    assert [l.entity_id for l in located] == ["kgp:changchun", "kgp:chaoyang-changchun"]
    assert faw.is_nil and faw.nil_key == "ORG|一汽集团" and faw.alternatives[0].entity_id == "kgp:saic"
    # Charging CJK edits like Latin ones brings back the false link.
    script_blind = EntityLinker.load(LinkerConfig(fuzzy_cjk_edit_cost=1.0))
    assert script_blind.link(document, mentions)[2].entity_id == "kgp:saic"
    document, mentions = _doc("小米粒科技是一家做儿童玩具的小公司", ("小米粒科技", "ORG"))
    assert linker.link(document, mentions)[0].is_nil
    document, mentions = _doc("Nvdia的GPU显卡供不应求，Huawey在深圳发布了新款手机",
                              ("Nvdia", "ORG"), ("Huawey", "ORG"), ("深圳", "LOC"))
    assert [l.entity_id for l in linker.link(document, mentions)] == ["kgp:nvidia", "Q160120", "kgp:shenzhen"]


def test_dictionary_short_latin_aliases_must_be_capitals(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "Q30", "name": "美国", "aliases": ["US"], "types": ["Country"]}\n', "utf-8")
    linker = EntityLinker.load(LinkerConfig(kb_path=str(kb), dictionary_mentions=True))
    document = Document(id="d", text="tell us about the US economy and 美国")
    assert [m.text for m in linker.detect_mentions(document)] == ["US", "美国"]


def test_dictionary_respects_word_boundaries_and_ambiguous_labels(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "u", "name": "东京大学", "aliases": ["东大"], "types": ["Organization"]}\n'
                  '{"id": "c", "name": "苹果公司", "aliases": ["苹果"], "types": ["Organization"]}\n'
                  '{"id": "f", "name": "苹果", "types": ["Fruit"]}\n', "utf-8")
    document = Document(id="d", text="公司召开股东大会，东大的学生吃苹果")
    linker = EntityLinker.load(LinkerConfig(kb_path=str(kb), dictionary_mentions=True))
    assert [(m.text, m.label) for m in linker.detect_mentions(document)] == [("东大", "ORG"), ("苹果", "MISC")]
    loose = EntityLinker.load(dataclasses.replace(linker.config, dictionary_word_boundaries=False))
    assert [m.start for m in loose.detect_mentions(document)] == [5, 9, 15]


def test_pickled_linker_reloads_from_its_config(linker):
    import pickle

    document, mentions = _doc("苹果发布了新款iPhone手机", ("苹果", "ORG"))
    copy_ = pickle.loads(pickle.dumps(linker))
    assert copy_.config == linker.config and copy_.link(document, mentions) == linker.link(document, mentions)


def _full_width(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_every_default_kb_name_survives_spelling_variants():
    """Traditional, full-width, upper/lower case and spaced spellings of every default-KB
    name give the same candidates as the name itself."""
    from opencc import OpenCC

    to_traditional = OpenCC("s2t")
    linker = EntityLinker.load(LinkerConfig(fuzzy=False))
    for entity in load_entities(default_kb_path()):
        expected = {c.entity_index for c in linker.candidates(entity.name)}
        assert linker.index.entity_index(entity.id) in expected
        spaced = " ".join(entity.name)
        for variant in (to_traditional.convert(entity.name), _full_width(entity.name), entity.name.upper(),
                        entity.name.lower(), spaced):
            assert {c.entity_index for c in linker.candidates(variant)} == expected, (entity.name, variant)
