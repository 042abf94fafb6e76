"""`--workers N`: the direct runner's multi-process mode in one flag."""

import os

import pytest
from apache_beam.options.pipeline_options import DirectOptions

from kgpipe.pipeline.run import _runner_options


def _direct(argv):
    options, _ = _runner_options(argv)
    direct = options.view_as(DirectOptions)
    return direct.direct_running_mode, direct.direct_num_workers


def test_workers_sets_the_multi_process_direct_runner():
    assert _direct(["--workers", "2"]) == ("multi_processing", 2)
    assert _direct(["--workers", "0"]) == (("multi_processing", os.cpu_count()) if os.cpu_count() > 1
                                           else ("in_memory", 1))
    assert _direct([])[0] in (None, "in_memory")  # default: in-process
    # The long form still works, and agreeing with --workers is fine.
    assert _direct(["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"]) == (
        "multi_processing", 2)
    assert _direct(["--workers", "2", "--direct_num_workers", "2"]) == ("multi_processing", 2)


def test_workers_refuses_negative_and_contradicting_flags():
    with pytest.raises(ValueError, match="--workers must be >= 0"):
        _runner_options(["--workers", "-1"])
    with pytest.raises(ValueError, match="give one or the other"):
        _runner_options(["--workers", "2", "--direct_running_mode", "multi_threading"])
    with pytest.raises(ValueError, match="give one or the other"):
        _runner_options(["--workers", "2", "--direct_num_workers", "3"])


def test_relation_threads_are_the_cores_per_worker_process(monkeypatch):
    from kgpipe.pipeline.options import RunConfig

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    base = ["--input", "in.jsonl", "--output", "out"]

    def threads(argv):
        options, _ = _runner_options(base + argv)
        return RunConfig.from_options(options).relation_threads

    assert threads([]) == 4  # in-process: the cores less the NER child's (7), at most 4
    assert threads(["--workers", "2"]) == 3 and threads(["--workers", "4"]) == 1  # 4 and 2 cores, one to NER
    assert threads(["--workers", "4", "--ner_process", "off"]) == 2
    assert threads(["--workers", "0"]) == 1  # one worker per core
    assert threads(["--relation_threads", "3", "--workers", "8"]) == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)  # 2 cores: NER child + 1
    assert threads([]) == 1 and threads(["--ner_process", "off"]) == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)  # taskset -c 0
    assert threads([]) == 1
    with pytest.raises(ValueError, match="--relation_threads must be >= 0"):
        threads(["--relation_threads", "-2"])


def test_ner_runs_in_a_child_process_when_a_worker_has_cores_to_spare(monkeypatch):
    from kgpipe.pipeline.options import RunConfig

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    base = ["--input", "in.jsonl", "--output", "out"]

    def child(argv):
        options, _ = _runner_options(base + argv)
        return RunConfig.from_options(options).ner_process

    assert child([]) is True  # in-process on 2 cores: NER beside linking and writing
    assert child(["--workers", "2"]) is False  # each worker process has one core
    assert child(["--ner_process", "off"]) is False and child(["--workers", "2", "--ner_process", "on"]) is True
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)  # taskset -c 0
    assert child([]) is False


@pytest.mark.slow
def test_a_script_without_a_main_guard_runs_with_the_model_process(tmp_path):
    """The spawned model process must not import (and so rerun) the script that started kgpipe."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "out"
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from kgpipe.pipeline.run import run\n"
        f"run(['--input', {str(root / 'pipeline/sample/sample.jsonl')!r}, '--output', {str(out)!r}, "
        "'--no_progress', '--ner_process', 'on'])\n"
        f"open({str(tmp_path / 'ran')!r}, 'a').write('x')\n",
        encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "ran").read_text() == "x"  # The script's code ran once, in this process only.
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["documents"] == 57 and summary["ner"]["model_loads"] == 1


def test_relation_precision_is_int8_where_onnx_runtime_serves_and_changes_the_run_id(monkeypatch):
    from kgpipe.ner.relations import extractor
    from kgpipe.pipeline.options import RunConfig

    def config(argv):
        options, _ = _runner_options(["--input", "in.jsonl", "--output", "out", "--relations"] + argv)
        return RunConfig.from_options(options)

    for serves in (True, False):  # a CPU-only machine with onnxruntime / a GPU machine (Keras)
        monkeypatch.setattr(extractor, "_onnx_available", lambda gpu_ok=False, serves=serves: serves)
        assert config([]).relation_int8 is serves
    assert config(["--relation_precision", "int8"]).relation_int8 is True
    assert config(["--relation_precision", "float32"]).relation_int8 is False
    assert config(["--relation_precision", "int8"]).fingerprint() != config(["--relation_precision", "float32"]).fingerprint()
    with pytest.raises(SystemExit):
        config(["--relation_precision", "int4"])
