"""The XLA path (GPU default, forced here on CPU): fixed shapes per bucket, same mentions."""

from kgpipe.ner.tagger import MentionTagger
from kgpipe.schemas.records import TextWindow
from tests.ner.test_tagger import TEXTS, saved_dir  # noqa: F401  (module fixture)


def test_xla_runs_each_bucket_at_one_shape_and_agrees_with_eager(saved_dir, monkeypatch):  # noqa: F811
    plain = MentionTagger.load(saved_dir, jit_compile=False)
    xla = MentionTagger.load(saved_dir, jit_compile=True)
    shapes = []
    serve = xla.serve
    monkeypatch.setattr(xla, "serve", lambda *arrays: shapes.append(arrays[0].shape) or serve(*arrays))
    windows = [TextWindow(f"d{i}", 3, text) for i, text in enumerate(TEXTS)]
    for batch in (windows, windows[:1], windows[1:]):
        eager, compiled = plain.tag_batch(batch), xla.tag_batch(batch)
        assert [[(m.start, m.end, m.label) for m in ms] for ms in eager] == \
               [[(m.start, m.end, m.label) for m in ms] for ms in compiled]
        for ms_a, ms_b in zip(eager, compiled):
            assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(ms_a, ms_b))
    # Batches of 3, 1 and 2 windows all ran at [fixed_rows, bucket]: one compilation per bucket.
    assert {rows for rows, _ in shapes} == {xla.fixed_rows}
    assert {length for _, length in shapes} <= set(xla.bucket_lengths)
