"""kg.text_relations: typed relations -> statements between resolved entities, with provenance."""

import pytest

from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.text_relations import TypedRelation, resolve
from kgpipe.kg.relations import ResolvedMention
from kgpipe.schemas.records import Document, Link, Mention, TermKind
from kgpipe.schemas.vocab import KGP, PROV, RDF

BASE = "https://example.org/"
TEXT = "小米公司的创始人是雷军。它成立于2010年。"


def _builder():
    return TripleBuilder(BuilderConfig("run-1", base_iri=BASE, extractor="kgpipe/test"), relation_extractors=())


def _records():
    doc = Document(id="d1", text=TEXT, language="zh")
    mentions = [Mention("d1", 0, 4, "小米公司", "ORG", 0.9, "ner-test"), Mention("d1", 9, 11, "雷军", "PER", 0.8, "ner-test")]
    links = [Link("d1", 0, 4, "小米公司", "ORG", "Q1", 1.0),
             Link("d1", 9, 11, "雷军", "PER", None, 0.5, nil_key="雷军")]
    return doc, mentions, links


def test_founder_becomes_a_typed_statement_with_provenance():
    doc, mentions, links = _records()
    rel = TypedRelation((0, 4), "创始人", (9, 11), (0, 12), 0.75, "kgpipe-re-test")
    triples = _builder().mention_triples(doc, mentions, links, [rel])
    founder = [t for t in triples if t.predicate == str(KGP.founder)]
    assert len(founder) == 1
    f = founder[0]
    builder = _builder()
    assert (f.subject, f.object) == (builder.entity_iri(links[0]), builder.entity_iri(links[1]))
    assert f.subject != f.object
    assert (f.doc_id, f.start, f.end, f.confidence) == ("d1", 0, 12, 0.75)
    statement = {t.predicate: t.object for t in triples if t.subject.startswith(f"{BASE}relation/")}
    assert statement[str(RDF.type)] == str(KGP.RelationStatement)
    assert statement[str(RDF.subject)] == f.subject and statement[str(RDF.object)] == f.object
    assert statement[str(RDF.predicate)] == str(KGP.founder)
    assert statement[str(KGP.relationModel)] == "kgpipe-re-test"
    assert (statement[str(KGP.startOffset)], statement[str(KGP.endOffset)]) == ("0", "12")
    assert statement[str(PROV.wasDerivedFrom)] == f"{BASE}doc/d1"


def test_literal_predicates_take_the_object_text():
    doc, mentions, links = _records()
    rel = TypedRelation((0, 4), "成立日期", (16, 21), (12, 22), 0.6, "m")
    date = [t for t in _builder().mention_triples(doc, mentions, links, [rel]) if t.predicate == str(KGP.foundingDate)]
    assert [(t.object, t.object_kind) for t in date] == [("2010年", TermKind.LITERAL)]


def test_unknown_predicates_and_self_relations_are_left_out():
    doc, mentions, links = _records()
    rels = [TypedRelation((0, 4), "不存在", (9, 11), (0, 12), 0.9, "m"),     # predicate not in the ontology
            TypedRelation((0, 4), "创始人", (0, 3), (0, 12), 0.9, "m")]      # the same entity twice
    triples = _builder().mention_triples(doc, mentions, links, rels)
    assert not [t for t in triples if t.subject.startswith(f"{BASE}relation/") or t.predicate == str(KGP.founder)]


def test_a_span_without_mention_gets_a_minted_entity():
    from kgpipe.kg import iri as iris

    doc, mentions, links = _records()
    rel = TypedRelation((0, 4), "创始人", (12, 13), (0, 12), 0.9, "m")   # "它": NER found nothing there
    triples = _builder().mention_triples(doc, mentions, links, [rel])
    minted = iris.nil_iri(BASE, "RE|它")
    assert [t.object for t in triples if t.predicate == str(KGP.founder)] == [minted]
    facts = {(t.predicate, t.object) for t in triples if t.subject == minted}
    assert (str(KGP.minted), "true") in facts and (str(RDF.type), str(KGP.Entity)) in facts


def test_resolve_prefers_exact_span_then_overlap_of_half():
    ms = [ResolvedMention(0, 4, "小米公司", "e:1", KGP.Organization, 1.0),
          ResolvedMention(0, 2, "小米", "e:2", KGP.Brand, 1.0)]
    assert resolve((0, 2), ms).entity == "e:2"
    assert resolve((1, 4), ms).entity == "e:1"
    assert resolve((3, 9), ms) is None
    assert resolve((0, 8), ms) is None  # half of the span only: not that entity


def test_bad_relation_values_are_rejected():
    with pytest.raises(ValueError, match="confidence"):
        TypedRelation((0, 1), "作者", (2, 3), (0, 4), 1.5, "m")
    with pytest.raises(ValueError, match="subject"):
        TypedRelation((3, 3), "作者", (2, 3), (0, 4), 0.5, "m")


def test_a_minted_entity_takes_the_class_of_its_argument_type():
    from kgpipe.kg import iri as iris

    doc, mentions, links = _records()
    rel = TypedRelation((0, 4), "创始人", (12, 13), (0, 12), 0.9, "m", subject_type="企业", object_type="人物")
    triples = _builder().mention_triples(doc, mentions, links, [rel])
    minted = iris.nil_iri(BASE, "RE|它")
    types = {t.object for t in triples if t.subject == minted and t.predicate == str(RDF.type)}
    assert types == {str(KGP.Person)}
    # A type no class of ours fits stays kgp:Entity.
    rel = TypedRelation((0, 4), "创始人", (12, 13), (0, 12), 0.9, "m", object_type="奖项")
    triples = _builder().mention_triples(doc, mentions, links, [rel])
    assert {t.object for t in triples if t.subject == minted and t.predicate == str(RDF.type)} == {str(KGP.Entity)}
