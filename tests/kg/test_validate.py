"""Tests for kg.validate: passes on good output, fails readably on broken files."""

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kgpipe.kg.validate import ValidateConfig, validate_run


def _shard(run_dir):
    (path,) = sorted((run_dir / "rdf").glob("*.nt"))
    return path


def test_good_run_passes(sample_run_dir):
    report = validate_run(sample_run_dir)
    assert report.ok, report.to_text()
    assert sum(report.shards.values()) == report.parquet["triples"] > 300
    assert report.to_text().rstrip().endswith("Result: OK")
    assert not report.shacl_sampled


def test_sampled_shacl_on_large_graphs_still_passes(sample_run_dir):
    report = validate_run(sample_run_dir, ValidateConfig(shacl_max_triples=10, shacl_sample_nodes=2))
    assert report.ok and report.shacl_sampled
    assert 10 < report.shacl_checked < sum(report.shards.values())


def test_broken_lines_are_listed_by_line_number(run_copy):
    path = _shard(run_copy)
    good_lines = path.read_text("utf-8").count("\n")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('<https://x.org/s> <https://x.org/p> "unterminated .\n')
        handle.write('<relative> <https://x.org/p> "x" .\n')
        handle.write('<https://x.org/s> <https://x.org/p> "fine" .\n')
    report = validate_run(run_copy)
    assert not report.ok
    assert [p.line for p in report.syntax] == [good_lines + 1, good_lines + 2]
    text = report.to_text()
    assert "2 bad line(s)" in text and f"line {good_lines + 1}:" in text and "unterminated" in text
    assert "Result: FAILED" in text
    assert report.shards[path.relative_to(run_copy).as_posix()] == good_lines + 1  # good lines still load


def test_truncated_gzip_shard_fails(run_copy):
    path = _shard(run_copy)
    data = gzip.compress(path.read_bytes())
    (run_copy / "rdf" / "extra.nt.gz").write_bytes(data[: len(data) // 2])
    report = validate_run(run_copy)
    assert not report.ok and any(p.path == "rdf/extra.nt.gz" for p in report.syntax)


@pytest.mark.parametrize("sampled", [False, True])
def test_shacl_violations_are_grouped_readably(run_copy, sampled):
    mention = "https://w3id.org/kgpipe/resource/doc/news-1#char=9,3"
    nif = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
    kgp = "https://w3id.org/kgpipe/ontology#"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    (run_copy / "rdf" / "bad.nt").write_text(
        f'<{mention}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{kgp}Mention> .\n'
        f'<{mention}> <{nif}beginIndex> "9"^^<{xsd}integer> .\n'
        f'<{mention}> <{nif}endIndex> "3"^^<{xsd}integer> .\n'
        f'<{mention}> <{kgp}nerScore> "1.5"^^<{xsd}double> .\n', "utf-8")
    config = ValidateConfig(shacl_max_triples=10, shacl_sample_nodes=1000) if sampled else ValidateConfig()
    report = validate_run(run_copy, config)
    assert not report.ok and not report.syntax and report.shacl_sampled == sampled
    text = report.to_text()
    assert "[Violation] Mention / nif:beginIndex" in text and "before its end offset" in text
    assert "The NER score is one xsd:double in [0, 1]." in text
    assert "one non-empty surface form" in text  # nif:anchorOf missing
    assert f"focus <{mention}>" in text


def test_parquet_schema_mismatch_fails(run_copy):
    bad = pa.table({"subject": ["x"], "object": [1]})
    pq.write_table(bad, run_copy / "parquet" / "triples" / "bad.parquet")
    report = validate_run(run_copy)
    assert not report.ok
    assert any("bad.parquet: schema differs" in p for p in report.parquet_problems)


def test_missing_output_fails(tmp_path):
    report = validate_run(tmp_path / "nothing")
    assert not report.ok and "not a directory" in report.to_text()


def test_config_echoes_bad_values():
    with pytest.raises(ValueError, match="shacl_max_triples=0"):
        ValidateConfig(shacl_max_triples=0)


def test_gzipped_and_nquads_shards_pass(tmp_path):
    from kgpipe.kg.builder import BuilderConfig
    from kgpipe.kg.export.convert import ExportConfig, export
    from kgpipe.kg.local import write_run
    from tests.kg import sample

    write_run(tmp_path / "gz", BuilderConfig("run-gz"), sample.DOCUMENTS, sample.mentions_and_links(),
              sample.ENTITIES, rdf_compress=True, rdf_shard_size=100)
    report = validate_run(tmp_path / "gz")
    assert report.ok, report.to_text()
    assert len(report.shards) == 4 and all(name.endswith(".nt.gz") for name in report.shards)
    export(tmp_path / "gz", tmp_path / "gz" / "rdf" / "quads", ExportConfig("nq", compress=True))
    report = validate_run(tmp_path / "gz")
    assert report.ok and any(name.endswith(".nq.gz") for name in report.shards)


def test_a_half_written_run_fails(run_copy):
    # What a killed run used to leave: Parquet files of a run with no manifest (and Beam temp folders).
    (triples,) = (run_copy / "parquet" / "triples").rglob("*.parquet")
    temp = run_copy / "parquet" / "triples" / "beam-temp-run-killed-1234"
    temp.mkdir()
    (temp / "run-killed-00000-of-00001.parquet").write_bytes(triples.read_bytes())
    report = validate_run(run_copy)
    assert not report.ok
    assert report.run_problems == ["parquet/triples/beam-temp-run-killed-1234/run-killed-00000-of-00001.parquet: "
                                   "not part of any complete run (left by a killed or failed run?)"]
    assert "Result: FAILED (1 error(s))" in report.to_text()


def test_row_counts_that_differ_from_the_manifest_fail(run_copy):
    (documents,) = (run_copy / "parquet" / "documents").rglob("*.parquet")
    table = pq.read_table(documents)
    pq.write_table(table.slice(0, table.num_rows - 1), documents)
    report = validate_run(run_copy)
    assert not report.ok
    assert report.run_problems == [f"run-sample: documents has {table.num_rows - 1:,} rows in the files, "
                                   f"the manifest says {table.num_rows:,}"]
