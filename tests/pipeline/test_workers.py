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

    assert threads([]) == 4  # in-process: the cores, at most 4
    assert threads(["--workers", "2"]) == 4 and threads(["--workers", "4"]) == 2
    assert threads(["--workers", "0"]) == 1  # one worker per core
    assert threads(["--relation_threads", "3", "--workers", "8"]) == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)  # taskset -c 0
    assert threads([]) == 1
    with pytest.raises(ValueError, match="--relation_threads must be >= 0"):
        threads(["--relation_threads", "-2"])
