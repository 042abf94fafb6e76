"""Fault tests: a run killed mid-way, a rerun that fails part-way, an input cut short.

A ``kgpipe run`` subprocess is SIGKILLed as soon as its first output file
appears; the folder must then hold nothing a reader counts, and the rerun must
give exact row counts that ``validate`` accepts. A rerun that fails after
writing part of its output must leave the earlier complete run byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import apache_beam as beam
import pyarrow.dataset as ds
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from kgpipe.kg import commit, manifest
from kgpipe.kg.validate import validate_run
from kgpipe.pipeline import run as run_module
from kgpipe.pipeline import transforms as T
from kgpipe.pipeline.preflight import UsageError
from kgpipe.pipeline.run import run

REPO = Path(__file__).resolve().parents[2]
SAMPLE_LINES = (REPO / "pipeline" / "sample" / "sample.jsonl").read_text("utf-8").splitlines()
KILL_TIMEOUT_S = 300


def _consistent(report) -> bool:
    """What a run's commit must guarantee: strict RDF, Parquet schemas, files and row counts of every manifest.

    (SHACL shapes are the builder's business, checked by the end-to-end tests.)
    """
    return bool(report.shards) and not report.syntax and not report.parquet_problems and not report.run_problems


def _rows(out: Path, table: str) -> int:
    """Rows a plain pyarrow dataset over ``DIR/parquet/<table>`` counts (what any reader sees)."""
    folder = out / "parquet" / table
    return ds.dataset(str(folder), format="parquet").count_rows() if folder.is_dir() else 0


def _visible(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and commit.STAGING_DIR not in p.relative_to(out).parts}


def _first_staged_output(out: Path) -> Path | None:
    staging = out / commit.STAGING_DIR
    for folder in commit.DATA_FOLDERS:
        for path in staging.glob(f"*/{folder}/**/*"):
            if path.is_file():
                return path
    return None


def _kill_when_writing(argv: list[str], out: Path) -> Path:
    """Starts ``kgpipe run``, SIGKILLs it once a first output file exists; returns that file."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "kgpipe.pipeline.cli", "run", *argv], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        while (first := _first_staged_output(out)) is None:
            assert process.poll() is None, f"run ended before writing: {process.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "no output file appeared"
            time.sleep(0.02)
        children = _children(process.pid)
        if len(os.sched_getaffinity(0)) >= 2:  # --ner_process auto: the model runs in a child process.
            assert children, "the run had no NER child process"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    # Its NER child process (if the run had one) ends with it rather than wait for work forever.
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in children if Path(f"/proc/{pid}").exists()]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"processes of the killed run still alive: {alive}"
    return first


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux ``/proc``; empty elsewhere)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


@pytest.fixture(scope="module")
def input_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("input") / "news.jsonl"
    path.write_text("\n".join(SAMPLE_LINES) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def killed_then_rerun(input_file, tmp_path_factory):
    """(output folder, what was visible right after the kill, the rerun's summary)."""
    out = tmp_path_factory.mktemp("killed") / "out"
    argv = ["--input", str(input_file), "--output", str(out), "--no_progress"]
    _kill_when_writing(argv, out)
    after_kill = {"files": commit.data_files(out), "runs": manifest.completed_runs(out),
                  "documents": _rows(out, "documents"), "pending": commit.pending(out),
                  "validate_ok": _consistent(validate_run(out))}
    summary = run(argv)
    return out, after_kill, summary


def test_a_killed_run_leaves_nothing_readers_count(killed_then_rerun):
    _, after_kill, _ = killed_then_rerun
    assert after_kill["pending"], "the killed run wrote outside its staging folder"
    assert after_kill["files"] == [] and after_kill["runs"] == [] and after_kill["documents"] == 0
    assert not after_kill["validate_ok"]


def test_the_rerun_after_a_kill_has_exact_row_counts_and_validates(killed_then_rerun):
    out, _, summary = killed_then_rerun
    assert _rows(out, "documents") == len(SAMPLE_LINES) == summary["counts"]["documents"]
    assert _rows(out, "mentions") == _rows(out, "links") == summary["counts"]["links"]
    (record,) = manifest.read_manifests(out)
    assert record["rows"]["documents"] == len(SAMPLE_LINES) and record["rows"]["triples"] == _rows(out, "triples")
    assert not commit.pending(out) and not list(out.rglob("beam-temp-*"))
    report = validate_run(out)
    assert _consistent(report), report.to_text()


def test_a_rerun_that_fails_part_way_leaves_the_earlier_run_intact(killed_then_rerun, input_file, tmp_path,
                                                                   monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(killed_then_rerun[0], out)
    before = _visible(out)
    argv = ["--input", str(input_file), "--output", str(out), "--no_progress", "--rdf_shards", "3"]

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_module, "_write_run_node", disk_full)  # After the pipeline wrote its files.
    with pytest.raises(OSError, match="No space left"):
        run(argv)
    assert _visible(out) == before
    assert not commit.pending(out)  # The failed run removed its own staging folder.
    assert _consistent(validate_run(out))
    monkeypatch.undo()
    again = run(argv)  # The next attempt removes the failed one's staging folder and replaces the run.
    shards = [p.name for p in (out / "rdf").glob(f"{again['run_id']}-[0-9][0-9][0-9][0-9][0-9]-of-*.nt")]
    assert sorted(shards) == [f"{again['run_id']}-{i:05d}-of-00003.nt" for i in range(3)]  # The 1-shard file is gone.
    assert _rows(out, "documents") == again["counts"]["documents"] == len(SAMPLE_LINES)
    assert not commit.pending(out) and _consistent(validate_run(out))


def test_a_folder_holding_another_inputs_run_is_refused(killed_then_rerun, tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text(SAMPLE_LINES[0] + "\n", encoding="utf-8")
    out = killed_then_rerun[0]
    before = _visible(out)
    with pytest.raises(UsageError, match="already holds another run .* pass --append .* --overwrite"):
        run(["--input", str(other), "--output", str(out), "--no_progress"])
    assert _visible(out) == before


def _gzip_cut_at_flush(path: Path, lines: list[str], keep: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    data = "".join(line + "\n" for line in lines[:keep]).encode("utf-8")
    path.write_bytes(compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH))


def test_a_gzip_input_cut_at_a_flush_point_is_a_dead_letter_and_counts_balance(tmp_path):
    lines = [json.dumps({"id": f"d{i}", "text": f"第{i}条"}, ensure_ascii=False) for i in range(2000)]
    cut = tmp_path / "cut.jsonl.gz"
    _gzip_cut_at_flush(cut, lines, keep=700)
    with TestPipeline() as pipeline:
        read = pipeline | T.ReadDocuments([str(cut)])
        count = read["documents"] | "Count" >> beam.combiners.Count.Globally()
        dead = read[T.DEAD] | "Refs" >> beam.Map(lambda d: (d.input_ref, "after 700 records" in d.error))
        assert_that(count, equal_to([700]), label="documents")
        assert_that(dead, equal_to([(f"{cut}:*", True)]), label="dead letters")
