"""Beam transforms with a fake tagger: no TensorFlow, real pipelines."""

import dataclasses
import os

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from kgpipe.pipeline import transforms as T
from kgpipe.ner.windows import split_windows
from kgpipe.pipeline.handlers import NerConfig, NerModelHandler
from kgpipe.schemas.records import Document
from tests.pipeline.test_handlers import FakeTagger


class ExplodingTagger(FakeTagger):
    """Fails any batch holding a window with 'BOOM' in it."""

    def tag_batch(self, windows):
        if any("BOOM" in w.text for w in windows):
            raise RuntimeError("model exploded")
        return super().tag_batch(windows)


class FakeHandler(NerModelHandler):
    def __init__(self, tagger_type, **kwargs):
        super().__init__(NerConfig(model_dir="unused", **kwargs))
        self._tagger_type = tagger_type

    def load_model(self):
        return self._tagger_type()


def test_tag_mentions_keeps_documents_with_their_mentions():
    documents = [Document("d1", "aXa这是第一句话。XX"), Document("d2", "bbb"), Document("d3", "")]
    with TestPipeline() as p:
        out = p | beam.Create(documents) | T.TagMentions(FakeHandler(FakeTagger))
        spans = out["documents"] | beam.Map(lambda dm: (dm[0].id, [(m.start, m.end) for m in dm[1]]))
        assert_that(spans, equal_to([("d1", [(1, 2), (10, 11), (11, 12)]), ("d2", []), ("d3", [])]))
        assert_that(out[T.DEAD], equal_to([]), label="NoDead")


def test_a_failing_window_is_a_dead_letter_and_its_document_is_still_written():
    documents = [Document("ok", "X"), Document("bad", "前文很长的一句话。\nBOOM X"), Document("fine", "aX")]
    p = TestPipeline()
    out = p | beam.Create(documents) | T.TagMentions(FakeHandler(ExplodingTagger))  # One batch of three.
    kept = out["documents"] | beam.Map(lambda dm: (dm[0].id, len(dm[1])))
    assert_that(kept, equal_to([("ok", 1), ("bad", 0), ("fine", 1)]))
    dead = out[T.DEAD] | beam.Map(lambda d: (d.input_ref, d.stage, d.error, d.payload))
    assert_that(dead, equal_to([("bad@10", "ner", "RuntimeError: model exploded", "BOOM X")]), label="Dead")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed
                for c in result.metrics().query(MetricsFilter().with_namespace("kgpipe"))["counters"]}
    # Windows cut = windows tagged + windows failed (dead letters).
    assert (counters["windows"], counters["ner_windows"], counters["ner_failed_windows"]) == (4, 3, 1)


class PidTagger(FakeTagger):
    """Stamps each mention with the process id of the process that tagged it."""

    def tag_batch(self, windows):
        return [[dataclasses.replace(m, model=str(os.getpid())) for m in found]
                for found in super().tag_batch(windows)]


@pytest.mark.parametrize("model_process", [False, True], ids=["in_process", "model_process"])
def test_tagging_in_a_model_process_keeps_every_document_and_its_counts(model_process):
    documents = [Document(f"d{i:03d}", "前文X。" * (i % 7) + "aXa") for i in range(120)]
    expected = [(d.id, [i for i, c in enumerate(d.text) if c == "X"]) for d in documents]
    p = TestPipeline()
    # 40 characters per batch: ~60 batches, one in the model process while the next arrives.
    out = p | beam.Create(documents) | T.TagMentions(FakeHandler(PidTagger, buffer_chars=40),
                                                      model_process=model_process)
    spans = out["documents"] | beam.Map(lambda dm: (dm[0].id, [m.start for m in dm[1]]))
    assert_that(spans, equal_to(expected))
    pids = out["documents"] | "Pids" >> beam.FlatMap(lambda dm: {m.model for m in dm[1]})
    # Every mention comes from one process: this one, or one other (the model process).
    here = str(os.getpid())
    assert_that(pids | beam.Distinct() | beam.combiners.Count.Globally(), equal_to([1]), label="OnePid")
    assert_that(pids | "IsHere" >> beam.Map(lambda pid: pid == here) | "D2" >> beam.Distinct(),
                equal_to([not model_process]), label="Where")
    result = p.run()
    result.wait_until_finish()
    # Metrics are counted on the bundle's own thread, so none is lost when the model runs elsewhere.
    query = result.metrics().query(MetricsFilter().with_namespace("kgpipe"))
    counters = {c.key.metric.name: c.committed for c in query["counters"]}
    assert counters["ner_chars"] == sum(len(d.text) for d in documents)
    windows = sum(len(split_windows(d, FakeTagger.max_window_chars)) for d in documents)
    assert counters["windows"] == counters["ner_windows"] == windows
    loads = {d.key.metric.name: d.committed for d in result.metrics().query(
        MetricsFilter().with_namespace("kgpipe_ner"))["distributions"]}
    assert loads["ner_model_load_msec"].count == 1


def test_the_handler_still_serves_beams_run_inference():
    """Users may compose ``RunInference(NerModelHandler(...))`` themselves; kgpipe's own transform does not."""
    from apache_beam.ml.inference.base import RunInference

    documents = [Document("d1", "aXa这是第一句话。XX"), Document("d2", "bbb")]
    with TestPipeline() as p:
        results = p | beam.Create(documents) | RunInference(FakeHandler(FakeTagger))
        spans = results | beam.Map(lambda r: (r.example.id, [(m.start, m.end) for m in r.inference.mentions]))
        assert_that(spans, equal_to([("d1", [(1, 2), (10, 11), (11, 12)]), ("d2", [])]))


def test_link_failure_writes_the_document_unlinked_with_a_dead_letter():
    class BrokenLinker:
        def link(self, document, mentions):
            raise KeyError("index corrupt")

    from kgpipe.linking.linker import LinkerConfig

    fn = T.LinkMentionsFn(LinkerConfig(), linker_handle=None)
    fn._linker = BrokenLinker()
    doc = Document("d", "华为")
    from kgpipe.schemas.records import Mention

    outputs = list(fn.process((doc, [Mention("d", 0, 2, "华为", "ORG", 0.9, "m")])))
    dead = [o.value for o in outputs if isinstance(o, beam.pvalue.TaggedOutput)]
    kept = [o for o in outputs if not isinstance(o, beam.pvalue.TaggedOutput)]
    assert [(d.input_ref, d.stage) for d in dead] == [("d", "link")] and "index corrupt" in dead[0].error
    assert kept == [(doc, [Mention("d", 0, 2, "华为", "ORG", 0.9, "m")], [])]


def test_read_documents_dedupes_ids_and_skips_seen(tmp_path):
    import pyarrow.parquet as pq

    from kgpipe.schemas import arrow

    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "one"}\n{"id": "b", "text": "two"}\n{"id": "a", "text": "again"}\n'
                    '{"id": "c", "text": "seen before"}\nnot json\n', encoding="utf-8")
    seen = tmp_path / "seen.parquet"
    pq.write_table(arrow.to_table([Document("c", "old"), Document("z", "old, not in this input")], "run-0"), seen)
    with TestPipeline() as p:
        out = p | T.ReadDocuments([str(path)], seen_files=[str(seen)])
        assert_that(out["documents"] | beam.Map(lambda d: (d.id, d.text)), equal_to([("a", "one"), ("b", "two")]))
        dead = out[T.DEAD] | beam.Map(lambda d: d.input_ref)
        assert_that(dead, equal_to([f"{path}:3", f"{path}:5"]), label="Dead")


def test_one_file_read_in_shards_yields_each_document_once(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [f'{{"id": "d{i}", "text": "text {i}"}}' for i in range(7)] + ["not json", '{"id": "d0", "text": "dup"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with TestPipeline() as p:
        out = p | T.ReadDocuments([str(path)], min_shards=3)
        assert_that(out["documents"] | beam.Map(lambda d: (d.id, d.text)),
                    equal_to([(f"d{i}", f"text {i}") for i in range(7)]))
        dead = out[T.DEAD] | beam.Map(lambda d: (d.input_ref, "duplicate" in d.error))
        assert_that(dead, equal_to([(f"{path}:8", False), (f"{path}:9", True)]), label="Dead")


def test_kgpipe_options_do_not_break_other_pipelines_in_the_process():
    # Beam parses every PipelineOptions subclass for every pipeline: kgpipe's flags must stay optional.
    import kgpipe.pipeline.options  # noqa: F401  (registers KgpipeOptions)
    from apache_beam.options.pipeline_options import PipelineOptions

    with beam.Pipeline(options=PipelineOptions([])) as p:
        assert_that(p | beam.Create([1, 2]) | beam.Map(lambda x: x * 2), equal_to([2, 4]))


def test_missing_input_or_output_is_a_clear_error():
    import pytest
    from apache_beam.options.pipeline_options import PipelineOptions

    from kgpipe.pipeline.options import RunConfig

    with pytest.raises(ValueError, match="needs --input"):
        RunConfig.from_options(PipelineOptions(["--output", "x"]))


def test_misspelt_flags_fail_and_runner_flags_pass():
    import pytest

    from kgpipe.pipeline.options import check_flags

    with pytest.raises(ValueError, match="did you mean --dictionary_mentions"):
        check_flags(["--input", "x", "--dictionary-mentions"])
    with pytest.raises(ValueError, match="did you mean --batch_tokens"):
        check_flags(["--batch_token=5"])
    check_flags(["--input", "x", "--output", "y", "--runner", "PortableRunner", "--flink_master", "h:8081"])


def test_the_graph_groups_no_documents_windows_mentions_or_triples(tmp_path):
    # Beam's in-process runner holds a whole PCollection at every grouping: only file names, ids,
    # small combiner keys and the writers' file lists may be grouped.
    from apache_beam.pipeline import PipelineVisitor

    from kgpipe.pipeline import run as run_module
    from kgpipe.pipeline.options import RunConfig

    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    config = RunConfig(inputs=(str(path),), output_dir=str(tmp_path / "out"))
    plan = run_module.RunPlan(config, (str(path),), None, {"kgpipe": "t", "model": "m", "kb": "k"}, (), "run-t")
    grouped: list[str] = []

    class Groupings(PipelineVisitor):
        def visit_transform(self, node):
            if type(node.transform).__name__ == "GroupByKey":
                grouped.append((node.full_label, node.inputs[0].producer.full_label))

    root = beam.Pipeline()
    run_module.build(root, plan)
    root.visit(Groupings())
    allowed = ("ReadDocuments/IdFiles/", "ReadDocuments/SpreadIdFiles/", "ReadDocuments/FirstPerId/",
               "ReadDocuments/Files/", "ReadDocuments/SpreadFiles/",
               "CountEntities/", "CountPairs/", "CountCategories/", "Write")
    assert grouped and [label for label, _ in grouped if not label.startswith(allowed)] == []
    # Writers write per bundle and group only the names of the files they wrote ("Pair"); dead letters
    # (rare, small) go to one file.
    writers = [(label, source) for label, source in grouped if label.startswith("Write")]
    assert len(writers) == 10
    assert [label for label, source in writers if not source.endswith("/Pair")] == [
        "WriteDeadLetters/Write/WriteImpl/GroupByKey"]
