"""Tests for schemas.vocab: the closed namespace and ontology.ttl stay in step."""

import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from kgpipe.schemas import vocab
from kgpipe.schemas.vocab import KGP

_DECLARED = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def _ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(data=vocab.ontology_text(), format="turtle")


def test_vocab_and_ontology_list_the_same_terms():
    g = _ontology()
    in_ontology = {str(s)[len(vocab.NAMESPACE):] for kind in _DECLARED for s in g.subjects(RDF.type, kind)
                   if str(s).startswith(vocab.NAMESPACE)}
    assert in_ontology == set(vocab.terms())


def test_every_ontology_term_has_an_english_label():
    g = _ontology()
    for name in vocab.terms():
        labels = [l for l in g.objects(KGP[name], rdflib.RDFS.label) if l.language == "en"]
        assert labels, name


def test_closed_namespace_rejects_misspelt_terms():
    assert str(KGP.Person) == vocab.NAMESPACE + "Person"
    with pytest.raises(AttributeError):
        KGP.Persn  # noqa: B018


def test_class_mappings():
    assert vocab.class_for_label("per") == KGP.Person
    assert vocab.class_for_label("HP") == KGP.Brand
    assert vocab.class_for_kb_type("https://schema.org/Organization") == KGP.Organization
    assert vocab.class_for_kb_type("城市") == KGP.Location
    assert vocab.class_for_kb_type("Thing") == KGP.Entity


def test_mapped_classes_are_in_the_ontology():
    g = _ontology()
    for cls in {vocab.class_for_label(l) for l in ("PER", "LOC", "ORG", "HP", "HC", "BOOK", "EVENT", "POSITION")}:
        assert (cls, rdflib.RDFS.subClassOf, KGP.Entity) in g


def test_relation_predicates_cover_the_duie_schema_and_the_ontology(shared_data):
    import json

    g = _ontology()
    duie = {e["predicate"] for e in json.loads((shared_data / "duie" / "schema.json").read_text("utf-8"))}
    assert duie <= set(vocab.RELATION_PREDICATES) and len(duie) == 48
    for name, (local, is_entity) in vocab.RELATION_PREDICATES.items():
        prop, entity = vocab.property_for_predicate(name)
        assert entity is is_entity
        kind = OWL.ObjectProperty if is_entity else OWL.DatatypeProperty
        assert (prop, RDF.type, kind) in g, name
        assert rdflib.Literal(name, lang="zh") in set(g.objects(prop, rdflib.RDFS.label)), name
    assert vocab.property_for_predicate("不存在") is None


def test_clear_standard_matches():
    g = _ontology()
    schema = rdflib.Namespace("https://schema.org/")
    for zh, target in (("作者", schema.author), ("出生地", schema.birthPlace), ("创始人", schema.founder),
                       ("导演", schema.director)):
        assert (vocab.property_for_predicate(zh)[0], OWL.equivalentProperty, target) in g
    wife = vocab.property_for_predicate("妻子")[0]
    assert (wife, rdflib.RDFS.subPropertyOf, schema.spouse) in g
