"""Tests for kg.iri: stable, valid, deterministic IRIs."""

import pyoxigraph
import pytest

from kgpipe.kg import iri

BASE = "https://example.org/kg/"


def _parses(term: str) -> bool:
    data = f"<{term}> <http://example.org/p> <http://example.org/o> .\n"
    return len(list(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_TRIPLES))) == 1


def test_entity_iri_is_stable_and_percent_encoded():
    assert iri.entity_iri(BASE, "10001") == "https://example.org/kg/entity/10001"
    assert iri.entity_iri(BASE, "Q 42/a>b") == "https://example.org/kg/entity/Q%2042%2Fa%3Eb"
    assert iri.entity_iri(BASE, "阿里") == "https://example.org/kg/entity/%E9%98%BF%E9%87%8C"
    # NFC: a composed and a decomposed "é" give the same IRI.
    assert iri.entity_iri(BASE, "caf\u00e9") == iri.entity_iri(BASE, "cafe\u0301")


def test_nil_iri_hashes_key_deterministically():
    a = iri.nil_iri(BASE, "张勇|PER")
    assert a == iri.nil_iri(BASE, "张勇|PER")
    assert a != iri.nil_iri(BASE, "张勇|ORG")
    assert a.startswith(BASE + "nil/") and len(a.rsplit("/", 1)[1]) == 32
    # Pinned value: changing the hashing scheme would silently re-mint every NIL entity.
    assert a == iri.nil_iri("https://other.org/", "张勇|PER").replace("https://other.org/", BASE)


def test_nil_iri_pinned():
    # Literal values, not the formula again: a change to how NIL IRIs are minted must fail here
    # (it would re-key every NIL entity of every earlier run).
    assert iri.nil_iri(BASE, "x|PER") == BASE + "nil/37dbe0f91693bacf1762b8c425eef4ee"
    assert iri.nil_iri(BASE, "华为|ORG") == BASE + "nil/ebdffbbe723c90b662a61bbe6b6d159b"


def test_mention_iri_uses_rfc5147_char_span():
    assert iri.mention_iri(BASE, "doc 1", 3, 5) == BASE + "doc/doc%201#char=3,5"


@pytest.mark.parametrize("kb_id", ["a b", "<>\"{}|^`\\", "\n\r\t\x00", "\ud800x", "%zz", "#frag#x", "[::1]", "\uffff\U0010ffff"])
def test_hostile_ids_give_valid_iris(kb_id):
    assert _parses(iri.entity_iri(BASE, kb_id))
    assert _parses(iri.document_iri(BASE, kb_id))
    assert _parses(iri.nil_iri(BASE, kb_id))


@pytest.mark.parametrize("raw", [
    "http://example.org/a b", "http://example.org/<x>", "http://example.org/a#b#c", "http://example.org/%zz",
    "http://example.org/\ud800", "http://example.org/[x]", "urn:x:\x01", "http://example.org/\ufdd0",
])
def test_valid_iri_repairs_invalid_characters(raw):
    fixed = iri.valid_iri(raw)
    assert fixed != raw
    assert _parses(fixed)


def test_valid_iri_keeps_valid_iris():
    for good in ["http://example.org/a?b=c#d", "https://例子.中国/路径", "urn:isbn:123", "http://[::1]:8080/x"]:
        assert iri.valid_iri(good) == good
        assert _parses(good)


@pytest.mark.parametrize("bad", ["relative/path", "", "http://host:port/x", "http://a b/"])
def test_valid_iri_rejects_unrepairable(bad):
    with pytest.raises(ValueError, match="Received"):
        iri.valid_iri(bad)


def test_check_base_iri_echoes_bad_value():
    with pytest.raises(ValueError, match="base_iri='https://x.org/no-slash'"):
        iri.check_base_iri("https://x.org/no-slash")
    with pytest.raises(ValueError, match="valid form"):
        iri.check_base_iri("https://x.org/a b/")


def test_language_tag():
    assert iri.language_tag("zh_CN") == "zh-CN"
    assert iri.language_tag("zh-Hans") == "zh-Hans"
    assert iri.language_tag("not a tag") is None
    assert iri.language_tag("") is None
