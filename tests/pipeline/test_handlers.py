"""NerModelHandler without a pipeline: run_inference(batch, FakeTagger())."""

from apache_beam.ml.inference.base import PredictionResult

from kgpipe.pipeline.handlers import NerConfig, NerModelHandler, bucket_length, window_weight
from kgpipe.schemas.records import Mention, TextWindow


class FakeTagger:
    """Tags every 'X' as a one-character PER mention; records the batches it saw."""

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


def test_run_inference_groups_by_bucket_and_keeps_document_offsets():
    handler = NerModelHandler(NerConfig(model_dir="unused"))
    tagger = FakeTagger()
    batch = [TextWindow("d1", 10, "aXa"), TextWindow("d2", 0, "b" * 20 + "X"), TextWindow("d1", 0, "Xb")]
    results = list(handler.run_inference(batch, tagger))
    assert all(isinstance(r, PredictionResult) for r in results)
    by_window = {(r.example.doc_id, r.example.start): r.inference for r in results}
    assert [(m.start, m.end) for m in by_window[("d1", 10)]] == [(11, 12)]
    assert [(m.start, m.end) for m in by_window[("d2", 0)]] == [(20, 21)]
    # Two model calls: the short windows (5 tokens) share bucket 8, the long one (23) runs at 32.
    assert sorted(len(call) for call in tagger.calls) == [1, 2]
    assert all(m.score == 0.1235 for r in results for m in r.inference)


def test_batching_arguments_bound_tokens_and_sort_by_length():
    handler = NerModelHandler(NerConfig(model_dir="unused", batch_tokens=512, max_batch_size=7))
    kwargs = handler.batch_elements_kwargs()
    assert kwargs["max_batch_weight"] == 512 and kwargs["max_batch_size"] == 7
    assert kwargs["element_size_fn"](TextWindow("d", 0, "abc")) == 5 == window_weight(TextWindow("d", 0, "abc"))
    assert handler.should_skip_batching()


def test_bucket_length_picks_the_smallest_that_fits():
    assert bucket_length((8, 16, 32), 8) == 8
    assert bucket_length((8, 16, 32), 9) == 16
    assert bucket_length((8, 16, 32), 99) == 32
