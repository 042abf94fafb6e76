import json

import pytest

from kgpipe.linking.kb import KbError, KbFormat, infer_format, iter_entities, load_entities
from tests.linking.conftest import TINY_KB, write_jsonl



def test_jsonl_loads_every_field(tiny_kb):
    entities = load_entities(tiny_kb)
    assert [e.id for e in entities] == [r["id"] for r in TINY_KB]
    apple = entities[0]
    assert apple.name == "苹果公司" and apple.aliases == ("苹果", "Apple", "Apple Inc.")
    assert apple.types == ("Organization", "Brand") and apple.prior == pytest.approx(0.9)
    assert apple.attributes == {"总部": ("库比蒂诺",)}


@pytest.mark.parametrize("line, field", [
    ('{"id": "x", "name": ""}', "name"),
    ('{"id": "x", "name": "a", "prior": 2}', "prior"),
    ('{"id": "x", "name": "a", "aliases": "b", "types": [1]}', "types"),
    ('{"name": "a"}', "id"),
    ('{"id": "x", "name": "a", "colour": "red"}', "colour"),
])
def test_jsonl_bad_record_names_line_and_field(tmp_path, line, field):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "name": "fine"}\n\n' + line + "\n", "utf-8")
    with pytest.raises(KbError) as error:
        load_entities(path)
    assert error.value.line == 3 and error.value.field == field
    assert "bad.jsonl:3" in str(error.value) and repr(field) in str(error.value)


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "name": "A"}\n{"id": "b", "name": \n', "utf-8")
    with pytest.raises(KbError, match=r"bad.jsonl:2: invalid JSON"):
        load_entities(path)


def test_duplicate_ids_name_both_lines(tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [TINY_KB[0], TINY_KB[1], TINY_KB[0]])
    with pytest.raises(KbError, match=r"dup.jsonl:3: field 'id': duplicate entity id 'Q312' \(first on line 1\)"):
        load_entities(path)


def test_streaming_yields_before_the_bad_line_but_load_is_all_or_nothing(tmp_path):
    path = tmp_path / "late.jsonl"
    path.write_text('{"id": "a", "name": "A"}\n{"id": "b"}\n', "utf-8")
    stream = iter_entities(path)
    assert next(stream).id == "a"
    with pytest.raises(KbError):
        next(stream)
    with pytest.raises(KbError):
        load_entities(path)


def test_csv_and_tsv_with_header(tmp_path):
    csv_path = tmp_path / "kb.csv"
    csv_path.write_text("id,name,aliases,types,description,prior,总部\n"
                        "Q312,苹果公司,苹果|Apple,Organization|Brand,\"科技公司, 美国\",0.9,库比蒂诺\n", "utf-8")
    (entity,) = load_entities(csv_path)
    assert entity.aliases == ("苹果", "Apple") and entity.types == ("Organization", "Brand")
    assert entity.description == "科技公司, 美国" and entity.attributes == {"总部": ("库比蒂诺",)}
    tsv_path = tmp_path / "kb.tsv"
    tsv_path.write_text("id\tname\tprior\nQ1\t甲\t0.5\nQ2\t乙\tlots\n", "utf-8")
    with pytest.raises(KbError) as error:
        load_entities(tsv_path)
    assert error.value.line == 3 and error.value.field == "prior"


def test_csv_without_required_columns(tmp_path):
    path = tmp_path / "kb.csv"
    path.write_text("identifier,name\nx,y\n", "utf-8")
    with pytest.raises(KbError, match=r"kb.csv:1: field 'id': header lacks required columns"):
        load_entities(path)


def test_csv_wrong_column_count_names_line(tmp_path):
    path = tmp_path / "kb.csv"
    path.write_text("id,name\na,A\nb,B,extra\n", "utf-8")
    with pytest.raises(KbError, match=r"kb.csv:3: expected 2 columns, got 3"):
        load_entities(path)


TURTLE = """\
@prefix schema: <http://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
ex:apple a schema:Organization ;
    skos:prefLabel "苹果公司"@zh, "Apple Inc."@en ;
    skos:altLabel "Apple"@en ;
    schema:description "美国科技公司"@zh ;
    schema:foundingDate "1976" .
ex:fruit a schema:Thing ; rdfs:label "苹果"@zh .
ex:nameless schema:foundingDate "2000" .
"""


def test_turtle_labels_types_descriptions(tmp_path):
    path = tmp_path / "kb.ttl"
    path.write_text(TURTLE, "utf-8")
    entities = {e.id: e for e in load_entities(path)}
    assert set(entities) == {"http://example.org/apple", "http://example.org/fruit"}
    apple = entities["http://example.org/apple"]
    assert apple.name == "苹果公司" and set(apple.aliases) == {"Apple Inc.", "Apple"}
    assert apple.types == ("Organization",) and apple.description == "美国科技公司"
    assert apple.attributes == {"foundingDate": ("1976",)}


def test_turtle_syntax_error(tmp_path):
    path = tmp_path / "kb.ttl"
    path.write_text(TURTLE + "ex:broken skos:prefLabel \"x\n", "utf-8")
    with pytest.raises(KbError, match="invalid Turtle") as error:
        load_entities(path)
    assert error.value.line == TURTLE.count("\n") + 1


def test_ntriples_and_bad_line(tmp_path):
    good = ('<http://e.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "甲"@zh .\n'
            '<http://e.org/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://schema.org/Place> .\n')
    path = tmp_path / "kb.nt"
    path.write_text(good, "utf-8")
    (entity,) = load_entities(path)
    assert (entity.id, entity.name, entity.types) == ("http://e.org/a", "甲", ("Place",))
    path.write_text(good + '<http://e.org/b> <http://www.w3.org/2000/01/rdf-schema#label> "乙 .\n', "utf-8")
    with pytest.raises(KbError) as error:
        load_entities(path)
    assert error.value.line == 3


def test_ccks_records(tmp_path):
    record = {"alias": ["胜利", "Victory"], "subject_id": "10001", "subject": "胜利", "type": ["Thing"],
              "data": [{"predicate": "摘要", "object": "一个皮肤"}, {"predicate": "外文名", "object": "Victorious"},
                       {"predicate": "义项描述", "object": "游戏皮肤"}]}
    path = write_jsonl(tmp_path / "kb_data.jsonl", [record])
    assert infer_format(path) is KbFormat.CCKS
    (entity,) = load_entities(path)
    assert entity.id == "10001" and entity.aliases == ("胜利", "Victory")
    assert entity.description == "游戏皮肤 一个皮肤" and entity.attributes == {"外文名": ("Victorious",)}
    path = write_jsonl(tmp_path / "nameless.jsonl", [record | {"subject": " "}])
    with pytest.raises(KbError, match=r"nameless.jsonl:1: field 'subject': expected a non-empty string"):
        load_entities(path, "ccks")
    bad = dict(record, data=[{"predicate": "x"}])
    path = write_jsonl(tmp_path / "bad_kb_data.jsonl", [record | {"subject_id": "2"}, bad])
    with pytest.raises(KbError, match=r":2: field 'data'"):
        load_entities(path)


def test_ccks_shared_sample_loads(shared_data):
    path = shared_data / "kb" / "ccks2019_kb_sample.jsonl"
    entities = load_entities(path, "ccks")
    # One entity per record line, each with a name and an id.
    assert len(entities) == sum(1 for line in path.read_text("utf-8").splitlines() if line.strip()) > 700
    assert all(e.name and e.id for e in entities)


def _wikidata_item(qid, zh, en=None, aliases=(), p31=(), sitelinks=0):
    labels = {"zh": {"language": "zh", "value": zh}}
    if en:
        labels["en"] = {"language": "en", "value": en}
    return {
        "type": "item", "id": qid, "labels": labels,
        "aliases": {"zh": [{"language": "zh", "value": a} for a in aliases]},
        "descriptions": {"zh": {"language": "zh", "value": f"{zh}的描述"}},
        "claims": {"P31": [{"mainsnak": {"datavalue": {"value": {"id": q}}}} for q in p31]},
        "sitelinks": {f"site{i}": {} for i in range(sitelinks)},
    }


def test_wikidata_dump_lines(tmp_path):
    path = tmp_path / "dump.json"
    lines = ["[", json.dumps(_wikidata_item("Q148", "中国", "China", ["中华人民共和国"], ["Q6256"], 200)) + ",",
             json.dumps({"type": "item", "id": "Q999", "labels": {"fr": {"language": "fr", "value": "x"}}}) + ",",
             json.dumps({"type": "property", "id": "P31", "labels": {}}) + ",",
             json.dumps(_wikidata_item("Q5", "人类", p31=["Q16889133"])), "]"]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert infer_format(path) is KbFormat.WIKIDATA
    china, human = load_entities(path)
    assert (china.id, china.name, china.aliases) == ("Q148", "中国", ("China", "中华人民共和国"))
    assert china.types == ("Country",) and china.prior == pytest.approx(1.0)
    assert china.description == "中国的描述" and human.types == ("Q16889133",) and human.prior == 0.0


def test_wikidata_bad_label_names_line(tmp_path):
    path = tmp_path / "dump.json"
    item = _wikidata_item("Q1", "甲")
    item["labels"]["zh"] = {"language": "zh"}
    path.write_text("[\n" + json.dumps(item) + "\n]\n", "utf-8")
    with pytest.raises(KbError, match=r"dump.json:2: field 'labels.zh'"):
        load_entities(path)


def test_unknown_format_and_missing_file(tmp_path):
    path = tmp_path / "kb.xyz"
    path.write_text("x", "utf-8")
    with pytest.raises(KbError, match="cannot infer the KB format"):
        load_entities(path)
    with pytest.raises(KbError, match="no such KB file"):
        load_entities(tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match="Received: kb_format='xml'"):
        load_entities(path, "xml")
