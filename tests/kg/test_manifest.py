"""Tests for kg.manifest: digests, deterministic run ids, manifests, seen documents."""

import pyarrow.parquet as pq
import pytest

from kgpipe.kg import manifest
from kgpipe.schemas import arrow
from kgpipe.schemas.records import Document


def test_file_digest(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"abc")
    assert manifest.file_digest(path) == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_run_id_is_deterministic_and_sensitive():
    base = manifest.derive_run_id(["sha256:a", "sha256:b"], {"batch": 8, "x": [1]}, {"kgpipe": "0.1"})
    assert base == manifest.derive_run_id(["sha256:b", "sha256:a"], {"x": [1], "batch": 8}, {"kgpipe": "0.1"})
    assert base.startswith("run-") and len(base) == 24
    assert base != manifest.derive_run_id(["sha256:a"], {"batch": 8, "x": [1]}, {"kgpipe": "0.1"})
    assert base != manifest.derive_run_id(["sha256:a", "sha256:b"], {"batch": 9, "x": [1]}, {"kgpipe": "0.1"})
    assert base != manifest.derive_run_id(["sha256:a", "sha256:b"], {"batch": 8, "x": [1]}, {"kgpipe": "0.2"})
    with pytest.raises(ValueError, match="Received"):
        manifest.derive_run_id("sha256:a", {}, {})


def test_manifests_round_trip_in_run_order(tmp_path):
    assert manifest.read_manifests(tmp_path) == []
    manifest.write_manifest(tmp_path, {"run_id": "run-b", "counts": {"documents": 2}})
    manifest.write_manifest(tmp_path, {"run_id": "run-a", "inputs": [{"path": "中文.txt"}]})
    manifest.write_manifest(tmp_path, {"run_id": "run-b", "counts": {"documents": 3}})  # rerun replaces
    runs = manifest.read_manifests(tmp_path)
    assert [m["run_id"] for m in runs] == ["run-b", "run-a"]
    assert runs[0]["counts"] == {"documents": 3}
    with pytest.raises(ValueError, match="run_id=None"):
        manifest.write_manifest(tmp_path, {"counts": {}})


def test_seen_document_ids_reads_all_completed_runs(tmp_path):
    assert manifest.seen_document_ids(tmp_path) == set()
    for run_id, ids in [("run-1", ["a", "b"]), ("run-2", ["c"]), ("run-3", ["d"])]:
        folder = tmp_path / "parquet" / "documents" / f"run_id={run_id}"
        folder.mkdir(parents=True)
        table = arrow.to_table([Document(i, "text") for i in ids], run_id)
        pq.write_table(table, folder / "part-00000.parquet")
    flat = tmp_path / "parquet" / "documents" / "run-4-00000-of-00001.parquet"
    pq.write_table(arrow.to_table([Document("e", "text")], "run-4"), flat)
    for run_id in ("run-1", "run-2", "run-4"):  # run-3 failed before its manifest: not seen.
        manifest.write_manifest(tmp_path, {"run_id": run_id})
    assert manifest.seen_document_ids(tmp_path) == {"a", "b", "c", "e"}
