"""The product graph of the bundled sample: brand -> product -> category and attributes, asked with SPARQL.

The sample run is the ``linked_sample_run`` fixture (tests/conftest.py): dictionary mentions and links
from the bundled KB over ``pipeline/sample/sample.jsonl``, written with
``kg.local.write_run``, validated, and loaded into pyoxigraph.
"""

import json

import pyoxigraph as ox
import pytest

from kgpipe.kg.validate import validate_run
from kgpipe.schemas.records import Document

from tests.conftest import SAMPLE

PREFIXES = """PREFIX kgp: <https://w3id.org/kgpipe/ontology#> PREFIX kgpc: <https://w3id.org/kgpipe/category/>
PREFIX schema: <https://schema.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
# Which products of a brand have 256 GB of storage.
BRAND_PRODUCTS_WITH_256GB = PREFIXES + """SELECT ?model WHERE {
  ?product kgp:brand ?brand ; schema:model ?model ; schema:additionalProperty ?spec .
  ?brand rdfs:label ?brandName . FILTER(STRSTARTS(STR(?brandName), "苹果"))
  ?spec schema:name "storage" ; schema:value ?value ; schema:unitCode "E34" . FILTER(?value = 256)
}"""
# Which brands make laptops (any subclass of kgpc:Laptop counts).
LAPTOP_BRANDS = PREFIXES + """SELECT DISTINCT ?brandName WHERE {
  ?product kgp:brand ?brand ; kgp:category/rdfs:subClassOf* kgpc:Laptop . ?brand rdfs:label ?brandName
}"""
# The category of a product, and the categories above it.
CATEGORY_OF = PREFIXES + """SELECT ?name ?aboveName WHERE {
  ?product schema:model "%s" ; kgp:category ?category . ?category rdfs:label ?name ; rdfs:subClassOf* ?above .
  ?above rdfs:label ?aboveName . FILTER(lang(?name) = "zh" && lang(?aboveName) = "zh")
}"""


@pytest.fixture(scope="module")
def product_store(linked_sample_run):
    report = validate_run(linked_sample_run)
    assert report.ok, report.to_text()
    store = ox.Store()
    for path in sorted((linked_sample_run / "rdf").glob("*.nt")):
        store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    with open(SAMPLE, encoding="utf-8") as handle:
        documents = [Document(row["id"], row["text"], metadata={"kind": row["kind"]})
                     for row in map(json.loads, handle)]
    return store, documents


def _rows(store, query):
    return [tuple(term.value for term in row) for row in store.query(query)]


@pytest.mark.slow
def test_products_of_a_brand_with_256gb_storage(product_store):
    store, _ = product_store
    assert sorted(m for (m,) in _rows(store, BRAND_PRODUCTS_WITH_256GB)) == ["MacBook Air", "iPad Air",
                                                                              "iPhone 15 Pro Max"]


@pytest.mark.slow
def test_brands_that_make_laptops(product_store):
    store, _ = product_store
    brands = {b for (b,) in _rows(store, LAPTOP_BRANDS)}
    assert {"苹果公司", "华为"} <= brands and any(b.startswith("联想") for b in brands)
    assert not any(b.startswith(("美的", "耐克", "农夫山泉")) for b in brands)


@pytest.mark.slow
def test_category_of_a_product(product_store):
    store, _ = product_store
    rows = _rows(store, CATEGORY_OF % "Mate 60 Pro")
    assert {name for name, _ in rows} == {"手机"} and {above for _, above in rows} == {"手机", "电子产品"}
    rows = _rows(store, CATEGORY_OF % "SF40FC875")  # 苏泊尔 rice cooker: three levels.
    assert {above for _, above in rows} == {"电饭煲", "厨房电器", "家用电器"}


@pytest.mark.slow
def test_only_product_text_gets_product_nodes(product_store):
    store, documents = product_store
    derived = {d.rsplit("/", 1)[-1] for (d,) in _rows(store, PREFIXES + """SELECT ?doc WHERE {
        ?p a kgp:Product ; prov:wasDerivedFrom ?doc }""")}
    assert derived == {d.id for d in documents if d.metadata["kind"] == "product"}
