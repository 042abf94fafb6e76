"""The bundled sample corpus through the KB linker (dictionary mentions, no NER model) and the kg writers.

It stands in for the pipeline's sample run: real Links from ``linking`` over
``pipeline/sample/sample.jsonl``, written with ``kg.local.write_run``, then
validated and loaded into pyoxigraph for the SPARQL questions.
"""

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.local import write_run
from kgpipe.kg.validate import validate_run
from kgpipe.schemas.records import Document
from tests.kg.test_store import BRANDS_OF_PRODUCTS, ORGS_WITH_PEOPLE

SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "sample.jsonl"


@pytest.fixture(scope="module")
def linked_sample_run(tmp_path_factory):
    linker_module = pytest.importorskip("kgpipe.linking.linker")
    if not SAMPLE.exists():
        pytest.skip(f"{SAMPLE} is missing")
    linker = linker_module.EntityLinker.load(linker_module.LinkerConfig(dictionary_mentions=True))
    documents, annotations, entity_ids = [], {}, set()
    with open(SAMPLE, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            row = json.loads(line)
            doc = Document(row["id"], row["text"], source=f"sample.jsonl:{number}", metadata={"kind": row["kind"]})
            mentions = linker.detect_mentions(doc)
            links = linker.link(doc, mentions)
            documents.append(doc)
            annotations[doc.id] = (mentions, links)
            entity_ids |= {link.entity_id for link in links if link.entity_id}
    entities = [linker.entity(i) for i in sorted(entity_ids)]
    out = tmp_path_factory.mktemp("linked_sample")
    write_run(out, BuilderConfig("run-linked-sample", extractor="kgpipe/test ner=dictionary kb=default"),
              documents, annotations, entities)
    return out


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
