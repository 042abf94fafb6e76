"""A scaled-down run of the synthetic benchmark KB: build, reload, every name found."""

import importlib.util
import pathlib
import random

import pytest

from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.linking.normalize import normalize

_BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench" / "kb_synthetic.py"


def _generate():
    spec = importlib.util.spec_from_file_location("kb_synthetic", _BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


@pytest.mark.slow
def test_twenty_thousand_entities_round_trip(tmp_path):
    kb = tmp_path / "synthetic.jsonl"
    _generate()(kb, 20_000, 2)
    from kgpipe.pipeline.cli import main

    assert main(["kb", "build", "--input", str(kb), "--out", str(tmp_path / "index")]) == 0
    linker = EntityLinker.load(LinkerConfig(kb_path=str(tmp_path / "index")))
    index = linker.index
    assert index.size == 20_000 and index.manifest["aliases"] >= 59_000
    rng = random.Random(1)
    found = misspelt_found = 0
    sample = [index.entity(rng.randrange(index.size)) for _ in range(300)]
    for entity in sample:
        found += any(index.entity_id(e) == entity.id for e, _, _ in index.exact(normalize(entity.name)))
        if len(entity.name) >= 4:
            typo = entity.name[:-1] + "丂"
            misspelt_found += entity.id in {index.entity_id(c.entity_index) for c in linker.candidates(typo)}
    assert found == len(sample)
    long_names = sum(len(e.name) >= 4 for e in sample)
    assert misspelt_found >= 0.95 * long_names
