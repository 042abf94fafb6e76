"""Fixtures: a sample run directory written by the kg writers (no Beam)."""

import shutil

import pytest

from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.local import write_run
from tests.kg import sample

RUN_ID = "run-sample"


@pytest.fixture(scope="session")
def sample_run_dir(tmp_path_factory):
    """A read-only sample run: DIR/parquet/*, DIR/rdf/*.nt, DIR/manifests/*."""
    out = tmp_path_factory.mktemp("sample_run")
    config = BuilderConfig(RUN_ID, extractor=sample.EXTRACTOR)
    write_run(out, config, sample.DOCUMENTS, sample.mentions_and_links(), sample.ENTITIES)
    return out


@pytest.fixture
def run_copy(sample_run_dir, tmp_path):
    """A private, writable copy of the sample run."""
    target = tmp_path / "run"
    shutil.copytree(sample_run_dir, target)
    return target
