"""Product attributes, categories and their evaluation (kg.products cores, no Beam)."""

from pathlib import Path

import pytest

from kgpipe.kg.products import units
from kgpipe.kg.products.attributes import AttributeConfig, AttributeExtractor, AttributeName
from kgpipe.kg.products.categories import CategoryClassifier, CategoryTree
from kgpipe.kg.products.evaluation import evaluate, load_titles, value_text

GOLD = Path(__file__).parent / "data" / "product_titles.jsonl"


def _values(text, **kwargs):
    out = {}
    for a in AttributeExtractor().extract(text, **kwargs):
        out.setdefault(a.name.value, []).append(value_text(a))
    return out


def test_phone_title_gives_every_spec_with_unit_codes_and_spans():
    text = "华为Mate 60 Pro 智能手机 12GB+512GB 雅丹黑 5G"
    attributes = AttributeExtractor().extract(text)
    assert {a.name.value: value_text(a) for a in attributes} == {
        "model": "Mate 60 Pro", "memory": "12 E34", "storage": "512 E34", "color": "雅丹黑", "network": "5G"}
    for a in attributes:
        assert text[a.start:a.end] == a.text and 0 < a.confidence <= 1
    assert [a.start for a in attributes] == sorted(a.start for a in attributes)


@pytest.mark.parametrize("text, expected", [
    ("联想ThinkPad X1 Carbon 14英寸 i7-1365U 16G 1T", {"model": ["ThinkPad X1 Carbon"], "size": ["14 INH"],
                                                    "memory": ["16 E34"], "storage": ["1 E35"]}),
    ("农夫山泉 饮用天然水 550ml×24瓶 整箱", {"volume": ["550 MLT"], "pack_count": ["24 C62"]}),
    ("烟台苹果 5斤装", {"weight": ["2.5 KGM"]}),
    ("云南白药牙膏 180g*3支装", {"weight": ["180 GRM"], "pack_count": ["3 C62"]}),
    ("金士顿 DDR4 16GB 台式机内存条", {"memory": ["16 E34"]}),
    ("闪迪 128G 内存卡", {"storage": ["128 E34"]}),
    ("老人机 4G全网通 红色", {"network": ["4G"], "color": ["红色"]}),
    ("华硕 RTX4060 游戏本", {}),  # "X4060" is no pack count, "RTX4060" no model.
    ("清爽美白 补水 蛋白粉 奶粉", {}),  # Words that end like colours.
    ("等边角钢60*60 散热器 150*80*80", {}),  # Sizes, not pack counts.
    ("牛肉丁10g 10包起 买2盒送1盒", {"weight": ["10 GRM"]}),  # Minimum orders and gifts are no pack counts.
    ("创维46l16hc 电源板", {"model": ["46l16hc"]}),  # A unit inside a code is no volume.
    ("2016 bamboo mortar and pestle bowl", {}),  # English prose is no model.
])
def test_rules(text, expected):
    assert _values(text) == expected


def test_full_width_title_reads_like_ascii_with_original_offsets():
    text = "ＨＵＡＷＥＩ　Ｐｕｒａ７０　１２ＧＢ＋５１２ＧＢ　５Ｇ手机"
    attributes = AttributeExtractor().extract(text)
    assert {a.name.value: a.value for a in attributes} == {"model": "Pura70", "memory": "12", "storage": "512",
                                                           "network": "5G"}
    assert all(text[a.start:a.end] == a.text for a in attributes)
    assert units.fold(text) != text and len(units.fold(text)) == len(text)


def test_brand_spans_and_latin_brands_are_not_the_model():
    assert _values("OPPO Find X7 手机")["model"] == ["Find X7"]
    assert _values("Foo Bar9 手机", brand_spans=[(0, 3)])["model"] == ["Bar9"]
    extractor = AttributeExtractor(AttributeConfig(latin_brands=("Acme",)))
    assert [a.value for a in extractor.extract("Acme Rocket 9 火箭") if a.name is AttributeName.MODEL] == ["Rocket 9"]


def test_emoji_and_no_specs_give_no_attributes():
    assert _values("🔥🔥 好物推荐 🎁") == {}
    assert _values("") == {}


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="max_model_tokens=0"):
        AttributeConfig(max_model_tokens=0)
    with pytest.raises(ValueError, match="latin_brands"):
        AttributeConfig(latin_brands=["OPPO"])


def test_normalise_number():
    assert units.normalise_number("2.50") == "2.5"
    assert units.normalise_number("5", units.WEIGHT_UNITS["斤"]) == "2.5"
    assert units.normalise_number("100") == "100"
    with pytest.raises(ValueError, match="number='x'"):
        units.normalise_number("x")


def test_tree_paths_and_checks():
    tree = CategoryTree()
    assert [c.id for c in tree.ancestors("RiceCooker")] == ["RiceCooker", "KitchenAppliance", "HomeAppliance"]
    assert tree.find("笔记本电脑").id == "Laptop" and tree.find("Laptop").label_zh == "笔记本电脑"
    assert len(tree) >= 60
    with pytest.raises(ValueError, match="parent='Nope'"):
        CategoryTree([("A", "Nope", "甲", "A", "甲")])
    with pytest.raises(ValueError, match="cycle"):
        CategoryTree([("A", "B", "甲", "A", "甲"), ("B", "A", "乙", "B", "乙")])
    with pytest.raises(KeyError, match="Nope"):
        tree.get("Nope")


@pytest.mark.parametrize("text, category", [
    ("华为Mate 60 Pro 智能手机", "Smartphone"),
    ("苹果iPhone 15 手机壳 透明防摔", "PhoneAccessory"),   # the longer keyword wins
    ("小米充电宝 适用苹果华为手机", "PhoneAccessory"),       # what it fits counts little
    ("烟台红富士苹果 新鲜水果", "Fruit"),
    ("美的电饭煲 4L", "RiceCooker"),
    ("不粘炒锅 燃气电磁炉通用", "Kitchenware"),
])
def test_classifier(text, category):
    match = CategoryClassifier().classify(text)
    assert match.category.id == category
    assert 0 < match.confidence <= 1 and match.start < match.end


def test_classifier_without_keywords_says_none():
    assert CategoryClassifier().classify("马化腾表示公司将继续加大投入") is None


def test_evaluation_scores_the_labelled_titles():
    titles = load_titles(GOLD)
    assert len(titles) >= 150 and {t.split for t in titles} == {"dev", "test", "test2"}
    result = evaluate(titles)
    overall = result["attributes"]["all"]
    assert overall.gold > 300 and 0.9 < overall.f1 <= 1.0
    assert result["category_accuracy"] > 0.9
    assert all(s.predicted >= s.true_positives for s in result["attributes"].values())


def test_load_titles_names_file_and_line_of_bad_records(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "split": "dev", "text": "x", "category": "手机", "attributes": {"colour": ["红"]}}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: unknown attribute\(s\) \['colour'\]"):
        load_titles(path)
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_titles(path)


def test_traditional_chinese_title_reads_like_simplified_with_values_as_written():
    text = "華為 Mate 60 Pro 手機 12GB+512GB 曜石黑 衛星通話"
    assert units.fold(text) == "华为 Mate 60 Pro 手机 12GB+512GB 曜石黑 卫星通话"
    assert _values(text) == {"model": ["Mate 60 Pro"], "memory": ["12 E34"], "storage": ["512 E34"], "color": ["曜石黑"]}
    assert CategoryClassifier().classify(text).category.id == "Smartphone"
    assert _values("鐵灰色 羽絨服")["color"] == ["鐵灰色"]  # The colour as written, found through 铁灰色.
