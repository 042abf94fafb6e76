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


# The run commit protocol (kg.commit): staged runs, atomic visibility, rollback, recovery.

import json  # noqa: E402
import os  # noqa: E402
import stat  # noqa: E402

import pytest  # noqa: E402

from kgpipe.kg import commit  # noqa: E402
from kgpipe.schemas.arrow import to_table  # noqa: E402

RUN = "run-0123456789abcdef0123"


def _stage(out, run_id, shards, documents=sample.DOCUMENTS, tag=""):
    """Stages a run the way the pipeline does: ``_staging/<run>/{parquet/documents,rdf,dead_letter}``."""
    staged = commit.staging_dir(out, run_id)
    files = []
    for shard in range(shards):
        part = documents[shard::shards]
        rel = f"parquet/documents/{run_id}-{shard:05d}-of-{shards:05d}.parquet"
        (staged / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(to_table(part, run_id, Document), staged / rel)
        files.append(rel)
    (staged / "rdf").mkdir(parents=True, exist_ok=True)
    (staged / "rdf" / f"{run_id}-00000-of-00001.nt").write_text(f"# {tag}\n", "utf-8")
    (staged / "dead_letter").mkdir(parents=True, exist_ok=True)
    (staged / "dead_letter" / f"{run_id}-00000-of-00001.jsonl").write_text('{"stage": "read"}\n', "utf-8")
    (staged / "summary.json").write_text(json.dumps({"run_id": run_id, "tag": tag}), "utf-8")
    files += [f"rdf/{run_id}-00000-of-00001.nt", f"dead_letter/{run_id}-00000-of-00001.jsonl"]
    return {"run_id": run_id, "files": sorted(files), "rows": commit.file_rows(staged, files)}


def _visible(out):
    """Every visible file (not staging) with its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and commit.STAGING_DIR not in p.relative_to(out).parts}


def _committed_run(out, shards=1):
    record = _stage(out, RUN, shards, tag="first")
    commit.commit(out, record)
    return _visible(out)


def test_commit_makes_the_run_visible_with_its_manifest_last_and_same_modes(tmp_path):
    record = _stage(tmp_path, RUN, 2)
    assert not commit.data_files(tmp_path) and not manifest.completed_runs(tmp_path)  # Staged: invisible.
    path = commit.commit(tmp_path, record)
    assert manifest.completed_runs(tmp_path) == [RUN] and not commit.pending(tmp_path)
    assert read_table(tmp_path, Document).num_rows == len(sample.DOCUMENTS)
    saved = json.loads(path.read_text("utf-8"))
    assert saved["rows"] == {"documents": 3, "dead_letters": 1} and len(saved["attempt"]) == 32
    modes = {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*") if p.is_file() and "lock" not in p.name}
    assert len(modes) == 1, modes  # The manifest is not 0600 while the data files are 0644.
    assert commit.check_runs(tmp_path) == ([], [])


def test_a_rerun_replaces_the_same_runs_files_only_once_complete(tmp_path):
    _committed_run(tmp_path, shards=1)
    commit.commit(tmp_path, _stage(tmp_path, RUN, 3, tag="second"))
    names = sorted(p.name for p in (tmp_path / "parquet" / "documents").iterdir())
    assert names == [f"{RUN}-{i:05d}-of-00003.parquet" for i in range(3)]  # The old 1-shard file is gone.
    assert read_table(tmp_path, Document).num_rows == 3
    assert len(manifest.read_manifests(tmp_path)) == 1 and commit.check_runs(tmp_path)[0] == []


def _failing_move(monkeypatch, after, error):
    real, calls = commit._move, []

    def move(source, target):
        calls.append(target)
        if len(calls) > after:
            raise error
        real(source, target)

    monkeypatch.setattr(commit, "_move", move)


@pytest.mark.parametrize("after", [0, 2, 6])
def test_a_commit_that_fails_part_way_rolls_back_to_the_earlier_run(tmp_path, monkeypatch, after):
    before = _committed_run(tmp_path, shards=1)
    record = _stage(tmp_path, RUN, 3, tag="second")
    _failing_move(monkeypatch, after, PermissionError(13, "Permission denied"))
    with pytest.raises(commit.CommitError, match="holds what it held before"):
        commit.commit(tmp_path, record)
    assert _visible(tmp_path) == before
    assert commit.check_runs(tmp_path)[0] == []


@pytest.mark.parametrize("after", [1, 4, 7])
def test_a_commit_killed_part_way_is_rolled_back_by_the_next_run(tmp_path, monkeypatch, after):
    before = _committed_run(tmp_path, shards=1)
    record = _stage(tmp_path, RUN, 3, tag="second")
    _failing_move(monkeypatch, after, KeyboardInterrupt())  # Not caught: like a kill, no rollback runs.
    with pytest.raises(KeyboardInterrupt):
        commit.commit(tmp_path, record)
    assert _visible(tmp_path) != before  # Half-moved: some old files aside, some new ones in.
    monkeypatch.undo()
    assert commit.recover(tmp_path) == [f"rolled back the interrupted commit of {RUN}"]
    assert _visible(tmp_path) == before and not commit.pending(tmp_path)


def test_a_commit_killed_after_its_manifest_is_finished_by_recover(tmp_path, monkeypatch):
    _committed_run(tmp_path, shards=1)
    record = _stage(tmp_path, RUN, 3, tag="second")
    monkeypatch.setattr(commit.shutil, "rmtree", lambda *a, **k: None)  # Killed before the cleanup.
    commit.commit(tmp_path, record)
    monkeypatch.undo()
    assert commit.pending(tmp_path) == [f"_staging/{RUN}"]
    assert commit.recover(tmp_path) == [f"finished the interrupted commit of {RUN}"]
    assert json.loads((tmp_path / "summary.json").read_text())["tag"] == "second"
    assert commit.check_runs(tmp_path)[0] == []


def test_recover_removes_unfinished_runs_and_beam_temp_files(tmp_path):
    _committed_run(tmp_path)
    _stage(tmp_path, "run-killed", 2)
    temp = tmp_path / "parquet" / "triples" / "beam-temp-run-x-123"
    temp.mkdir(parents=True)
    (temp / "part").write_bytes(b"half")
    assert commit.recover(tmp_path) == ["removed the unfinished run in _staging/run-killed",
                                        "removed parquet/triples/beam-temp-run-x-123"]
    assert not temp.exists() and not commit.pending(tmp_path)
    assert read_table(tmp_path, Document).num_rows == 3


def test_check_runs_finds_files_of_no_run_missing_files_and_wrong_row_counts(tmp_path):
    _committed_run(tmp_path, shards=1)
    orphan = tmp_path / "parquet" / "documents" / "run-killed-00000-of-00001.parquet"
    pq.write_table(to_table(sample.DOCUMENTS, "run-killed", Document), orphan)
    problems, _ = commit.check_runs(tmp_path)
    assert problems == [f"parquet/documents/{orphan.name}: not part of any complete run (left by a killed or "
                        "failed run?)"]
    orphan.unlink()
    (tmp_path / "dead_letter" / f"{RUN}-00000-of-00001.jsonl").write_text("", "utf-8")
    (tmp_path / "rdf" / f"{RUN}-00000-of-00001.nt").unlink()
    problems, _ = commit.check_runs(tmp_path)
    assert problems == [f"rdf/{RUN}-00000-of-00001.nt: listed in the manifest of {RUN} but missing",
                        f"{RUN}: dead_letters has 0 rows in the files, the manifest says 1"]


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    with commit.RunLock(tmp_path):
        with pytest.raises(commit.CommitError, match="another kgpipe run is writing"):
            with commit.RunLock(tmp_path):
                pass
    with commit.RunLock(tmp_path):  # Released.
        pass


def test_readers_skip_files_of_no_complete_run(tmp_path):
    from kgpipe.kg.export.convert import ExportConfig, ExportFormat, export

    out = tmp_path / "run"
    _write(out, sample.DOCUMENTS)
    expected = read_table(out, Triple).num_rows
    (good,) = (out / "parquet" / "triples").rglob("*.parquet")
    # What a killed run of an older kgpipe left: Beam's temporary folder and a run without a manifest.
    temp = out / "parquet" / "triples" / "beam-temp-run-killed-1"
    temp.mkdir()
    (temp / "x.parquet").write_bytes(good.read_bytes())
    (out / "parquet" / "triples" / "run-killed-00000-of-00001.parquet").write_bytes(good.read_bytes())
    assert read_table(out, Triple).num_rows == expected
    result = export(out, tmp_path / "nt", ExportConfig(format=ExportFormat.NTRIPLES))
    assert result["triples"] == expected


def test_discard_removes_a_failed_runs_staging_but_not_a_journaled_commit(tmp_path, monkeypatch):
    _stage(tmp_path, "run-failed", 1)
    assert commit.discard(tmp_path, "run-failed") and not commit.pending(tmp_path)
    _committed_run(tmp_path)
    record = _stage(tmp_path, RUN, 3)
    _failing_move(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        commit.commit(tmp_path, record)
    assert not commit.discard(tmp_path, RUN) and commit.pending(tmp_path) == [f"_staging/{RUN}"]


def test_overwrite_replaces_every_earlier_run_only_once_complete(tmp_path, monkeypatch):
    _committed_run(tmp_path)
    commit.commit(tmp_path, _stage(tmp_path, "run-other", 1, documents=sample.DOCUMENTS[:1]))
    before = _visible(tmp_path)
    record = _stage(tmp_path, "run-new", 2, documents=sample.DOCUMENTS[1:])
    _failing_move(monkeypatch, 5, OSError(5, "Input/output error"))
    with pytest.raises(commit.CommitError):
        commit.commit(tmp_path, record, replace_all=True)
    assert _visible(tmp_path) == before  # Both earlier runs are still there.
    monkeypatch.undo()
    commit.commit(tmp_path, record, replace_all=True)
    assert manifest.completed_runs(tmp_path) == ["run-new"]
    assert sorted(read_table(tmp_path, Document).column("id").to_pylist()) == sorted(d.id for d in sample.DOCUMENTS[1:])
    assert commit.check_runs(tmp_path)[0] == []
