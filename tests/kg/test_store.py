"""Graph-store loading: the N-Triples shards bulk-load into pyoxigraph and answer SPARQL questions."""

import gzip

import pyoxigraph as ox

from kgpipe.kg.export.convert import ExportConfig, export

PREFIXES = """PREFIX kgp: <https://w3id.org/kgpipe/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
"""
BRANDS_OF_PRODUCTS = PREFIXES + """
SELECT ?brand ?product WHERE {
  VALUES ?maker { kgp:Brand kgp:Organization }
  ?p kgp:brand ?b . ?b a ?maker ; rdfs:label ?brand . ?p a kgp:Product ; rdfs:label ?product .
} ORDER BY ?brand ?product"""
ORGS_WITH_PEOPLE = PREFIXES + """
SELECT ?org ?person (SUM(?n) AS ?sentences) WHERE {
  ?o a kgp:Organization ; rdfs:label ?org . ?p a kgp:Person ; rdfs:label ?person .
  { ?s rdf:subject ?o ; rdf:object ?p } UNION { ?s rdf:subject ?p ; rdf:object ?o }
  ?s a kgp:Cooccurrence ; kgp:cooccurrenceCount ?n .
} GROUP BY ?org ?person ORDER BY ?org ?person"""


def _load(run_dir) -> ox.Store:
    store = ox.Store()
    for path in sorted((run_dir / "rdf").glob("*.nt")):
        store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    return store


def _rows(store, query, **kw):
    return [tuple(term.value for term in row) for row in store.query(query, **kw)]


def test_which_brands_make_which_products(sample_run_dir):
    assert _rows(_load(sample_run_dir), BRANDS_OF_PRODUCTS) == [("华为", "手机"), ("小米", "充电宝")]


def test_which_organisations_cooccur_with_which_people(sample_run_dir):
    assert _rows(_load(sample_run_dir), ORGS_WITH_PEOPLE) == [("腾讯", "马化腾", "1"), ("阿里巴巴", "马云", "1")]


def test_mentions_trace_back_to_text(sample_run_dir):
    store = _load(sample_run_dir)
    rows = _rows(store, PREFIXES + """
        SELECT ?surface ?text ?b ?e WHERE { ?m kgp:refersTo ?x ; nif:anchorOf ?surface ; nif:beginIndex ?b ;
          nif:endIndex ?e ; nif:referenceContext ?d . ?d nif:isString ?text . ?x rdfs:label "马化腾"@zh }""")
    assert len(rows) == 1
    surface, text, begin, end = rows[0]
    assert text[int(begin):int(end)] == surface == "马化腾"


def test_nquads_export_loads_into_named_run_graph(sample_run_dir, tmp_path):
    export(sample_run_dir, tmp_path / "nq", ExportConfig("nq", compress=True))
    store = ox.Store()
    for path in (tmp_path / "nq").iterdir():
        with gzip.open(path, "rb") as handle:
            store.bulk_load(handle, format=ox.RdfFormat.N_QUADS)
    assert [g.value for g in store.named_graphs()] == ["https://w3id.org/kgpipe/resource/graph/run-sample"]
    assert _rows(store, BRANDS_OF_PRODUCTS, use_default_graph_as_union=True) == [("华为", "手机"), ("小米", "充电宝")]
