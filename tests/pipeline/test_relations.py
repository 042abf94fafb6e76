"""The relation stage: the core with a fake model, the DoFn's dead letters, and a sample run with a
relation model trained in the test on the sample's relation sentences, queried by SPARQL.

The bundled relation model (trained on 4,500 DuIE sentences within a CPU budget) is below its
accuracy floor, so the SPARQL tests use a tiny model overfit here on the sample's own sentences:
they test the stage (spans -> entities -> typed statements -> RDF), not the bundled model.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pyoxigraph
import pytest

from kgpipe.ner.relations.extractor import Triple
from kgpipe.pipeline.relations import ExtractRelationsFn, RelationReader
from kgpipe.schemas.records import Document
from kgpipe.schemas.vocab import NAMESPACE

SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "sample.jsonl"
RELATION_LINES = [line for line in SAMPLE.read_text("utf-8").splitlines()
                  if json.loads(line)["id"] in ("news-025", "news-026", "news-027")]


class FakeModel:
    version = "fake-1"

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail

    def predict(self, texts, batch_size=32):
        self.calls.append(list(texts))
        if self.fail:
            raise RuntimeError("model exploded")
        return [[Triple((0, 2), "作者", (3, 5), 0.8)] if t.startswith("呐喊") else [] for t in texts]


def test_reader_sends_sentences_in_one_batch_and_shifts_offsets():
    model = FakeModel()
    doc = Document(id="d", text="今天天气很好。呐喊是鲁迅写的。", language="zh")
    relations = RelationReader(model).read(doc)
    assert model.calls == [["今天天气很好。", "呐喊是鲁迅写的。"]]
    assert [(r.subject, r.predicate, r.object, r.sentence, r.model) for r in relations] == [
        ((7, 9), "作者", (10, 12), (7, 15), "fake-1")]
    assert doc.text[7:9] == "呐喊" and doc.text[10:12] == "鲁迅"


def test_copies_of_the_dofn_in_one_process_load_the_model_once(monkeypatch):
    import pickle

    loads = []

    def load(model_dir, batch_size=32, threads=1, int8=False):
        loads.append((model_dir, threads, int8))
        return RelationReader(FakeModel(), batch_size)

    monkeypatch.setattr(RelationReader, "load", staticmethod(load))
    fn = ExtractRelationsFn(model_dir="some/model", threads=2, int8=True)
    copies = [pickle.loads(pickle.dumps(fn)) for _ in range(3)]  # as a runner ships DoFns
    for copy in copies:
        copy.setup()
    assert loads == [("some/model", 2, True)]
    assert copies[0]._reader is copies[1]._reader is copies[2]._reader


def test_dofn_turns_a_failing_document_into_a_dead_letter():
    fn = ExtractRelationsFn(model_dir=None)
    fn._reader = RelationReader(FakeModel(fail=True))
    doc = Document(id="d", text="呐喊是鲁迅写的。", language="zh")
    out = list(fn.process([(doc, [], [])]))
    dead = [o.value for o in out if hasattr(o, "tag")]
    assert dead[0].stage == "relations" and "model exploded" in dead[0].error
    assert out[-1] == (doc, [], [], [])


class PickyModel(FakeModel):
    """Fails any call that holds the sentence 坏句子。"""

    def predict(self, texts, batch_size=32):
        self.calls.append(list(texts))
        if "坏句子。" in texts:
            raise RuntimeError("bad sentence")
        return [[Triple((0, 2), "作者", (3, 5), 0.8)] if t.startswith("呐喊") else [] for t in texts]


def test_a_batch_of_documents_is_one_model_call_and_a_bad_document_fails_alone():
    docs = [Document(id="a", text="今天天气很好。呐喊是鲁迅写的。", language="zh"),
            Document(id="b", text="坏句子。", language="zh"),
            Document(id="c", text="呐喊是鲁迅写的。", language="zh")]
    model = FakeModel()
    reader = RelationReader(model)
    per_doc = [reader.read(d) for d in docs]
    model.calls.clear()
    assert reader.read_many(docs) == per_doc
    assert model.calls == [["今天天气很好。", "呐喊是鲁迅写的。", "坏句子。", "呐喊是鲁迅写的。"]]
    assert [len(r) for r in per_doc] == [1, 0, 1] and per_doc[2][0].subject == (0, 2)

    fn = ExtractRelationsFn(model_dir=None)
    fn._reader = RelationReader(PickyModel())
    out = list(fn.process([(d, [], []) for d in docs]))
    dead = [o.value for o in out if hasattr(o, "tag")]
    kept = [o for o in out if not hasattr(o, "tag")]
    assert [d.input_ref for d in dead] == ["b"] and "bad sentence" in dead[0].error
    assert [(doc.id, len(relations)) for doc, _, _, relations in kept] == [("a", 1), ("b", 0), ("c", 1)]


SCHEMA = [{"predicate": p, "subject_type": s, "object_type": {"@value": o}}
          for p, s, o in (("创始人", "企业", "人物"), ("出生地", "人物", "地点"), ("作者", "图书作品", "人物"))]
GOLD = {  # the sample's relation sentences, written for the project
    "小米公司的创始人是雷军，这家公司如今已是全球知名的手机厂商。": [("小米公司", "创始人", "雷军")],
    "作家鲁迅出生于浙江绍兴，他的小说《呐喊》影响了几代读者。": [("鲁迅", "出生地", "浙江绍兴"), ("呐喊", "作者", "鲁迅")],
    "《红高粱家族》的作者是莫言，莫言出生于山东高密。": [("红高粱家族", "作者", "莫言"), ("莫言", "出生地", "山东高密")],
}


@pytest.fixture(scope="module")
def relation_run(tmp_path_factory):
    from kgpipe.ner.relations.data import read_duie, read_schema
    from kgpipe.ner.relations.training import TrainConfig, train
    from kgpipe.pipeline.run import run

    folder = tmp_path_factory.mktemp("relations")
    (folder / "schema.json").write_text(json.dumps(SCHEMA, ensure_ascii=False), encoding="utf-8")
    (folder / "train.json").write_text("".join(json.dumps({"text": text, "spo_list": [
        {"subject": s, "predicate": p, "object": {"@value": o}} for s, p, o in spo]}, ensure_ascii=False) + "\n"
        for text, spo in GOLD.items()), encoding="utf-8")
    predicates = read_schema(folder / "schema.json")
    examples, _ = read_duie(folder / "train.json", predicates)
    tiny = {"embedding_dim": 32, "bigram_dim": 16, "lstm_units": 32, "head_size": 16, "dropout": 0.0}
    state = train(examples, examples, predicates, folder / "model", tiny,
                  TrainConfig(epochs=150, batch_size=3, learning_rate=2e-2, eval_every=50), log=lambda _: None)
    assert state["best_f1"] == 1.0
    (folder / "input.jsonl").write_text("\n".join(RELATION_LINES) + "\n", encoding="utf-8")
    out = folder / "out"
    summary = run(["--input", str(folder / "input.jsonl"), "--output", str(out), "--no_progress",
                   "--relation_model", str(folder / "model")])
    plain = folder / "plain"
    run(["--input", str(folder / "input.jsonl"), "--output", str(plain), "--no_progress"])
    return out, plain, summary


def _store(out: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    for path in glob.glob(str(out / "rdf" / "*.nt")):
        store.bulk_load(path=path, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def _answers(store, prop: str) -> set[tuple[str, str]]:
    """``(subject name, object name)`` of ``kgp:<prop>``: names are labels (a linked entity has its KB
    name, e.g. 小米公司 -> 小米集团) or the surface forms of the mentions that refer to it."""
    name = "{{ ?{0} rdfs:label ?{1} }} UNION {{ ?m{0} kgp:refersTo ?{0} ; nif:anchorOf ?{1} }}"
    query = f"""PREFIX kgp: <{NAMESPACE}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
        SELECT DISTINCT ?s ?o WHERE {{ ?x kgp:{prop} ?y . {name.format("x", "s")} {name.format("y", "o")} }}"""
    return {(row["s"].value, row["o"].value) for row in store.query(query)}


@pytest.mark.slow
def test_sparql_who_founded_where_born_who_wrote(relation_run):
    out, _, summary = relation_run
    store = _store(out)
    assert ("小米公司", "雷军") in _answers(store, "founder")
    born = _answers(store, "birthPlace")
    assert ("鲁迅", "浙江绍兴") in born and ("莫言", "山东高密") in born
    assert {("呐喊", "鲁迅"), ("红高粱家族", "莫言")} <= _answers(store, "author")
    query = f"""PREFIX kgp: <{NAMESPACE}> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?c ?m WHERE {{ ?st a kgp:RelationStatement ; rdf:predicate kgp:founder ;
                                  kgp:confidence ?c ; kgp:relationModel ?m }}"""
    rows = list(store.query(query))
    assert rows and all(0.5 < float(r["c"].value) <= 1.0 and r["m"].value.startswith("kgpipe-re-") for r in rows)


@pytest.mark.slow
def test_relations_flag_off_gives_no_typed_relations_and_output_validates(relation_run):
    from kgpipe.kg.validate import validate_run

    out, plain, _ = relation_run
    assert not _answers(_store(plain), "founder") and not _answers(_store(plain), "author")
    report = validate_run(out)
    assert report.ok, report
