"""NerModelHandler without a pipeline: run_inference(documents, FakeTagger())."""

from apache_beam.ml.inference.base import PredictionResult

from kgpipe.pipeline.handlers import (DocumentTags, NerConfig, NerModelHandler, bucket_length, document_chars,
                                      plan_batches)
from kgpipe.schemas.records import Document, Mention


class FakeTagger:
    """Tags every 'X' as a one-character PER mention; records the batches (model calls) it saw."""

    version = "fake-1"
    bucket_lengths = (8, 16, 32)
    max_window_chars = 30

    def __init__(self):
        self.calls: list[list[str]] = []

    def token_count(self, text: str) -> int:
        return len(text) + 2

    def tag_batch(self, windows):
        self.calls.append([w.text for w in windows])
        return [
            [Mention(w.doc_id, w.start + i, w.start + i + 1, "X", "PER", 0.123456789, self.version)
             for i, c in enumerate(w.text) if c == "X"]
            for w in windows
        ]


def _handler(**kwargs) -> NerModelHandler:
    return NerModelHandler(NerConfig(model_dir="unused", **kwargs))


def test_run_inference_tags_documents_with_model_calls_across_documents():
    tagger = FakeTagger()
    documents = [Document("d1", "aXa这是第一句话。\nXb很长的一句话还没有完结也没有X标点"), Document("d2", "bbX这是第二个文件。")]
    results = list(_handler().run_inference(documents, tagger))
    assert all(isinstance(r, PredictionResult) and isinstance(r.inference, DocumentTags) for r in results)
    assert [r.example.id for r in results] == ["d1", "d2"]
    d1, d2 = (r.inference for r in results)
    assert [m.start for m in d1.mentions] == [i for i, c in enumerate(documents[0].text) if c == "X"]
    assert all(documents[0].text[m.start:m.end] == "X" and m.doc_id == "d1" for m in d1.mentions)
    assert [(m.doc_id, m.start) for m in d2.mentions] == [("d2", 2)] and d1.windows == 2 and d2.windows == 1
    # The first windows of both documents share one call at bucket 16; the long one runs at 32.
    assert sorted(map(sorted, tagger.calls)) == [["Xb很长的一句话还没有完结也没有X标点"], ["aXa这是第一句话。", "bbX这是第二个文件。"]]
    assert all(m.score == 0.1235 for r in results for m in r.inference.mentions)


def test_max_batch_size_is_the_model_call_size():
    tagger = FakeTagger()
    documents = [Document(f"d{i}", "aXa") for i in range(10)]
    list(_handler(max_batch_size=4).run_inference(documents, tagger))
    assert [len(call) for call in tagger.calls] == [4, 4, 2]


def test_plan_batches_bounds_rows_and_padded_tokens():
    tokens = [5, 30, 9, 3, 17, 8, 12, 31, 4]
    calls = plan_batches(tokens, (8, 16, 32), batch_tokens=40, max_batch_size=3)
    assert sorted(i for _, rows in calls for i in rows) == list(range(len(tokens)))
    for length, rows in calls:
        assert len(rows) <= 3 and (len(rows) == 1 or len(rows) * length <= 40)
        assert {bucket_length((8, 16, 32), tokens[i]) for i in rows} == {length}
    assert [len(rows) for _, rows in calls] == [3, 1, 2, 1, 1, 1]


def test_a_failing_window_fails_alone():
    class ExplodingTagger(FakeTagger):
        def tag_batch(self, windows):
            if any("BOOM" in w.text for w in windows):
                raise RuntimeError("model exploded")
            return super().tag_batch(windows)

    documents = [Document("ok", "X"), Document("bad", "BOOM X"), Document("fine", "aX")]
    tags = {r.example.id: r.inference for r in _handler().run_inference(documents, ExplodingTagger())}
    assert [(w.doc_id, error) for w, error in tags["bad"].failures] == [("bad", "RuntimeError: model exploded")]
    assert len(tags["ok"].mentions) == len(tags["fine"].mentions) == 1 and not tags["bad"].mentions


def test_documents_are_batched_by_characters_at_a_fixed_size():
    kwargs = _handler(buffer_chars=5000).batch_elements_kwargs()
    assert kwargs["min_batch_size"] == kwargs["max_batch_size"] == 5000
    assert kwargs["element_size_fn"] is document_chars and document_chars(Document("d", "abc")) == 3
    assert not _handler().should_skip_batching()


def test_bucket_length_picks_the_smallest_that_fits():
    assert bucket_length((8, 16, 32), 8) == 8
    assert bucket_length((8, 16, 32), 9) == 16
    assert bucket_length((8, 16, 32), 99) == 32


def test_product_text_decodes_with_the_product_heads_only_in_shared_calls():
    from kgpipe.kg.products.facts import ProductDocuments
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.handlers import default_model_dir

    tagger = MentionTagger.load(default_model_dir())
    titles = ["戴森吹风机负离子家用大功率", "李宁运动鞋男款跑步鞋"]
    documents = [Document("p0", titles[0], metadata={"kind": "product"}),
                 Document("p1", titles[1], metadata={"kind": "product"}),
                 Document("t", "华为Mate 60 Pro手机 5G 12GB+512GB 雅川青"),  # a title by its shape
                 Document("n", "新华社北京电 李宁在北京出席了会议。")]
    by_config = {}
    for products in (None, ProductDocuments.AUTO):
        results = _handler(product_documents=products).run_inference(documents, tagger)
        by_config[products] = {r.example.id: [(m.text, m.label) for m in r.inference.mentions] for r in results}
    plain, routed = by_config[None], by_config[ProductDocuments.AUTO]
    assert ("戴森", "PER") in plain["p0"] and ("李宁", "PER") in plain["p1"]  # the news head wins the merge
    assert ("戴森", "BRAND") in routed["p0"] and ("李宁", "BRAND") in routed["p1"]
    assert {label for d in ("p0", "p1", "t") for _, label in routed[d]} <= {"BRAND", "PRODUCT"}
    assert routed["n"] == plain["n"] and ("李宁", "PER") in routed["n"]  # news keeps every head
    # The same spans as tagging the product titles alone with the e-commerce head.
    alone = tagger.predict_spans(titles, heads=["ecommerce"])
    assert [routed["p0"], routed["p1"]] == [[(t[s:e], label) for s, e, label, _ in spans]
                                            for t, spans in zip(titles, alone)]


class BrandTagger(FakeTagger):
    """Tags each listed surface as a BRAND mention where it occurs."""

    def __init__(self, surfaces):
        super().__init__()
        self.surfaces = surfaces

    def tag_batch(self, windows):
        return [[Mention(w.doc_id, w.start + w.text.find(s), w.start + w.text.find(s) + len(s), s, "BRAND", 0.9,
                         self.version) for s in self.surfaces if s in w.text] for w in windows]


def test_a_brand_joined_to_its_latin_series_keeps_the_chinese_name():
    texts = ["苹果iPhone 15 Pro 256GB", "大疆Mini 4 Pro 航拍", "联想 ThinkPad X1", "OPPO Find X7", "jaff 捷夫 吊坠", "李宁韦德之道"]
    tagger = BrandTagger(["苹果iPhone", "大疆Mini", "联想 ThinkPad", "OPPO", "jaff 捷夫", "李宁"])
    documents = [Document(f"p{i}", t) for i, t in enumerate(texts)]
    results = _handler().run_inference(documents, tagger)
    brands = [[(m.text, m.start, m.end) for m in r.inference.mentions] for r in results]
    assert brands == [[("苹果", 0, 2)], [("大疆", 0, 2)], [("联想", 0, 2)], [("OPPO", 0, 4)], [("jaff 捷夫", 0, 7)],
                      [("李宁", 0, 2)]]
    assert all(d.text[m.start:m.end] == m.text for d, r in zip(documents, results) for m in r.inference.mentions)
