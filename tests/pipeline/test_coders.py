"""Tests for pipeline.coders: large elements are sized without being pickled whole, and encode as before."""

import pickle

import apache_beam as beam
import pyarrow as pa
import pytest

from kgpipe.kg.assemble import RunAssembler
from kgpipe.kg.builder import BuilderConfig
from kgpipe.pipeline import coders
from kgpipe.pipeline.coders import RecordBatch
from kgpipe.schemas.arrow import to_table
from kgpipe.schemas.records import TermKind, Triple
from tests.kg import sample


def _triples(n):
    return RecordBatch(Triple(f"http://e.org/s{i}", "http://e.org/p", f"文本{i}" * (1 + i % 5), TermKind.LITERAL,
                              language="zh", doc_id=f"d{i % 7}", start=i, end=i + 3, extractor="kgpipe/0.1",
                              run_id="r1") for i in range(n))


@pytest.fixture
def pickled(monkeypatch):
    """Lengths of the tuples and lists the coders module pickles."""
    lengths: list[int] = []
    dumps = pickle.dumps

    def counting(value, *args):
        lengths.append(len(value) if isinstance(value, (tuple, list)) else 1)
        return dumps(value, *args)

    monkeypatch.setattr(coders.pickle, "dumps", counting)
    return lengths


def test_a_batch_is_sized_from_a_few_records(pickled):
    batch = _triples(5000)
    coder = beam.coders.registry.get_coder(RecordBatch)
    estimate = coder.estimate_size(batch)
    assert max(pickled) <= 8  # Never the whole batch.
    actual = len(coder.encode(batch))
    assert 0.7 * actual < estimate < 1.3 * actual
    assert coder.decode(coder.encode(batch)) == batch and type(coder.decode(coder.encode(batch))) is RecordBatch


def test_document_records_and_tables_are_sized_cheaply(pickled):
    document = sample.DOCUMENTS[0]
    mentions, links = sample.mentions_and_links()[document.id]
    records = RunAssembler(BuilderConfig(run_id="r1")).document(document, mentions, links)
    coder = beam.coders.registry.get_coder(type(records))
    assert coder.estimate_size(records) > len(document.text) and max(pickled) <= 8
    assert coder.decode(coder.encode(records)) == records
    table = to_table(list(_triples(300)), "r1")
    table_coder = beam.coders.registry.get_coder(pa.Table)
    assert table_coder.estimate_size(table) == table.nbytes
    assert table_coder.decode(table_coder.encode(table)).equals(table)


def test_the_pipelines_record_lists_and_tables_use_these_coders(tmp_path):
    from apache_beam.pipeline import PipelineVisitor

    from kgpipe.pipeline import run as run_module
    from kgpipe.pipeline.options import RunConfig

    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    config = RunConfig(inputs=(str(path),), output_dir=str(tmp_path / "out"))
    plan = run_module.RunPlan(config, (str(path),), None, {"kgpipe": "t", "model": "m", "kb": "k"}, (), "run-t")
    types: dict[str, object] = {}

    class Outputs(PipelineVisitor):
        def visit_transform(self, node):
            for tag, pcoll in node.outputs.items():
                if tag in (None, "None", "records", "triples", "tables", "linked"):
                    types[node.full_label] = pcoll.element_type

    root = beam.Pipeline()
    run_module.build(root, plan)
    root.visit(Outputs())
    large = {label: t for label, t in types.items() if label.endswith(("Lists", "Tables", "Triples", "Statements"))
             or label in ("AssembleDocuments", "EntitiesAndCategories")}
    assert len(large) >= 10
    expected = (RecordBatch, pa.Table, str, type(RunAssembler(BuilderConfig(run_id="r")).document(
        sample.DOCUMENTS[0], (), ())))
    assert {label: t for label, t in large.items() if t not in expected} == {}
