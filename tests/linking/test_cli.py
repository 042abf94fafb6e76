import argparse
import json

from kgpipe.pipeline.commands import kb


def _parser():
    parser = argparse.ArgumentParser(prog="kgpipe")
    kb.add_parser(parser.add_subparsers(dest="command"))
    return parser


def _run(argv):
    args = _parser().parse_args(argv)
    return args.func(args)


def test_kb_build_then_link_eval(tiny_kb, tmp_path, capsys):
    out = tmp_path / "index"
    assert _run(["kb", "build", "--input", tiny_kb, "--out", str(out), "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["entities"] == 7 and (out / "manifest.json").exists()
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "g", "text": "苹果发布iPhone手机，字节跳动", "mentions": [
        {"start": 0, "end": 2, "label": "ORG", "kb_id": "Q312"},
        {"start": 13, "end": 17, "label": "ORG", "kb_id": None}]}, ensure_ascii=False) + "\n", "utf-8")
    assert _run(["link", "eval", "--kb", str(out), "--gold", str(gold), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["accuracy"] == 1.0 and scores["nil_recall"] == 1.0 and scores["mentions"] == 2


def test_kb_build_reports_bad_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "name": "A"}\n{"id": "a", "name": "B"}\n', "utf-8")
    assert _run(["kb", "build", "--input", str(bad), "--out", str(tmp_path / "index")]) == 1
    assert "bad.jsonl:2: field 'id': duplicate entity id 'a'" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()
