"""Tests for schemas/shapes.ttl: it parses, and names only terms that exist."""

import rdflib
from rdflib.namespace import SH

from kgpipe.schemas import vocab


def _shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(data=vocab.shapes_text(), format="turtle")


def test_shapes_use_only_declared_kgp_terms():
    used = {str(t) for triple in _shapes() for t in triple if str(t).startswith(vocab.NAMESPACE)}
    assert used, "the shapes name no kgp terms"
    assert {t[len(vocab.NAMESPACE):] for t in used} <= set(vocab.terms())


def test_every_node_shape_has_a_target_and_a_label():
    g = _shapes()
    targets = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
    shapes = set(g.subjects(rdflib.RDF.type, SH.NodeShape))
    assert len(shapes) >= 6
    for shape in shapes:
        assert any(g.value(shape, t) is not None for t in targets), shape
        assert g.value(shape, rdflib.RDFS.label) is not None, shape


def test_target_classes_are_ontology_classes():
    ontology = rdflib.Graph().parse(data=vocab.ontology_text(), format="turtle")
    for cls in _shapes().objects(None, SH.targetClass):
        assert (cls, rdflib.RDF.type, rdflib.OWL.Class) in ontology, cls
