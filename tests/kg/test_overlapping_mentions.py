"""Nested / overlapping mentions (a GlobalPointer head emits them) flow through linking, triples,
Parquet and RDF: every mention keeps its own link, mention node, rows and statements."""

from __future__ import annotations

import rdflib

from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export import parquet
from kgpipe.kg.export.rdf import ntriples_line
from kgpipe.linking.config import LinkerConfig
from kgpipe.linking.linker import EntityLinker
from kgpipe.schemas.records import Document, Link, Mention, Triple

TEXT = "北京大学位于北京市海淀区。"


def _mentions() -> list[Mention]:
    spans = [(0, 4, "ORG"), (0, 2, "LOC"), (6, 9, "LOC"), (6, 12, "LOC"), (9, 12, "LOC")]
    return [Mention("d1", s, e, TEXT[s:e], label, 0.9, "gp@test") for s, e, label in spans]


def test_overlapping_mentions_survive_linking_triples_parquet_and_rdf(tmp_path):
    document, mentions = Document("d1", TEXT), _mentions()
    links = EntityLinker.load(LinkerConfig()).link(document, mentions)
    assert [(l.start, l.end, l.label) for l in links] == [(m.start, m.end, m.label) for m in mentions]

    builder = TripleBuilder(BuilderConfig("run-1", base_iri="https://example.org/kg/"))
    triples = builder.document_triples(document) + builder.mention_triples(document, mentions, links)
    graph = rdflib.Graph().parse(data="".join(map(ntriples_line, triples)), format="nt")
    kgp = rdflib.Namespace("https://w3id.org/kgpipe/ontology#")
    nif = rdflib.Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
    nodes = {(int(graph.value(m, nif.beginIndex)), int(graph.value(m, nif.endIndex)),
              str(graph.value(m, kgp.nerLabel)))
             for m in graph.subjects(rdflib.RDF.type, kgp.Mention)}
    assert nodes == {(m.start, m.end, m.label) for m in mentions}
    refers = {m for m in graph.subjects(kgp.refersTo, None)}
    assert len(refers) == len(mentions)

    for records, record_type in ((mentions, Mention), (links, Link), (triples, Triple)):
        parquet.write_records(tmp_path, records, record_type, "run-1")
        assert parquet.read_table(tmp_path, record_type).num_rows == len(records)
    rows = parquet.read_table(tmp_path, Mention).to_pylist()
    assert sorted((r["start"], r["end"]) for r in rows) == sorted((m.start, m.end) for m in mentions)
