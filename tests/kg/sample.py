"""A small hand-made run (documents, mentions, links, KB entities) for kg tests.

Offsets are computed from the texts, never typed by hand, so the records are
always consistent with ``schemas.records``' span checks.
"""

from __future__ import annotations

from kgpipe.schemas.records import Candidate, Document, Entity, Link, Mention

MODEL = "albert-zh-tiny@test"
KB = "kb-test-1"
EXTRACTOR = f"kgpipe/0.1.0 ner={MODEL} kb={KB}"

DOCUMENTS = [
    Document("news-1", "马云创办了阿里巴巴。马云在杭州会见了张勇。", source="news.jsonl:1", metadata={"title": "阿里新闻"}),
    Document("shop-1", "华为Mate40手机，小米充电宝。", source="titles.jsonl:1"),
    Document("news-2", "腾讯与马化腾出席了深圳的发布会。", source="news.jsonl:2"),
]

ENTITIES = [
    Entity("E1", "马云", aliases=("Jack Ma", "马云"), types=("Person",), description="阿里巴巴集团创始人"),
    Entity("E2", "阿里巴巴", aliases=("阿里",), types=("Organization", "企业")),
    Entity("E3", "杭州", types=("城市",)),
    Entity("E4", "华为", types=("品牌",)),
    Entity("E5", "腾讯", types=("Organization",)),
    Entity("E6", "马化腾", types=("Person",)),
    Entity("E7", "深圳", types=("城市",)),
]
_BY_ID = {e.id: e for e in ENTITIES}

# (doc id, surface, occurrence, NER label, KB id or None for NIL)
_SPEC = [
    ("news-1", "马云", 0, "PER", "E1"),
    ("news-1", "阿里巴巴", 0, "ORG", "E2"),
    ("news-1", "马云", 1, "PER", "E1"),
    ("news-1", "杭州", 0, "LOC", "E3"),
    ("news-1", "张勇", 0, "PER", None),
    ("shop-1", "华为", 0, "HP", "E4"),
    ("shop-1", "手机", 0, "HC", None),
    ("shop-1", "小米", 0, "HP", None),
    ("shop-1", "充电宝", 0, "HC", None),
    ("news-2", "腾讯", 0, "ORG", "E5"),
    ("news-2", "马化腾", 0, "PER", "E6"),
    ("news-2", "深圳", 0, "LOC", "E7"),
]


def _find(text: str, surface: str, occurrence: int) -> int:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return start


def mentions_and_links() -> dict[str, tuple[list[Mention], list[Link]]]:
    """Returns ``{doc id: (mentions, links)}`` for the sample documents."""
    texts = {d.id: d.text for d in DOCUMENTS}
    out: dict[str, tuple[list[Mention], list[Link]]] = {d.id: ([], []) for d in DOCUMENTS}
    for i, (doc_id, surface, occurrence, label, kb_id) in enumerate(_SPEC):
        start = _find(texts[doc_id], surface, occurrence)
        end = start + len(surface)
        score = 0.9 + (i % 10) / 100
        out[doc_id][0].append(Mention(doc_id, start, end, surface, label, score, MODEL))
        if kb_id is None:
            link = Link(doc_id, start, end, surface, label, None, 0.2, nil_key=f"{surface}|{label}", kb_version=KB)
        else:
            entity = _BY_ID[kb_id]
            link = Link(doc_id, start, end, surface, label, kb_id, 0.8, alternatives=(Candidate(kb_id, 0.8),),
                        entity_name=entity.name, entity_types=entity.types, kb_version=KB)
        out[doc_id][1].append(link)
    return out
