"""Product facts of the builder: product node, brands, category, attributes, provenance; valid RDF for odd titles."""

import pyoxigraph as ox
import pytest

from kgpipe.kg.assemble import RunAssembler
from kgpipe.kg.builder import BuilderConfig, TripleBuilder
from kgpipe.kg.export.rdf import ShardWriter
from kgpipe.kg.local import run_triples, write_run
from kgpipe.kg.products.facts import ProductDocuments, ProductFacts, ProductFactsConfig
from kgpipe.kg.relations import ResolvedMention
from kgpipe.kg.validate import ValidateConfig, validate_run
from kgpipe.schemas.records import Document, Link, Mention
from kgpipe.schemas.vocab import KGP, SCHEMA

BASE = "https://w3id.org/kgpipe/resource/"
CATEGORY = "https://w3id.org/kgpipe/category/"


def _mention(doc, surface, label, entity_id, types, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = doc.text.index(surface, start + 1)
    end = start + len(surface)
    mention = Mention(doc.id, start, end, surface, label, 0.9, "test-model")
    if entity_id is None:
        link = Link(doc.id, start, end, surface, label, None, 0.3, nil_key=f"{surface}|{label}")
    else:
        link = Link(doc.id, start, end, surface, label, entity_id, 0.8, entity_name=surface, entity_types=types)
    return mention, link


def _annotate(doc, *specs):
    pairs = [_mention(doc, *spec) for spec in specs]
    return [m for m, _ in pairs], [l for _, l in pairs]


TITLES = {
    "phone": (Document("p1", "华为Mate 60 Pro 智能手机 12GB+512GB 雅丹黑 5G", metadata={"kind": "product"}),
              [("华为", "BRAND", "huawei", ("Brand",))]),
    "collab": (Document("p2", "李宁 x 迪士尼联名 运动鞋 白色", metadata={"kind": "product"}),
               [("李宁", "BRAND", "lining", ("Brand",)), ("迪士尼", "BRAND", "disney", ("Brand",))]),
    "no-brand": (Document("p3", "加厚保温杯 316不锈钢 1000ml 🎁送杯套", metadata={"kind": "product"}), []),
    "full-width": (Document("p4", "ＨＵＡＷＥＩ　Ｐｕｒａ７０　１２ＧＢ＋２５６ＧＢ　５Ｇ手机", metadata={"kind": "product"}),
                   [("ＨＵＡＷＥＩ", "BRAND", "huawei", ("Brand",))]),
    "emoji": (Document("p5", "🔥爆款🔥 美的 空气炸锅 5L ✨", metadata={"kind": "product"}),
              [("美的", "ORG", "midea", ("Organization", "Brand"))]),
    "mixed": (Document("p6", "Apple iPhone 15 手机 256GB 支持移动联通5G", metadata={"kind": "product"}),
              [("Apple", "ORG", "apple", ("Organization",)), ("iPhone", "PRODUCT", "iphone", ("Product",)),
               ("联通", "ORG", "unicom", ("Organization",))]),
}


def _build(name, config=None):
    doc, specs = TITLES[name]
    mentions, links = _annotate(doc, *specs)
    builder = TripleBuilder(BuilderConfig("run-p", extractor="kgpipe/test"), product_facts=ProductFacts(config))
    return doc, builder.mention_triples(doc, mentions, links)


def _item_triples(triples, doc):
    item = f"{BASE}doc/{doc.id}#product"
    return item, [t for t in triples if t.subject.startswith(item)]


def test_phone_title_gives_product_node_with_brand_category_and_typed_attributes():
    doc, triples = _build("phone")
    item, facts = _item_triples(triples, doc)
    by = {(t.predicate, t.object) for t in facts if t.subject == item}
    assert (str(KGP.brand), f"{BASE}entity/huawei") in by
    assert (str(KGP.category), CATEGORY + "Smartphone") in by
    assert (str(SCHEMA.model), "Mate 60 Pro") in by and (str(SCHEMA.color), "雅丹黑") in by
    assert ("http://www.w3.org/2000/01/rdf-schema#label", "华为 Mate 60 Pro") in by  # Short: brand and model.
    assert (str(SCHEMA.name), doc.text) in by
    storage = [t for t in facts if t.subject == item + "-storage"]
    assert {(t.predicate, t.object, t.datatype) for t in storage} >= {
        (str(SCHEMA.value), "512", "http://www.w3.org/2001/XMLSchema#decimal"),
        (str(SCHEMA.unitCode), "E34", None), (str(SCHEMA.name), "storage", None)}
    for t in facts:  # Provenance as every other triple: document, offsets, confidence, extractor, run.
        assert t.doc_id == "p1" and t.extractor == "kgpipe/test" and t.run_id == "run-p" and 0 < t.confidence <= 1
    spec = [t for t in storage if t.predicate == str(SCHEMA.value)][0]
    assert doc.text[spec.start:spec.end] == "512GB"
    # The classes are described once per run (RunAssembler.category), not in the title's triples.
    assert not [t for t in triples if t.predicate.endswith("#subClassOf")]
    builder = TripleBuilder(BuilderConfig("run-p", extractor="kgpipe/test"))
    classes = builder.product_facts.classes_of(triples)
    assert classes == [CATEGORY + "Electronics", CATEGORY + "Smartphone"]
    hierarchy = {(t.subject, t.object) for c in classes for t in builder.category_triples(c)
                 if t.predicate.endswith("#subClassOf")}
    assert hierarchy == {(CATEGORY + "Smartphone", CATEGORY + "Electronics"),
                         (CATEGORY + "Electronics", str(KGP.Product))}


def test_category_classes_are_stated_once_per_run_however_many_titles_use_them():
    assembler = RunAssembler(BuilderConfig("run-p", extractor="kgpipe/test"))
    documents = [Document(f"t{i}", text, metadata={"kind": "product"}) for i, text in enumerate([
        "华为Mate 60 Pro 智能手机 12GB+512GB 雅丹黑", "小米14 手机 16GB+512GB 白色", "联想小新 笔记本电脑 14英寸"])]
    records = [assembler.document(d, [], []) for d in documents]
    assert records[0].categories == records[1].categories  # Both phones: Smartphone and what is above it.
    triples = run_triples(assembler, records)
    statements = [(t.subject, t.predicate, t.object, t.language) for t in triples if t.subject.startswith(CATEGORY)]
    assert len(statements) == len(set(statements)) and statements
    assert {s for s, p, *_ in statements if p.endswith("#subClassOf")} == {
        c for record in records for c in record.categories}


def test_collaboration_title_has_both_brands_and_supported_networks_are_no_brand():
    doc, triples = _build("collab")
    item, facts = _item_triples(triples, doc)
    brands = {t.object for t in facts if t.predicate == str(KGP.brand)}
    assert brands == {f"{BASE}entity/lining", f"{BASE}entity/disney"}
    doc, triples = _build("mixed")
    item, facts = _item_triples(triples, doc)
    assert {t.object for t in facts if t.predicate == str(KGP.brand)} == {f"{BASE}entity/apple"}
    assert {t.object for t in facts if t.predicate == str(SCHEMA.isVariantOf)} == {f"{BASE}entity/iphone"}


def test_gating_by_kind_and_title_shape():
    facts = ProductFacts()
    assert facts.extract(Document("n", "华为发布了新手机。", metadata={"kind": "news"}), [], BASE) == []
    assert facts.extract(Document("n", "华为在深圳发布了新一代折叠屏手机。"), [], BASE) == []
    assert facts.extract(Document("t", "华为 折叠屏手机 512GB"), [], BASE)  # No kind: a one-line title.
    assert facts.extract(Document("t", "今天天气很好"), [], BASE) == []   # No kind, no category.
    assert facts.extract(Document("h", "华为发布新款折叠屏手机"), [], BASE) == []  # A headline, not a title.
    # The two THUCNews items (of 1,000) that read as titles before: a wire lede cut short, a poll.
    assert facts.extract(Document("w", "转播表-4台关注广东客战北京 街球王PK卢卡斯有播新浪体育讯北京时间2月11日，"
                                       "CBA联赛第22轮继续进行，以下是本轮电视转"), [], BASE) == []
    assert facts.extract(Document("p", "新浪家居联合新京报调查：您家装修是否遭遇过增项"), [], BASE) == []
    assert facts.extract(Document("t", "腾讯 智能电视 55英寸"), [], BASE)  # 讯 of a brand is no lede.
    off = ProductFacts(ProductFactsConfig(documents=ProductDocuments.NONE))
    assert off.extract(Document("t", "华为 手机", metadata={"kind": "product"}), [], BASE) == []
    every = ProductFacts(ProductFactsConfig(documents=ProductDocuments.ALL))
    assert every.extract(Document("t", "某物 256GB", metadata={"kind": "news"}), [], BASE)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="documents='all'"):
        ProductFactsConfig(documents="all")
    with pytest.raises(ValueError, match="max_title_length=0"):
        ProductFactsConfig(max_title_length=0)


@pytest.mark.parametrize("name", sorted(TITLES))
def test_odd_titles_give_valid_ntriples(name, tmp_path):
    doc, triples = _build(name)
    with ShardWriter(tmp_path, prefix="t") as writer:
        writer.write_all(triples)
    store = ox.Store()
    for path in writer.paths:
        store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    assert len(store) > 0
    rows = list(store.query(f"SELECT ?c WHERE {{ <{BASE}doc/{doc.id}#product> <{KGP.category}> ?c }}"))
    assert len(rows) == 1


def test_odd_titles_pass_validation(tmp_path):
    documents, annotations = [], {}
    for doc, specs in TITLES.values():
        documents.append(doc)
        annotations[doc.id] = _annotate(doc, *specs)
    write_run(tmp_path, BuilderConfig("run-odd", extractor="kgpipe/test"), documents, annotations)
    report = validate_run(tmp_path)
    assert report.ok, report.to_text()


def test_resolved_mentions_are_not_mutated():
    doc, specs = TITLES["phone"]
    mentions, links = _annotate(doc, *specs)
    resolved = [ResolvedMention(l.start, l.end, l.text, f"{BASE}entity/huawei", KGP.Brand, 0.9, m, l)
                for m, l in zip(mentions, links)]
    before = list(resolved)
    first = ProductFacts().extract(doc, resolved, BASE)
    assert resolved == before and first == ProductFacts().extract(doc, resolved, BASE)


def test_series_after_a_linked_brand_and_latin_tails_stay_in_the_model():
    doc = Document("p7", "华为Mate 60 Pro 手机", metadata={"kind": "product"})
    mentions, links = _annotate(doc, ("华为", "BRAND", "huawei", ("Brand",)), ("Mate", "BRAND", None, ()))
    triples = TripleBuilder(BuilderConfig("run-p")).mention_triples(doc, mentions, links)
    item = f"{BASE}doc/p7#product"
    brands = {t.object for t in triples if t.subject == item and t.predicate == str(KGP.brand)}
    assert brands == {f"{BASE}entity/huawei"}
    assert {t.object for t in triples if t.subject == item and t.predicate == str(SCHEMA.model)} == {"Mate 60 Pro"}
    doc = Document("p8", "联想ThinkPad X1 Carbon 笔记本电脑", metadata={"kind": "product"})
    mentions, links = _annotate(doc, ("联想ThinkPad", "BRAND", "lenovo", ("Brand",)))
    triples = TripleBuilder(BuilderConfig("run-p")).mention_triples(doc, mentions, links)
    assert {t.object for t in triples if t.predicate == str(SCHEMA.model)} == {"ThinkPad X1 Carbon"}
    # An unlinked "brand" inside the model the title names (once the linked brands are kept out of
    # it) is a series word; an unlinked brand of its own (no linked one) stays.
    doc = Document("p9", "戴森 Dyson V15 Detect 无线吸尘器", metadata={"kind": "product"})
    mentions, links = _annotate(doc, ("戴森", "BRAND", "dyson", ("Brand",)), ("Dyson", "BRAND", "dyson", ("Brand",)),
                                ("Detect", "BRAND", None, ()))
    triples = TripleBuilder(BuilderConfig("run-p")).mention_triples(doc, mentions, links)
    item = f"{BASE}doc/p9#product"
    assert {t.object for t in triples if t.subject == item and t.predicate == str(KGP.brand)} == {
        f"{BASE}entity/dyson"}
    assert {t.object for t in triples if t.predicate == str(SCHEMA.model)} == {"V15 Detect"}
    doc = Document("p10", "Anker A1289 充电宝 10000mAh", metadata={"kind": "product"})
    mentions, links = _annotate(doc, ("Anker", "BRAND", None, ()))
    triples = TripleBuilder(BuilderConfig("run-p")).mention_triples(doc, mentions, links)
    assert len({t.object for t in triples if t.predicate == str(KGP.brand)}) == 1


def test_sampled_validation_checks_attribute_values(tmp_path):
    doc, specs = TITLES["phone"]
    write_run(tmp_path, BuilderConfig("run-s", extractor="kgpipe/test"), [doc], {doc.id: _annotate(doc, *specs)})
    path = next((tmp_path / "rdf").glob("*.nt"))
    text = path.read_text("utf-8")
    bad = text.replace('"E34"', '"gigabytes"', 1)  # Not a UN/CEFACT code.
    assert bad != text
    path.write_text(bad, encoding="utf-8")
    report = validate_run(tmp_path, ValidateConfig(shacl_max_triples=10, shacl_sample_nodes=1000))
    assert report.shacl_sampled and "UN/CEFACT" in report.to_text()


def test_auto_mode_takes_labelled_titles_of_known_types_and_no_sample_news():
    import json
    from pathlib import Path

    from kgpipe.kg.products.evaluation import load_titles

    root = Path(__file__).resolve().parents[2]
    facts = ProductFacts()
    titles = load_titles(root / "tests" / "kg" / "data" / "product_titles.jsonl")
    taken = [facts.is_product_text(Document("t", t.text))[0] for t in titles]
    placed = [facts.classifier.classify(t.text) is not None for t in titles]
    assert taken == placed and sum(taken) >= 200  # Without a kind, a title must name a known type.
    rows = [json.loads(line) for line in open(root / "pipeline" / "sample" / "sample.jsonl", encoding="utf-8")]
    news = [Document(r["id"], r["text"]) for r in rows if r["kind"] == "news"]  # Metadata dropped on purpose.
    assert news and not any(facts.is_product_text(d)[0] for d in news)


def test_brand_name_length_drops_a_latin_series_joined_to_a_chinese_name():
    from kgpipe.kg.products.facts import brand_name_length

    assert [brand_name_length(s) for s in ("联想ThinkPad", "大疆Mini", "苹果 iPhone", "华为Ｍａｔｅ")] == [2, 2, 2, 2]
    # Whole: no Latin tail, Latin first, one Chinese character, a full-width Latin name.
    assert [brand_name_length(s) for s in ("耐克", "OPPO", "jaff 捷夫", "小Q", "ＨＵＡＷＥＩ")] == [2, 4, 7, 2, 6]
