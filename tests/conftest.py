"""Fixtures shared by every test package."""

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SAMPLE = REPO_ROOT / "pipeline" / "sample" / "sample.jsonl"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` next to the repository root (not the working directory).

    CI always has it, so there a missing folder fails the test; on a developer's machine
    without it the test is skipped with that reason.
    """
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = f"shared data not found at {SHARED_DATA}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def linked_sample_run(tmp_path_factory) -> Path:
    """The bundled sample through the KB linker (dictionary mentions, no NER model), written with
    ``kg.local.write_run``: a run directory with real Links, for SPARQL and store tests."""
    from kgpipe.kg.builder import BuilderConfig
    from kgpipe.kg.local import write_run
    from kgpipe.linking.linker import EntityLinker, LinkerConfig
    from kgpipe.schemas.records import Document

    linker = EntityLinker.load(LinkerConfig(dictionary_mentions=True))
    documents, annotations, entity_ids = [], {}, set()
    with open(SAMPLE, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            row = json.loads(line)
            doc = Document(row["id"], row["text"], source=f"sample.jsonl:{number}", metadata={"kind": row["kind"]})
            mentions = linker.detect_mentions(doc)
            links = linker.link(doc, mentions)
            documents.append(doc)
            annotations[doc.id] = (mentions, links)
            entity_ids |= {link.entity_id for link in links if link.entity_id}
    entities = [linker.entity(i) for i in sorted(entity_ids)]
    out = tmp_path_factory.mktemp("linked_sample")
    write_run(out, BuilderConfig("run-linked-sample", extractor="kgpipe/test ner=dictionary kb=default"),
              documents, annotations, entities)
    return out
