"""The whole pipeline on the bundled sample, default model and default KB.

Checks what users rely on: Parquet that reads back against the schemas,
N-Triples that parse strictly and answer SPARQL, dead letters for bad input
(count in = count out + dead letters), and identical triples on every runner.
"""

from __future__ import annotations

import glob
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pyoxigraph
import pytest

from kgpipe.kg.iri import run_iri
from kgpipe.kg.validate import validate_run
from kgpipe.pipeline.run import run
from kgpipe.schemas import arrow
from kgpipe.schemas.records import Document, Link, Mention, Triple
from kgpipe.schemas.vocab import DEFAULT_BASE_IRI, NAMESPACE

SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "sample.jsonl"
SAMPLE_LINES = SAMPLE.read_text("utf-8").splitlines()


def _run(inputs: list[Path], out: Path, *extra: str) -> dict:
    argv = [a for path in inputs for a in ("--input", str(path))]
    return run([*argv, "--output", str(out), "--no_progress", *extra])


def _records(out: Path, record_type: type) -> list:
    folder = out / "parquet" / arrow.TABLES[record_type]
    rows = []
    for path in sorted(folder.glob("*.parquet")):
        table = pq.read_table(path)
        assert table.schema.equals(arrow.schema_for(record_type), check_metadata=False), path
        rows.extend(table.to_pylist())
    return [arrow.from_row(record_type, row) for row in rows]


def _ntriples(out: Path) -> list[str]:
    lines = []
    for path in sorted(glob.glob(str(out / "rdf" / "*.nt"))):
        lines.extend(Path(path).read_text("utf-8").splitlines())
    return sorted(lines)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return out, _run([SAMPLE], out)


def test_parquet_reads_back_against_the_schemas(sample_run):
    out, summary = sample_run
    documents = {d.id: d for d in _records(out, Document)}
    assert len(documents) == len(SAMPLE_LINES) == summary["counts"]["documents"]
    mentions = _records(out, Mention)
    links = _records(out, Link)
    triples = _records(out, Triple)
    assert mentions and triples
    for mention in mentions:
        assert documents[mention.doc_id].text[mention.start:mention.end] == mention.text
    assert sorted((m.doc_id, m.start, m.end) for m in mentions) == sorted((l.doc_id, l.start, l.end) for l in links)
    assert {t.run_id for t in triples} == {summary["run_id"]}
    assert summary["counts"]["triples"] + len(_run_node(triples)) == len(triples)


def _run_node(triples):
    return [t for t in triples if t.subject == run_iri(DEFAULT_BASE_IRI, t.run_id)]


def test_ntriples_parse_strictly_and_answer_sparql_for_linked_entities(sample_run):
    out, _ = sample_run
    store = _store(out)  # Strict: raises on any bad line.
    query = f"""
        PREFIX kgp: <{NAMESPACE}>
        SELECT DISTINCT ?entity ?id WHERE {{ ?mention kgp:refersTo ?entity . ?entity kgp:kbId ?id }}
    """
    found = {solution["id"].value for solution in store.query(query)}
    linked = {link.entity_id for link in _records(out, Link) if link.entity_id is not None}
    assert linked, "the sample run linked no mention to the default KB"
    assert found == linked
    labelled = f"""
        PREFIX kgp: <{NAMESPACE}>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?label WHERE {{ ?entity kgp:kbId ?id ; rdfs:label ?label }}
    """
    labels = {solution["label"].value for solution in store.query(labelled)}
    assert {"北京", "华为"} & labels, labels
    assert all(str(s["entity"].value).startswith(DEFAULT_BASE_IRI) for s in store.query(query))


def test_bad_input_becomes_dead_letters_and_counts_balance(tmp_path):
    bad = tmp_path / "mixed.jsonl"
    bad.write_text(
        "\n".join([
            SAMPLE_LINES[0],
            "{this is not json",
            json.dumps({"id": "no-text"}),
            SAMPLE_LINES[1],
            SAMPLE_LINES[0],  # Duplicate id: the first one wins, this one is a dead letter.
            json.dumps({"id": "empty", "text": ""}),
        ]) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    summary = _run([bad], out)
    dead = [json.loads(line) for path in (out / "dead_letter").glob("*.jsonl") for line in path.open(encoding="utf-8")]
    assert sorted(d["input_ref"] for d in dead) == [f"{bad}:2", f"{bad}:3", f"{bad}:5"]
    assert all(d["stage"] == "read" and d["error"] for d in dead)
    assert "duplicate document id" in next(d["error"] for d in dead if d["input_ref"] == f"{bad}:5")
    documents = _records(out, Document)
    assert sorted(d.id for d in documents) == sorted(["empty", json.loads(SAMPLE_LINES[0])["id"],
                                                      json.loads(SAMPLE_LINES[1])["id"]])
    assert len(documents) + len(dead) == 6  # Count in = count out + dead letters.
    assert summary["dead_letters"] == {"read": 3}


def _snapshot(out: Path) -> tuple[list[str], list[dict]]:
    rows = [r for path in sorted((out / "parquet" / "triples").glob("*.parquet")) for r in pq.read_table(path).to_pylist()]
    return _ntriples(out), sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))


@pytest.fixture(scope="module")
def small_input(tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "small.jsonl"
    path.write_text("\n".join(SAMPLE_LINES[::3]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference_run(small_input, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    summary = _run([small_input], out)
    return summary, _snapshot(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "runner_flags",
    [
        ["--runner", "DirectRunner", "--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
        ["--runner", "PortableRunner", "--job_endpoint", "embed", "--environment_type", "LOOPBACK"],
        ["--ner_process", "on"],
        ["--ner_process", "off"],
    ],
    ids=["multi_processing", "portable_embedded", "ner_in_a_child_process", "ner_in_process"],
)
def test_same_triples_on_every_runner(small_input, reference_run, tmp_path, runner_flags):
    summary, expected = reference_run
    out = tmp_path / "out"
    other = _run([small_input], out, *runner_flags)
    assert other["run_id"] == summary["run_id"]
    assert other["counts"] == summary["counts"]
    # The model loads once per worker process (a shared handle), not per bundle or thread.
    assert summary["ner"]["model_loads"] == 1 and 1 <= other["ner"]["model_loads"] <= 2
    assert _snapshot(out) == expected


def test_rerun_gives_identical_triples_and_rows(small_input, reference_run, tmp_path):
    summary, expected = reference_run
    again = _run([small_input], tmp_path / "again")
    assert again["run_id"] == summary["run_id"]
    assert _snapshot(tmp_path / "again") == expected
    # Rerunning into the same directory with other sharding replaces the run's files.
    _run([small_input], tmp_path / "again", "--rdf_shards", "3")
    assert len(list((tmp_path / "again" / "rdf").glob("*-of-00003.nt"))) == 3  # --rdf_shards shards document triples.
    assert not [p for p in (tmp_path / "again" / "rdf").glob("*-of-00001.nt")
                if "-entities-" not in p.name and "-cooccurrence-" not in p.name]
    assert _snapshot(tmp_path / "again") == expected


@pytest.mark.slow
def test_provenance_settings_differ_only_in_provenance_statements(small_input, reference_run, tmp_path):
    from kgpipe.kg.builder import PROVENANCE_PREDICATES
    from kgpipe.schemas.vocab import NIF

    summary, (compact_lines, _) = reference_run
    full = _run([small_input], tmp_path / "full", "--provenance", "full")
    full_lines = _ntriples(tmp_path / "full")
    # The run id (hence the run's IRIs, and the co-occurrence statements' IRIs, which hash it) depends
    # on the setting; the counts the run node states differ.
    def same_run(lines, run_id):
        statements = {line for line in lines if line.startswith(f"<{DEFAULT_BASE_IRI}cooccurrence/")}
        return len(statements), {line.replace(run_id, "RUN") for line in lines
                                 if "tripleCount" not in line and line not in statements}

    (compact_statements, compact), (full_statements, everything) = (
        same_run(compact_lines, summary["run_id"]), same_run(full_lines, full["run_id"]))
    assert compact_statements == full_statements > 0
    provenance = {f"<{p}>" for p in PROVENANCE_PREDICATES}
    dropped = {line for line in everything - compact
               if line.split(" ")[1] in provenance or line.endswith(f"<{NIF.Phrase}> .")}
    assert compact <= everything and dropped and everything - compact == dropped
    assert full["counts"]["triples"] > summary["counts"]["triples"]


def test_incremental_run_processes_only_new_documents(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(SAMPLE_LINES[:3]) + "\n", encoding="utf-8")
    second.write_text("\n".join(SAMPLE_LINES[2:5]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    one = _run([first], out, "--incremental")
    two = _run([first, second], out, "--incremental")
    assert one["counts"]["documents"] == 3
    assert two["counts"]["documents"] == 2 and two["counts"]["documents_skipped_seen"] == 3
    assert one["run_id"] != two["run_id"]
    documents = _records(out, Document)
    assert sorted(d.id for d in documents) == sorted(json.loads(line)["id"] for line in SAMPLE_LINES[:5])
    three = _run([first, second], out, "--incremental")
    assert three["counts"].get("documents", 0) == 0 and three["run_id"] not in (one["run_id"], two["run_id"])
    assert len(list((out / "manifests").iterdir())) == 3


def _store(out: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    for path in glob.glob(str(out / "rdf" / "*.nt")):
        store.bulk_load(path=path, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def _pairs(store: pyoxigraph.Store, where: str) -> set[tuple[str, str]]:
    query = f"""
        PREFIX kgp: <{NAMESPACE}>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT DISTINCT ?a ?b WHERE {{ {where} }}
    """
    return {(s["a"].value, s["b"].value) for s in store.query(query)}


def test_sparql_answers_brand_and_cooccurrence_questions_on_the_sample(sample_run):
    out, _ = sample_run
    store = _store(out)
    brands = _pairs(store, "?product kgp:brand ?brand . ?brand rdfs:label ?a . ?product rdfs:label ?b")
    # Product titles become product nodes (brand + model label) made by their KB brand.
    assert {("华为", "华为 Mate 60 Pro"), ("小米集团", "小米 14 Ultra"), ("苹果公司", "苹果 MacBook Air")} <= brands, brands
    people = _pairs(store, """?org a kgp:Organization ; kgp:coOccursWith ?person .
                              ?person a kgp:Person . ?org rdfs:label ?a . ?person rdfs:label ?b""")
    assert {("阿里巴巴集团", "马云"), ("小米集团", "雷军"), ("腾讯", "马化腾")} <= people, people


def test_product_facts_flag_turns_product_nodes_off(sample_run, tmp_path):
    out, summary = sample_run
    category = "<https://w3id.org/kgpipe/category/"
    products = [line for line in _ntriples(out) if "#product>" in line.split(" ", 1)[0]]
    classes = [line for line in _ntriples(out) if line.startswith(category) and "#subClassOf>" in line]
    assert products and classes
    assert len(classes) == len(set(classes))  # Each category class once, however many titles use it.
    none = _run([SAMPLE], tmp_path / "none", "--product_facts", "none")
    assert none["run_id"] != summary["run_id"]  # Another setting, another run.
    lines = _ntriples(tmp_path / "none")
    assert not [line for line in lines if "#product>" in line.split(" ", 1)[0] or line.startswith(category)]
    assert none["counts"]["documents"] == summary["counts"]["documents"]
    assert validate_run(tmp_path / "none").ok
