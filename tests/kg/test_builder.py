"""Tests for kg.builder: triples compared as RDF graphs (isomorphism), determinism, relations."""

import dataclasses

import pyoxigraph
import pytest
import rdflib
from rdflib.compare import isomorphic, to_isomorphic

from kgpipe.kg import iri
from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.rdf import ntriples_line
from kgpipe.schemas.records import Document, Entity, Link, Mention, Triple
from tests.kg import sample

BASE = "https://example.org/kg/"
PREFIXES = """
@prefix kgp: <https://w3id.org/kgpipe/ontology#> . @prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix r: <https://example.org/kg/> .
"""


def _graph(triples) -> rdflib.Graph:
    return rdflib.Graph().parse(data="".join(map(ntriples_line, triples)), format="nt")


def _builder(**kw) -> TripleBuilder:
    return TripleBuilder(BuilderConfig("run-1", base_iri=BASE, extractor="kgpipe/test", **kw))


def test_document_and_mentions_match_expected_graph():
    doc = Document("d1", "张勇在杭州。", source="in.jsonl:3", metadata={"title": "标题"})
    mentions = [Mention("d1", 0, 2, "张勇", "PER", 0.5, "m1"), Mention("d1", 3, 5, "杭州", "LOC", 0.75, "m1")]
    links = [Link("d1", 0, 2, "张勇", "PER", None, 0.25, nil_key="张勇|PER", kb_version="kb1"),
             Link("d1", 3, 5, "杭州", "LOC", "E3", 1.0, entity_name="杭州", entity_types=("城市",), kb_version="kb1")]
    b = _builder()
    nil = iri.nil_iri(BASE, "张勇|PER").rsplit("/", 1)[1]
    expected = rdflib.Graph().parse(data=PREFIXES + f"""
    <https://example.org/kg/doc/d1> a kgp:Document, nif:Context ; dcterms:identifier "d1" ; kgp:source "in.jsonl:3" ;
        schema:inLanguage "zh" ; dcterms:title "标题"@zh ; nif:isString "张勇在杭州。" ; kgp:inRun r:run\\/run-1 .
    <https://example.org/kg/doc/d1#char=0,2> a kgp:Mention, nif:Phrase ; nif:referenceContext <https://example.org/kg/doc/d1> ;
        nif:beginIndex "0"^^xsd:integer ; nif:endIndex "2"^^xsd:integer ; nif:anchorOf "张勇" ;
        kgp:nerLabel "PER" ; kgp:nerScore "0.5"^^xsd:double ; kgp:nerModel "m1" ;
        kgp:refersTo <https://example.org/kg/nil/{nil}> ; kgp:linkScore "0.25"^^xsd:double ; kgp:kbVersion "kb1" ;
        prov:wasGeneratedBy r:run\\/run-1 .
    <https://example.org/kg/nil/{nil}> a kgp:Person ; rdfs:label "张勇"@zh ; kgp:minted true .
    <https://example.org/kg/doc/d1#char=3,5> a kgp:Mention, nif:Phrase ; nif:referenceContext <https://example.org/kg/doc/d1> ;
        nif:beginIndex "3"^^xsd:integer ; nif:endIndex "5"^^xsd:integer ; nif:anchorOf "杭州" ;
        kgp:nerLabel "LOC" ; kgp:nerScore "0.75"^^xsd:double ; kgp:nerModel "m1" ;
        kgp:refersTo r:entity\\/E3 ; kgp:linkScore "1.0"^^xsd:double ; kgp:kbVersion "kb1" ; prov:wasGeneratedBy r:run\\/run-1 .
    r:entity\\/E3 a kgp:Location ; kgp:kbId "E3" ; rdfs:label "杭州"@zh .
    """, format="turtle")
    got = _graph(b.document_triples(doc) + b.mention_triples(doc, mentions, links))
    assert isomorphic(got, expected), (to_isomorphic(got) - to_isomorphic(expected)).serialize(format="nt")


def test_triples_carry_provenance():
    doc, (mentions, links) = sample.DOCUMENTS[0], sample.mentions_and_links()["news-1"]
    triples = _builder().mention_triples(doc, mentions, links)
    assert {t.run_id for t in triples} == {"run-1"} and {t.extractor for t in triples} == {"kgpipe/test"}
    assert {t.doc_id for t in triples} == {"news-1"}
    refers = [t for t in triples if t.predicate.endswith("#refersTo")]
    assert [(t.start, t.end, t.confidence) for t in refers] == [(l.start, l.end, l.score) for l in links]


def test_mention_without_link_refers_to_nothing():
    doc = Document("d", "王五来了")
    triples = _builder().mention_triples(doc, [Mention("d", 0, 2, "王五", "PER", 0.9, "m")], [])
    assert not [t for t in triples if t.predicate.endswith("#refersTo")]
    assert len([t for t in triples if t.subject.endswith("#char=0,2")]) == 10


def test_entity_triples_match_expected_graph():
    entity = Entity("E 1", "马云", aliases=("Jack Ma", "马云", "Jack Ma"), types=("Person", "人物", "Thing"), description="创始人")
    expected = rdflib.Graph().parse(data=PREFIXES + """
    <https://example.org/kg/entity/E%201> a kgp:Person ; rdfs:label "马云"@zh ; skos:prefLabel "马云"@zh ;
        skos:altLabel "Jack Ma"@zh ; schema:description "创始人"@zh ; kgp:kbId "E 1" .
    """, format="turtle")
    assert isomorphic(_graph(_builder().entity_triples(entity)), expected)
    untyped = _builder().entity_triples(Entity("X", "某物"), language="en")
    assert any(t.object.endswith("#Entity") for t in untyped) and {t.language for t in untyped} >= {"en"}


def test_rerun_gives_identical_triples_and_config_changes_them():
    def build(builder):
        out = []
        for doc in sample.DOCUMENTS:
            mentions, links = sample.mentions_and_links()[doc.id]
            out += builder.document_triples(doc) + builder.mention_triples(doc, mentions, links)
        return out
    assert build(_builder()) == build(_builder())
    other = build(TripleBuilder(BuilderConfig("run-2", base_iri=BASE, extractor="kgpipe/test")))
    assert other != build(_builder())


def test_document_text_can_be_left_out():
    doc = sample.DOCUMENTS[0]
    assert not [t for t in _builder(document_text=False).document_triples(doc) if t.object == doc.text]


def test_cooccurrence_pairs_per_sentence():
    doc = sample.DOCUMENTS[0]  # 马云创办了阿里巴巴。马云在杭州会见了张勇。
    _, links = sample.mentions_and_links()["news-1"]
    b = _builder()
    ma, ali, hz = (iri.entity_iri(BASE, k) for k in ("E1", "E2", "E3"))
    zy = iri.nil_iri(BASE, "张勇|PER")
    pairs = b.cooccurrence_pairs(doc, links)
    assert sorted(pairs) == sorted([tuple(sorted(p)) for p in [(ma, ali), (ma, hz), (ma, zy), (hz, zy)]])
    assert all(a < b for a, b in pairs)


def test_cooccurrence_triples_are_weighted_statements():
    b = _builder()
    a, c = iri.entity_iri(BASE, "A"), iri.entity_iri(BASE, "B")
    g = _graph(b.cooccurrence_triples((a, c), 3))
    rows = list(g.query("""PREFIX kgp: <https://w3id.org/kgpipe/ontology#>
        SELECT ?s ?o ?n WHERE { ?s kgp:coOccursWith ?o . ?st rdf:subject ?s ; rdf:predicate kgp:coOccursWith ;
        rdf:object ?o ; kgp:cooccurrenceCount ?n ; a kgp:Cooccurrence }"""))
    assert [(str(s), str(o), int(n)) for s, o, n in rows] == [(a, c, 3)]
    with pytest.raises(ValueError, match="a < b"):
        b.cooccurrence_triples((c, a), 1)
    with pytest.raises(ValueError, match="count=0"):
        b.cooccurrence_triples((a, c), 0)


def test_cooccurrence_columns_are_the_triples_of_each_pair_in_order():
    b = _builder()
    ids = [iri.entity_iri(BASE, k) for k in ("A", "B", "C")] + [iri.nil_iri(BASE, "张勇|PER")]
    pairs = [(x, y) for x in sorted(ids) for y in sorted(ids) if x < y]
    counts = list(range(1, len(pairs) + 1))
    columns = b.cooccurrence_columns(pairs, counts)
    assert list(columns) == [f.name for f in dataclasses.fields(Triple)]
    rows = [Triple(*row) for row in zip(*columns.values(), strict=True)]
    assert rows == [t for pair, n in zip(pairs, counts) for t in b.cooccurrence_triples(pair, n)]
    assert b.cooccurrence_columns([], [])["subject"] == []
    with pytest.raises(ValueError, match="equal lengths"):
        b.cooccurrence_columns(pairs, counts[:-1])
    for bad in (True, 2.0, -1):
        with pytest.raises(ValueError, match="positive integer"):
            b.cooccurrence_columns(pairs[:1], [bad])


def test_brand_of_product_from_text():
    doc, (mentions, links) = sample.DOCUMENTS[1], sample.mentions_and_links()["shop-1"]
    triples = _builder().mention_triples(doc, mentions, links)
    brand = {(t.subject, t.object) for t in triples if t.predicate.endswith("#brand")}
    phone, power, xiaomi = (iri.nil_iri(BASE, k) for k in ("手机|HC", "充电宝|HC", "小米|HP"))
    assert brand == {(phone, iri.entity_iri(BASE, "E4")), (power, xiaomi)}


def test_builder_output_parses_strictly():
    b = _builder()
    lines = []
    for doc in sample.DOCUMENTS:
        mentions, links = sample.mentions_and_links()[doc.id]
        lines += map(ntriples_line, b.document_triples(doc) + b.mention_triples(doc, mentions, links))
    assert len(list(pyoxigraph.parse("".join(lines), pyoxigraph.RdfFormat.N_TRIPLES))) == len(lines)


@pytest.mark.parametrize("kwargs, message", [
    ({"run_id": ""}, "run_id=''"),
    ({"run_id": "r", "base_iri": "https://x.org/base"}, "base_iri='https://x.org/base'"),
    ({"run_id": "r", "document_text": "yes"}, "document_text='yes'"),
    ({"run_id": "r", "extractor": None}, "extractor=None"),
])
def test_config_validation_echoes_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BuilderConfig(**kwargs)


def test_relation_extractors_plug_in():
    from kgpipe.kg.relations import Relation

    class FoundedBy:  # stands in for a learned relation-extraction model
        def extract(self, document, mentions):
            people = [m for m in mentions if m.entity_class.endswith("#Person")]
            orgs = [m for m in mentions if m.entity_class.endswith("#Organization")]
            return [Relation(o.entity, "https://example.org/rel/foundedBy", p.entity, min(o.start, p.start),
                             max(o.end, p.end), 0.6) for o in orgs for p in people if p.start < o.start]

    doc, (mentions, links) = sample.DOCUMENTS[0], sample.mentions_and_links()["news-1"]
    b = TripleBuilder(BuilderConfig("run-1", base_iri=BASE), relation_extractors=[FoundedBy()])
    (rel,) = [t for t in b.mention_triples(doc, mentions, links) if t.predicate.endswith("foundedBy")]
    assert (rel.subject, rel.object) == (iri.entity_iri(BASE, "E2"), iri.entity_iri(BASE, "E1"))
    assert (rel.doc_id, rel.start, rel.end, rel.confidence, rel.run_id) == ("news-1", 0, 9, 0.6, "run-1")
    assert not [t for t in TripleBuilder(BuilderConfig("r"), relation_extractors=[]).mention_triples(
        sample.DOCUMENTS[1], *sample.mentions_and_links()["shop-1"]) if t.predicate.endswith("#brand")]


def test_run_triples():
    g = _graph(_builder().run_triples({"documents": 3, "triples": 10, "ignored": 1}))
    expected = rdflib.Graph().parse(data=PREFIXES + """
    r:run\\/run-1 a kgp:Run, prov:Activity ; rdfs:label "run-1" ; kgp:extractor "kgpipe/test" ;
        kgp:documentCount 3 ; kgp:tripleCount 10 .""", format="turtle")
    assert isomorphic(g, expected)


def _statements(triples) -> set[tuple]:
    """RDF statements, less the run node's triple count (which counts the provenance too)."""
    return {(t.subject, t.predicate, t.object, t.object_kind, t.datatype, t.language) for t in triples
            if not t.predicate.endswith("#tripleCount")}


def test_compact_provenance_drops_only_provenance_statements():
    from kgpipe.kg.builder import PROVENANCE_PREDICATES, Provenance
    from kgpipe.kg.local import build_triples
    from kgpipe.schemas.vocab import NIF, RDF

    annotations = sample.mentions_and_links()
    full = build_triples(_builder(), sample.DOCUMENTS, annotations, sample.ENTITIES)
    compact = build_triples(_builder(provenance=Provenance.COMPACT), sample.DOCUMENTS, annotations, sample.ENTITIES)
    mention_iris = {t.subject for t in full if t.predicate == str(NIF.beginIndex)}
    provenance = {s for s in _statements(full) if s[0] in mention_iris and (
        s[1] in PROVENANCE_PREDICATES or (s[1] == str(RDF.type) and s[2] == str(NIF.Phrase)))}
    assert provenance, "the sample has mentions with provenance"
    assert _statements(compact) == _statements(full) - provenance
    assert len(compact) < len(full) - len(provenance)  # Repeated entity facts are gone too.


def test_provenance_must_be_the_enum():
    with pytest.raises(ValueError, match="provenance='compact'"):
        BuilderConfig("run-1", provenance="compact")
