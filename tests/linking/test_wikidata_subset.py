import gzip
import json

from kgpipe.linking.kb import load_entities
from kgpipe.linking.wikidata_subset import main
from tests.linking.test_kb import _wikidata_item


def test_subset_keeps_items_with_the_language_and_loads(tmp_path):
    dump = tmp_path / "dump.json.gz"
    items = [_wikidata_item("Q148", "中国", "China", p31=["Q6256"], sitelinks=3),
             {"type": "item", "id": "Q2", "labels": {"en": {"language": "en", "value": "Earth"}}},
             _wikidata_item("Q3", "生命", sitelinks=0)]
    items[0]["labels"]["fr"] = {"language": "fr", "value": "Chine"}
    with gzip.open(dump, "wt", encoding="utf-8") as handle:
        handle.write("[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]\n")
    out = tmp_path / "subset.jsonl.gz"
    assert main(["--dump", str(dump), "--out", str(out), "--min-sitelinks", "1"]) == 0
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        kept = [json.loads(line) for line in handle]
    assert [k["id"] for k in kept] == ["Q148"] and "fr" not in kept[0]["labels"]
    (china,) = load_entities(out, "wikidata")
    assert china.name == "中国" and china.types == ("Country",) and china.prior > 0


def test_truncated_dump_fails_and_writes_nothing(tmp_path, capsys):
    dump = tmp_path / "dump.json"
    dump.write_text("[\n" + json.dumps(_wikidata_item("Q1", "甲")) + ",\n{\"id\": \"Q2\", \"lab\n", "utf-8")
    assert main(["--dump", str(dump), "--out", str(tmp_path / "out.jsonl")]) == 1
    assert "dump.json:3: invalid JSON" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.json"]
