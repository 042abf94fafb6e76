"""Fixtures for the store tests: the kg sample run, a Virtuoso server, the questions in SPARQL and Cypher.

Real stores only. When Virtuoso's binaries are missing the Virtuoso tests skip
with that reason on a developer's machine and fail under CI (``CI`` set), where
``.ci/run`` installs them.
"""

import os
import shutil

import pytest

from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.local import write_run
from kgpipe.kg.stores import virtuoso_server
from tests.kg import sample

RUN_ID = "run-sample"
# A syntax error every store rejects (Virtuoso's lax parser takes a bare word for a relative IRI).
BROKEN_LINE = '<http://x/a> <http://x/b> "unterminated .\n'


def require(ok: bool, message: str) -> None:
    """Skips (locally) or fails (CI) when a store's software is missing."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must install it: see .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def store_run(tmp_path_factory):
    """The kg sample run (documents, mentions, links, triples, RDF shards, manifest), read-only."""
    out = tmp_path_factory.mktemp("store_run")
    write_run(out, BuilderConfig(RUN_ID, extractor=sample.EXTRACTOR), sample.DOCUMENTS, sample.mentions_and_links(),
              sample.ENTITIES)
    return out


@pytest.fixture
def run_copy(store_run, tmp_path):
    """A writable copy of the sample run."""
    target = tmp_path / "run"
    shutil.copytree(store_run, target)
    return target


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A Virtuoso server on free loopback ports with a temporary database, allowed to read pytest's temp dirs."""
    require(virtuoso_server.server_binary() is not None and shutil.which("isql-vt") is not None,
            "Virtuoso is not installed (apt-get install virtuoso-opensource)")
    base = tmp_path_factory.getbasetemp()
    server = virtuoso_server.VirtuosoServer(tmp_path_factory.mktemp("virtuoso_db"), dirs_allowed=[base])
    config = server.start()
    yield config
    server.stop()
