"""Readable errors and a quiet CLI: one line, the right exit code, found before heavy work.

Exit codes (README): 0 done, 1 failed while running, 2 bad flags/input/output/model/KB, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from kgpipe.kg.validate import validate_run
from kgpipe.pipeline import run as run_module
from kgpipe.pipeline.cli import main, one_line
from kgpipe.pipeline.handlers import default_model_dir

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "pipeline" / "sample" / "sample.jsonl"


def _fail_if_the_pipeline_starts(monkeypatch):
    def build(*args, **kwargs):
        raise AssertionError("the pipeline was built before the bad argument was found")

    monkeypatch.setattr(run_module, "build", build)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # One line, no traceback.
    return err[0]


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["run", *argv, "--no_progress"])
    return code, _error_line(capsys) if code else ""


@pytest.fixture
def guarded(monkeypatch):
    _fail_if_the_pipeline_starts(monkeypatch)


def test_a_directory_as_input(tmp_path, capsys, guarded):
    code, line = _run(capsys, "--input", str(tmp_path), "--output", str(tmp_path / "out"))
    assert code == 2 and line == (f"kgpipe run: error: --input {str(tmp_path)!r} is a directory; give files or a "
                                  f"glob, e.g. --input '{tmp_path}/*.jsonl'")


def test_a_glob_matching_nothing(tmp_path, capsys, guarded):
    code, line = _run(capsys, "--input", str(tmp_path / "*.jsonl"), "--output", str(tmp_path / "out"))
    assert code == 2 and line == f"kgpipe run: error: --input {str(tmp_path / '*.jsonl')!r} matches no file"


def test_an_unwritable_output(tmp_path, capsys, guarded):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, line = _run(capsys, "--input", str(SAMPLE), "--output", str(blocker / "out"))
    assert code == 2 and line.startswith(f"kgpipe run: error: --output {str(blocker / 'out')!r} is not a writable folder")


def test_a_bad_kb_is_found_before_the_pipeline_starts(tmp_path, capsys, guarded):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "E1", "name": "华为"}\n{not json\n', "utf-8")
    code, line = _run(capsys, "--input", str(SAMPLE), "--output", str(tmp_path / "out"), "--kb", str(kb))
    assert code == 2 and line.startswith(f"kgpipe run: error: --kb {str(kb)!r}: ") and ":2" in line
    code, line = _run(capsys, "--input", str(SAMPLE), "--output", str(tmp_path / "out"), "--kb", str(tmp_path / "no"))
    assert code == 2 and line.endswith("no such file or directory")
    assert not (tmp_path / "out" / "_staging").exists() or not any((tmp_path / "out" / "_staging").glob("run-*"))


def _model_copy(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model)
    return model


def test_an_empty_or_broken_model_directory(tmp_path, capsys, guarded):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["--input", str(SAMPLE), "--output", str(tmp_path / "out")]
    code, line = _run(capsys, *argv, "--model", str(empty))
    assert code == 2 and line == (f"kgpipe run: error: --model {str(empty)!r} is not a kgpipe NER model: "
                                  f"{empty / 'config.json'} is missing")
    model = _model_copy(tmp_path)
    (model / "weights.npz").write_bytes(random.Random(1).randbytes(5000))
    code, line = _run(capsys, *argv, "--model", str(model))
    assert code == 2 and "is not a NumPy .npz archive" in line and "pickle" not in line
    (model / "config.json").write_bytes(random.Random(2).randbytes(300))
    code, line = _run(capsys, *argv, "--model", str(model))
    assert code == 2 and line.endswith("config.json is not JSON (corrupt or not a kgpipe model)")


def test_a_missing_kb_file_in_kb_build(tmp_path, capsys):
    code = main(["kb", "build", "--input", str(tmp_path / "kb.jsonl"), "--out", str(tmp_path / "index")])
    assert code == 2
    assert _error_line(capsys) == f"kgpipe kb build: --input {str(tmp_path / 'kb.jsonl')!r}: no such file"


def test_other_errors_are_one_line_with_a_hint_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Pipeline failed:\nTraceback (most recent call last):\n  File \"x.py\"\n"
                           "KeyError: 'text'\n\n")

    monkeypatch.setattr(run_module, "run", broken)
    assert main(["run", "--input", str(SAMPLE), "--output", str(tmp_path)]) == 1
    assert _error_line(capsys) == "kgpipe run: error: KeyError: 'text' (run with --debug for the traceback)"
    with pytest.raises(RuntimeError):
        main(["--debug", "run", "--input", str(SAMPLE), "--output", str(tmp_path)])


def test_one_line_keeps_plain_messages():
    assert one_line(ValueError("bad value")) == "bad value"
    assert one_line(OSError(28, "No space left on device")) == "OSError: [Errno 28] No space left on device"


@pytest.mark.parametrize("content", ["", "{not json\n" + json.dumps({"id": "x"}) + "\n"],
                         ids=["empty input", "no surviving document"])
def test_an_input_without_documents_gives_an_empty_valid_run_and_a_summary(tmp_path, capsys, content):
    source = tmp_path / "in.jsonl"
    source.write_text(content, "utf-8")
    out = tmp_path / "out"
    assert main(["run", "--input", str(source), "--output", str(out), "--no_progress"]) == 0
    printed = capsys.readouterr().out
    assert "documents" in printed and "dead_letters" in printed
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["counts"].get("documents", 0) == 0
    assert sum(summary["dead_letters"].values()) == content.count("\n")  # Count in = count out + dead letters.
    assert ds.dataset(str(out / "parquet" / "documents"), format="parquet").count_rows() == 0
    report = validate_run(out)
    assert report.shards and not (report.syntax or report.parquet_problems or report.run_problems), report.to_text()


def test_ner_predict_uses_the_bundled_model_and_starts_quietly():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "CI_VERBOSE")}
    done = subprocess.run([sys.executable, "-m", "kgpipe.pipeline.cli", "ner", "predict", "--json", "华为在深圳发布了新手机"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == "", done.stderr  # No TensorFlow, absl or Beam start-up lines.
    (record,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"华为", "深圳"} <= {m["text"] for m in record["mentions"]}


def test_ner_commands_check_the_model_directory_first(tmp_path, capsys):
    assert main(["ner", "predict", "--model", str(tmp_path), "华为"]) == 2
    assert _error_line(capsys) == (f"kgpipe ner: error: --model {str(tmp_path)!r} is not a kgpipe NER model: "
                                   f"{tmp_path / 'config.json'} is missing")


def test_the_summary_table_prints_summary_json_names_and_numbers(capsys):
    from kgpipe.pipeline.cli import _print_summary

    counts = {"documents": 40, "ner_windows": 41, "links": 131, "links_kb": 73, "links_nil": 58,
              "entities_linked": 50, "triples": 4224}
    _print_summary({"run_id": "run-x", "output": "out", "counts": counts, "dead_letters": {"read": 2},
                    "seconds": 3.5, "ner": {"ner_seconds": 1.25}, "padding_waste": 0.184,
                    "throughput": {"ner_chars_per_second": None, "documents_per_second": 11.4}})
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ") and ":" not in line}
    assert {key: rows[key] for key in counts} == {key: f"{value:,}" for key, value in counts.items()}
    assert rows["dead_letters"] == "2" and rows["ner_chars_per_second"] == "-" and rows["seconds"] == "3.5"
