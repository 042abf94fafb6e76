"""`kgpipe export` names run graphs under the run's own base IRI (read from its manifest)."""

import gzip

import pyoxigraph as ox

from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.export.convert import ExportConfig, ExportFormat, export
from kgpipe.kg.export.rdf import run_graph_iri
from kgpipe.kg.local import write_run
from tests.kg import sample

CUSTOM = "https://example.org/kg/"


def test_nquads_export_uses_the_runs_custom_base_iri(tmp_path):
    run_dir = tmp_path / "run"
    config = BuilderConfig("run-custom", base_iri=CUSTOM, extractor=sample.EXTRACTOR)
    write_run(run_dir, config, sample.DOCUMENTS, sample.mentions_and_links(), sample.ENTITIES)
    result = export(run_dir, tmp_path / "quads", ExportConfig(ExportFormat.NQUADS))
    graphs = set()
    for path in result["paths"]:
        raw = open(path, "rb").read()
        raw = gzip.decompress(raw) if str(path).endswith(".gz") else raw
        graphs |= {quad.graph_name.value for quad in ox.parse(raw, ox.RdfFormat.N_QUADS)}
    assert graphs == {run_graph_iri(CUSTOM, "run-custom")}
    assert all(g.startswith(CUSTOM) for g in graphs)
