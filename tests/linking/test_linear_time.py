"""Linking work per document is linear in its mentions (operation counts, not wall clock)."""

import pytest

from kgpipe.linking.candidates import RawCandidate
from kgpipe.linking.linker import EntityLinker, LinkerConfig, _Scored
from kgpipe.schemas.records import Document, Mention

# 200 characters with 4 mentions: a 1M-character document holds 20,000 mentions.
SENTENCE = ("据报道苹果公司与华为在北京签约，小米也在上海宣布新计划。" + "今天天气很好，" * 25)[:200]
SURFACES = ("苹果公司", "华为", "北京", "小米")


def _mentions(doc_id: str, text: str) -> list[Mention]:
    out = []
    for base in range(0, len(text), len(SENTENCE)):
        for surface in SURFACES:
            start = text.index(surface, base)
            out.append(Mention(doc_id, start, start + len(surface), surface, "ORG", 1.0, "t"))
    return out


def _count_operations(linker: EntityLinker, documents: list[Document], monkeypatch) -> int:
    """Neighbours examined plus relatedness look-ups over linking ``documents``."""
    counts = {"operations": 0}
    linker.coherence_operations = 0

    def counted_related(first, second, cache):
        counts["operations"] += 1
        return 0.0

    def scored(document, mention):  # candidate scoring is per mention; stub it to keep the test fast
        entity = SURFACES.index(mention.text)
        return [_Scored(RawCandidate(entity, 1.0, 1.0), f"E{entity}", [0.5, 0.5, 0.5, 0.5]),
                _Scored(RawCandidate(entity + 10, 0.5, 0.9), f"E{entity + 10}", [0.4, 0.4, 0.5, 0.4])]

    monkeypatch.setattr(linker, "_related", counted_related)
    monkeypatch.setattr(linker, "_score_locally", scored)
    for document in documents:
        links = linker.link(document, _mentions(document.id, document.text))
        assert len(links) == 4 * len(document.text) // len(SENTENCE)
    return counts["operations"] + linker.coherence_operations


@pytest.mark.slow
def test_one_megabyte_document_costs_at_most_twice_per_character_of_1000_documents(monkeypatch):
    linker = EntityLinker.load(LinkerConfig())
    repeats = 1_000_000 // len(SENTENCE)
    repeats -= repeats % 1000
    text = SENTENCE * repeats  # 1M characters, 20,000 mentions
    whole = _count_operations(linker, [Document("big", text)], monkeypatch)
    piece = len(text) // 1000
    parts = [Document(f"p{i}", text[i * piece:(i + 1) * piece]) for i in range(1000)]
    split = _count_operations(linker, parts, monkeypatch)
    assert whole <= 2 * split, (whole, split)
    # and it is linear: the per-mention work is bounded by the window, not the document
    mentions = 4 * repeats
    config = linker.config
    assert whole <= mentions * (2 * config.coherence_window + config.coherence_candidates * config.coherence_mentions)


def test_nearest_leaders_match_a_full_sort(monkeypatch):
    """The outward walk picks the mentions a full sort by (distance, index) picks, ties included."""
    import random

    rng = random.Random(0)
    linker = EntityLinker.load(LinkerConfig(coherence_mentions=3, coherence_window=1000))
    for _ in range(50):
        starts = sorted(rng.randrange(40) for _ in range(12))
        rng.shuffle(starts)
        mentions = [Mention("d", s, s + 1, "x", "ORG", 1.0, "t") for s in starts]
        keys = [rng.choice("abc") for _ in starts]
        leaders = [None if rng.random() < 0.2 else 100 + i for i in range(len(starts))]
        order = sorted(range(len(mentions)), key=lambda j: (mentions[j].start, j))
        for rank, position in enumerate(order):
            expected = sorted((abs(mentions[j].start - mentions[position].start), j) for j in range(len(mentions))
                              if j != position and leaders[j] is not None and keys[j] != keys[position])
            want = sorted({leaders[j] for _, j in expected[:3]})
            assert linker._nearest_leaders(mentions, keys, leaders, order, rank) == want
