"""The bundled sample corpus through the KB linker (dictionary mentions, no NER model) and the kg writers.

It stands in for the pipeline's sample run: real Links from ``linking`` over
``pipeline/sample/sample.jsonl``, written with ``kg.local.write_run``, then
validated and loaded into pyoxigraph for the SPARQL questions.
"""


import pyoxigraph as ox
import pytest

from kgpipe.kg.validate import validate_run
from tests.kg.test_store import BRANDS_OF_PRODUCTS, ORGS_WITH_PEOPLE

from tests.conftest import SAMPLE


@pytest.mark.slow
def test_linked_sample_validates(linked_sample_run):
    report = validate_run(linked_sample_run)
    assert report.ok, report.to_text()
    assert report.parquet["documents"] == sum(1 for _ in open(SAMPLE, encoding="utf-8"))


@pytest.mark.slow
def test_linked_sample_answers_sparql(linked_sample_run):
    store = ox.Store()
    for path in sorted((linked_sample_run / "rdf").glob("*.nt")):
        store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    brands = {tuple(t.value for t in row) for row in store.query(BRANDS_OF_PRODUCTS)}
    print(sorted(brands))
    # Labels are the KB's canonical names (苹果公司, 联想集团).
    assert any(b.startswith("苹果") and p == "iPhone" for b, p in brands)
    assert any(b.startswith("联想") and p == "ThinkPad" for b, p in brands)
    pairs = {tuple(t.value for t in row)[:2] for row in store.query(ORGS_WITH_PEOPLE)}
    print(sorted(pairs))
    assert any(o.startswith("阿里巴巴") and p == "马云" for o, p in pairs)
    assert any(o.startswith("腾讯") and p == "马化腾" for o, p in pairs)
