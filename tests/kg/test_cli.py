"""Tests for pipeline.commands.kg: the commands behind `kgpipe validate | export | graph stats | report`."""

import argparse
import json

import rdflib
from rdflib.compare import isomorphic

from kgpipe.pipeline.commands import kg as commands


def _main(argv):
    parser = argparse.ArgumentParser(prog="kgpipe")
    commands.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_validate_exit_codes(sample_run_dir, run_copy, tmp_path, capsys):
    assert _main(["validate", str(sample_run_dir), "--json", str(tmp_path / "v.json")]) == 0
    assert "Result: OK" in capsys.readouterr().out
    assert json.loads((tmp_path / "v.json").read_text("utf-8"))["ok"] is True
    next((run_copy / "rdf").glob("*.nt")).open("a").write("<s> <p> <o> .\n")
    assert _main(["validate", str(run_copy)]) == 1
    out = capsys.readouterr().out
    assert "1 bad line(s)" in out and "Result: FAILED" in out
    assert _main(["validate", str(run_copy), "--shacl_max_triples", "0"]) == 2


def test_graph_stats_and_report(sample_run_dir, tmp_path, capsys):
    assert _main(["graph", "stats", str(sample_run_dir), "--output", str(tmp_path / "s.json"), "--top", "5"]) == 0
    assert "Top entities by PageRank" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "s.json").read_text("utf-8"))["pagerank_top"]) == 5
    assert _main(["report", str(sample_run_dir), "--output", str(tmp_path / "r.html")]) == 0
    assert 'id="graph-core"' in (tmp_path / "r.html").read_text("utf-8")
    assert _main(["graph"]) == 2
    assert _main(["report", str(tmp_path / "missing")]) == 2


def test_export_formats_give_the_same_graph(sample_run_dir, tmp_path, capsys):
    assert _main(["export", str(sample_run_dir), "--format", "turtle", "--output", str(tmp_path / "g.ttl")]) == 0
    assert _main(["export", str(sample_run_dir), "--format", "json-ld", "--output", str(tmp_path / "g.jsonld")]) == 0
    assert _main(["export", str(sample_run_dir), "--format", "nt", "--output", str(tmp_path / "nt")]) == 0
    reference = rdflib.Graph()
    for path in (sample_run_dir / "rdf").glob("*.nt"):
        reference.parse(path, format="nt")
    for path, fmt in ((tmp_path / "g.ttl", "turtle"), (tmp_path / "g.jsonld", "json-ld")):
        assert isomorphic(rdflib.Graph().parse(path, format=fmt), reference), fmt
    (shard,) = (tmp_path / "nt").iterdir()
    assert isomorphic(rdflib.Graph().parse(shard, format="nt"), reference)
    assert _main(["export", str(sample_run_dir), "--format", "turtle", "--output", str(tmp_path / "x.ttl"),
                  "--max_triples", "10"]) == 2
    assert "too many" in capsys.readouterr().err


def test_export_turtle_from_shards_when_no_parquet(run_copy, tmp_path):
    import shutil

    shutil.rmtree(run_copy / "parquet")
    assert _main(["export", str(run_copy), "--format", "turtle", "--output", str(tmp_path / "g.ttl")]) == 0
    reference = rdflib.Graph()
    for path in (run_copy / "rdf").glob("*.nt"):
        reference.parse(path, format="nt")
    assert isomorphic(rdflib.Graph().parse(tmp_path / "g.ttl", format="turtle"), reference)
    assert _main(["export", str(run_copy), "--format", "nq", "--output", str(tmp_path / "nq")]) == 2
