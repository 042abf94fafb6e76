"""Character n-gram retrieval: built by kb build, exact against a brute-force TF-IDF cosine."""

import math

import numpy as np
import pytest

from kgpipe.linking.index import AliasIndex, codepoints
from kgpipe.linking.index_build import build_index
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.linking.ngram import gram_hashes, query_hashes
from kgpipe.schemas.records import Entity

NAMES = ["高血压", "原发性高血压", "高血压性心脏病", "糖尿病", "2型糖尿病", "糖尿病性低血糖症", "冠状动脉粥样硬化性心脏病",
         "不稳定性心绞痛", "骨质疏松", "膝关节游离体", "膝骨关节病", "乳腺恶性肿瘤", "huawei", "apple inc"]


@pytest.fixture
def index(tmp_path) -> AliasIndex:
    entities = [Entity(id=f"E{i}", name=name) for i, name in enumerate(NAMES)]
    return AliasIndex.open(build_index(entities, tmp_path / "index", name="t", content_hash="0"))


def _grams(key: str) -> set[str]:
    return {key[i:i + n] for n in (1, 2, 3) for i in range(len(key) - n + 1)}


def _brute_force(index: AliasIndex, query: str) -> list[tuple[int, float]]:
    """Binary-TF, IDF = log(1 + N / df) cosine over 1-3-gram strings, every key scored."""
    keys = [index.keys[i] for i in range(len(index.keys))]
    grams = [_grams(k) for k in keys]
    df = {}
    for gs in grams:
        for g in gs:
            df[g] = df.get(g, 0) + 1
    idf = {g: math.log1p(len(keys) / d) for g, d in df.items()}
    unseen = math.log1p(len(keys))
    q = _grams(query)
    q_norm = math.sqrt(sum(idf.get(g, unseen) ** 2 for g in q))
    out = []
    for i, gs in enumerate(grams):
        dot = sum(idf[g] ** 2 for g in q & gs)
        if dot:
            out.append((i, dot / (q_norm * math.sqrt(sum(idf[g] ** 2 for g in gs)))))
    return sorted(out, key=lambda pair: (-pair[1], pair[0]))


@pytest.mark.parametrize("query", ["高血压", "高血压心脏病", "糖尿病反复低血糖", "左膝退变伴游离体", "huawey", "心"])
def test_search_equals_brute_force_cosine(index, query):
    index.ngrams.posting_budget = 10**9  # no pruning: every gram is read
    found = index.ngrams.search(query, 5)
    expected = _brute_force(index, query)[:5]
    assert [k for k, _ in found] == [k for k, _ in expected]
    assert np.allclose([s for _, s in found], [s for _, s in expected], atol=1e-5)


def test_exact_key_scores_one_and_misspelling_finds_its_key(index):
    (best, score), *_ = index.ngrams.search("糖尿病性低血糖症", 3)
    assert index.keys[best] == "糖尿病性低血糖症" and score == pytest.approx(1.0, abs=1e-5)
    assert index.keys[index.ngrams.search("冠状动脉粥样硬化心脏病", 1)[0][0]] == "冠状动脉粥样硬化性心脏病"
    assert index.ngrams.search("", 3) == [] and index.ngrams.search("魑魅魍魉", 3) == []


def test_posting_budget_reads_the_rarest_grams_first(index):
    index.ngrams.posting_budget = 1  # only the rarest gram is read
    index.ngrams.postings_read = 0
    found = index.ngrams.search("膝关节游离体", 3)
    assert index.ngrams.postings_read == 1 and index.keys[found[0][0]] == "膝关节游离体"


def test_python_query_hashes_equal_the_vectorised_build_hashes():
    for key in ["高血压", "ab", "x", "华为mate60"]:
        cp = codepoints([key])
        built = set(np.concatenate([gram_hashes(cp, n)[0] for n in (1, 2, 3)]).tolist())
        assert built == query_hashes(key)


def test_ngram_candidates_serve_mentions_exact_and_fuzzy_miss(tiny_kb):
    with_ngrams = EntityLinker.load(LinkerConfig(kb_path=tiny_kb, ngram_candidates=20))
    without = EntityLinker.load(LinkerConfig(kb_path=tiny_kb, ngram_candidates=0))
    assert without.candidates("吉林省长春市朝阳区政府") == []
    found = [with_ngrams.index.entity_id(c.entity_index) for c in with_ngrams.candidates("吉林省长春市朝阳区政府")]
    assert {"kgp:chaoyang-cc", "kgp:changchun"} <= set(found)
    assert [with_ngrams.index.entity_id(c.entity_index) for c in with_ngrams.candidates("华为手机业务部")] == ["Q160120"]
    # an exact alias keeps the unsupervised candidates as they were
    assert with_ngrams.candidates("苹果") == without.candidates("苹果")


def test_unsupervised_linker_retrieves_no_ngram_candidates_by_default(tiny_kb):
    assert LinkerConfig().ngram_candidates == 0
    assert EntityLinker.load(LinkerConfig(kb_path=tiny_kb)).candidates("吉林省长春市朝阳区政府") == []
