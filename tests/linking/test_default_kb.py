import json
import pathlib

from kgpipe.linking.default_kb.build_default_kb import records
from kgpipe.linking.features import kb_classes
from kgpipe.linking.kb import load_entities
from kgpipe.linking.linker import default_kb_path

GOLD = pathlib.Path(__file__).parent / "data" / "gold.jsonl"


def test_kb_file_matches_its_generator():
    lines = default_kb_path().read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records()


def test_default_kb_is_broad_and_typed():
    entities = load_entities(default_kb_path())
    assert len(entities) >= 450
    untyped = [e.id for e in entities if not kb_classes(e.types)]
    assert untyped == ["kgp:phoenix-bird"]  # a mythical bird: no ontology class fits
    by_name: dict[str, list[str]] = {}
    for entity in entities:
        by_name.setdefault(entity.name, []).append(entity.id)
        assert entity.description and 0.0 < entity.prior <= 1.0
    assert len(by_name["朝阳区"]) == 2 and len(by_name["鼓楼区"]) == 4
    names = {alias for e in entities for alias in (e.name, *e.aliases)}
    assert {"苹果", "苹果公司", "蘋果公司", "Apple", "华为", "腾讯", "小米", "联想", "京东", "美团", "百度",
            "比亚迪", "耐克", "阿迪达斯", "三星", "索尼", "阿里巴巴", "中国", "China"} <= names


def test_gold_ids_exist_in_the_default_kb():
    ids = {e.id for e in load_entities(default_kb_path())}
    gold_ids = {m["kb_id"] for line in GOLD.read_text("utf-8").splitlines()
                for m in json.loads(line)["mentions"] if m["kb_id"] is not None}
    assert gold_ids and gold_ids <= ids
