import json

import numpy as np
import pytest

from kgpipe.linking.index import AliasIndex, IndexError_
from kgpipe.linking.index_build import build_index
from kgpipe.linking.kb import load_entities
from kgpipe.linking.normalize import normalize
from tests.linking.conftest import write_jsonl


@pytest.fixture
def index_dir(tiny_kb, tmp_path):
    return build_index(load_entities(tiny_kb), tmp_path / "index", name="tiny", content_hash="0" * 64)


def test_round_trip_entities_and_manifest(tiny_kb, index_dir):
    index = AliasIndex.open(index_dir)
    entities = load_entities(tiny_kb)
    assert index.size == len(entities) and index.version == "tiny@000000000000"
    assert [index.entity(i) for i in range(index.size)] == entities
    for position, entity in enumerate(entities):
        assert index.entity_index(entity.id) == position
    assert index.entity_index("nope") == -1
    manifest = json.loads((index_dir / "manifest.json").read_text("utf-8"))
    assert manifest["alias_keys"] == len(index.keys)


def test_exact_lookup_normalises_and_shares_priors(index_dir):
    index = AliasIndex.open(index_dir)
    postings = index.exact(normalize("苹果"))
    by_id = {index.entity_id(e): (p, is_name) for e, p, is_name in postings}
    assert set(by_id) == {"Q312", "Q89"}
    assert by_id["Q89"][1] and not by_id["Q312"][1]
    assert sum(p for p, _ in by_id.values()) == pytest.approx(1.0)
    assert by_id["Q312"][0] > by_id["Q89"][0]  # prior 0.9 vs 0.6
    assert index.exact(normalize("ＡＰＰＬＥ")) == index.exact("apple") != []
    assert index.exact("不存在") == []


def test_similar_keys_finds_near_spellings(index_dir):
    index = AliasIndex.open(index_dir)
    keys = [index.keys[k] for k, _ in index.similar_keys(normalize("华为技朮有限公司"), 3)]
    assert keys[0] == "华为技术有限公司"


def test_keys_are_sorted_and_arrays_are_memory_mapped(index_dir):
    index = AliasIndex.open(index_dir)
    keys = [index.keys[i] for i in range(len(index.keys))]
    assert keys == sorted(keys)
    postings = index.arrays["posting_entities"]
    assert isinstance(postings.base, np.memmap) and not postings.flags.writeable


def test_rebuild_replaces_atomically_and_refuses_foreign_dirs(tiny_kb, tmp_path, index_dir):
    entities = load_entities(tiny_kb)[:2]
    build_index(entities, index_dir, name="tiny", content_hash="1" * 64)
    assert AliasIndex.open(index_dir).size == 2
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(ValueError, match="not an index directory"):
        build_index(entities, foreign, name="x", content_hash="2" * 64)
    assert (foreign / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign", "index", "tiny.jsonl"]


def test_failed_build_leaves_nothing(tmp_path):
    def broken():
        yield from load_entities(write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "name": "A"}]))
        raise RuntimeError("KB stream failed")

    with pytest.raises(RuntimeError):
        build_index(broken(), tmp_path / "index", name="x", content_hash="0" * 64)
    assert not (tmp_path / "index").exists()
    with pytest.raises(ValueError, match="no entities"):
        build_index([], tmp_path / "index", name="x", content_hash="0" * 64)


def test_open_rejects_missing_incomplete_and_outdated(index_dir, tmp_path):
    with pytest.raises(IndexError_, match="no manifest.json"):
        AliasIndex.open(tmp_path)
    manifest = json.loads((index_dir / "manifest.json").read_text("utf-8"))
    (index_dir / "manifest.json").write_text(json.dumps(manifest | {"format_version": 0}), "utf-8")
    with pytest.raises(IndexError_, match="rebuild it"):
        AliasIndex.open(index_dir)
    (index_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (index_dir / "gram_keys.npy").unlink()
    with pytest.raises(IndexError_, match="gram_keys.npy is missing"):
        AliasIndex.open(index_dir)


def test_entities_without_usable_names_index_but_never_match(tmp_path):
    path = write_jsonl(tmp_path / "kb.jsonl", [{"id": "p", "name": "！？"}])
    index = AliasIndex.open(build_index(load_entities(path), tmp_path / "index", name="x", content_hash="0" * 64))
    assert index.size == 1 and len(index.keys) == 0
    assert index.exact("") == [] and index.similar_keys("abc", 5) == []
