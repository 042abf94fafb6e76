import json

from kgpipe.linking.ccks_gold import main
from kgpipe.linking.evaluation import read_gold


def test_ccks_dev_lines_become_gold(tmp_path, capsys):
    kb = tmp_path / "kb_data"
    kb.write_text(json.dumps({"alias": ["胜利"], "subject_id": "10001", "subject": "胜利", "type": ["Person"],
                              "data": []}, ensure_ascii=False) + "\n", "utf-8")
    source = tmp_path / "dev.json"
    source.write_text(json.dumps({"text_id": "1", "text": "胜利和小明", "mention_data": [
        {"kb_id": "10001", "mention": "胜利", "offset": "0"},
        {"kb_id": "NIL_Person", "mention": "小明", "offset": "3"}]}, ensure_ascii=False) + "\n", "utf-8")
    out = tmp_path / "gold.jsonl"
    assert main(["--input", str(source), "--out", str(out), "--kb", str(kb)]) == 0
    (gold,) = read_gold(out)
    assert [(m.text, m.label) for m in gold.mentions] == [("胜利", "PER"), ("小明", "")]
    assert gold.kb_ids == ("10001", None)
    source.write_text(json.dumps({"text_id": "2", "text": "abc", "mention_data": [
        {"kb_id": "1", "mention": "zz", "offset": "0"}]}) + "\n", "utf-8")
    assert main(["--input", str(source), "--out", str(out)]) == 1
    assert "dev.json:1: ValueError: mention 'zz' is not at offset 0" in capsys.readouterr().err
