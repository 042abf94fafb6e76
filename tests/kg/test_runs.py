"""Rerun determinism and incremental runs with the local (non-Beam) run writer."""

import hashlib

import pyarrow.parquet as pq

from kgpipe.kg import manifest
from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.export.parquet import read_table
from kgpipe.kg.graph import graph_stats
from kgpipe.kg.local import write_run
from kgpipe.schemas.records import Document, Triple
from tests.kg import sample


def _run_id(documents):
    # Stands in for the input files' digests: the run id depends on the input contents.
    digests = ["sha256:" + hashlib.sha256(f"{d.id}\t{d.text}".encode()).hexdigest() for d in documents]
    return manifest.derive_run_id(digests, {"base_iri": "default"}, {"kgpipe": "test"})


def _write(out, documents):
    run_id = _run_id(documents)
    annotations = sample.mentions_and_links()
    return write_run(out, BuilderConfig(run_id, extractor=sample.EXTRACTOR), documents, annotations, sample.ENTITIES)


def test_rerun_gives_identical_triples_and_parquet_rows(tmp_path):
    first, second = _write(tmp_path / "a", sample.DOCUMENTS), _write(tmp_path / "b", sample.DOCUMENTS)
    assert first == second
    for name in ("documents", "mentions", "links", "triples"):
        (pa,) = (tmp_path / "a" / "parquet" / name).rglob("*.parquet")
        (pb,) = (tmp_path / "b" / "parquet" / name).rglob("*.parquet")
        assert pq.read_table(pa).to_pylist() == pq.read_table(pb).to_pylist()
    (na,), (nb,) = (tmp_path / "a" / "rdf").glob("*.nt"), (tmp_path / "b" / "rdf").glob("*.nt")
    assert na.name == nb.name and na.read_bytes() == nb.read_bytes()


def test_incremental_run_processes_only_new_documents(tmp_path):
    out = tmp_path / "run"
    _write(out, sample.DOCUMENTS[:2])
    seen = manifest.seen_document_ids(out)
    assert seen == {"news-1", "shop-1"}
    new = [d for d in sample.DOCUMENTS if d.id not in seen]
    assert [d.id for d in new] == ["news-2"]
    second = _write(out, new)
    runs = manifest.read_manifests(out)
    assert [m["run_id"] for m in runs] == [_run_id(sample.DOCUMENTS[:2]), second["run_id"]]
    assert runs[1]["counts"]["documents"] == 1
    assert manifest.seen_document_ids(out) == {d.id for d in sample.DOCUMENTS}
    docs = read_table(out, Document).to_pylist()
    assert sorted((d["id"], d["run_id"]) for d in docs) == sorted(
        [("news-1", runs[0]["run_id"]), ("shop-1", runs[0]["run_id"]), ("news-2", runs[1]["run_id"])])
    assert len(list((out / "rdf").glob("*.nt"))) == 2
    # Both runs together form one graph: 腾讯 (run 2) and 马云 (run 1) are both there.
    labels = {r["label"] for r in graph_stats(out)["pagerank_top"]}
    assert {"腾讯", "马云"} <= labels
    assert read_table(out, Triple, run_id=runs[1]["run_id"]).num_rows == second["counts"]["triples"]
