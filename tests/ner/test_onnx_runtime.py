"""The ONNX Runtime CPU path computes the Keras model's emissions and the same mentions."""

from pathlib import Path

import numpy as np
import pytest

from kgpipe.ner.albert import AlbertConfig
from kgpipe.ner.config import HeadConfig, NerConfig
from tests.ner.test_tagger import TEXTS, tiny_featurizer, tiny_model

pytest.importorskip("onnxruntime")

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "ner" / "default_model"
MORE_TEXTS = TEXTS + ["北京", "", "张三和李四在上海的华为公司见面，然后去了北京大学。", "a"]


def bilstm_model(featurizer):
    """A tiny embeddings + BiLSTM model with random weights and heads biased to emit spans."""
    import keras

    from kgpipe.ner.model import NerModel

    keras.utils.set_random_seed(3)
    albert = AlbertConfig(vocab_size=len(featurizer.tokenizer), embedding_size=8, hidden_size=12,
                          num_hidden_layers=0, num_attention_heads=2, intermediate_size=16,
                          max_position_embeddings=64)
    config = NerConfig(albert=albert,
                       heads=(HeadConfig("news", ("LOC", "ORG", "PER")),
                              HeadConfig("shop", ("BRAND", "PRODUCT"))),
                       bigram_vocab_size=len(featurizer.bigram_vocab), bigram_dim=4,
                       lexicon_dim=featurizer.lexicon_dim, lstm_units=6,
                       max_sequence_length=64, bucket_lengths=(8, 16, 64), name="tiny")
    model = NerModel(config)
    model.build_all()
    rng = np.random.default_rng(0)
    for weight in model.weights:  # larger than the initialisers, so every part matters
        weight.assign(rng.normal(0, 0.5, weight.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def taggers():
    from kgpipe.ner.tagger import MentionTagger

    featurizer = tiny_featurizer()
    model = bilstm_model(featurizer)
    return (MentionTagger(model, featurizer, version="t", runtime="tensorflow"),
            MentionTagger(model, featurizer, version="t", runtime="onnx"))


def padded(tagger, texts):
    features = tagger.featurize(texts)
    width = max(len(f) for f in features) + 3  # extra padding must not change anything
    token_ids = np.zeros((len(texts), width), np.int32)
    bigram_ids = np.zeros_like(token_ids)
    lexicon = np.zeros((len(texts), width, tagger._lexicon_dim), np.float32)
    for row, f in enumerate(features):
        token_ids[row, :len(f)], bigram_ids[row, :len(f)], lexicon[row, :len(f)] = (
            f.token_ids, f.bigram_ids, f.lexicon)
    return features, (token_ids, bigram_ids, lexicon)


def test_emissions_match_keras_on_ragged_batch(taggers):
    tf_tagger, onnx_tagger = taggers
    features, inputs = padded(tf_tagger, MORE_TEXTS)
    expected = {k: v.numpy() for k, v in tf_tagger.serve(*inputs).items()}
    got = onnx_tagger._onnx(*inputs)
    assert set(got) == {"news", "shop"}
    for name in expected:
        assert got[name].shape == expected[name].shape
        for row, f in enumerate(features):
            real = len(f) - 1  # content tokens + [SEP]
            np.testing.assert_allclose(got[name][row, :real], expected[name][row, :real],
                                       atol=1e-4, rtol=1e-4)


def test_spans_match_tensorflow_path(taggers):
    tf_tagger, onnx_tagger = taggers
    expected = tf_tagger.predict_spans(MORE_TEXTS, batch_size=3)
    got = onnx_tagger.predict_spans(MORE_TEXTS, batch_size=3)
    assert any(expected), "the random model should emit spans"
    assert [[s[:3] for s in spans] for spans in got] == [[s[:3] for s in spans] for spans in expected]
    for a, b in zip(got, expected):
        np.testing.assert_allclose([s[3] for s in a], [s[3] for s in b], atol=1e-4)
    # Other batches (other padded widths): the same spans, scores up to float rounding.
    regrouped = onnx_tagger.predict_spans(MORE_TEXTS[::-1], batch_size=2)[::-1]
    assert [[s[:3] for s in spans] for spans in regrouped] == [[s[:3] for s in spans] for spans in got]
    for a, b in zip(regrouped, got):
        np.testing.assert_allclose([s[3] for s in a], [s[3] for s in b], atol=1e-6)


def test_unsupported_model_raises_and_load_falls_back(tmp_path):
    from kgpipe.ner.model_dir import save_model_dir
    from kgpipe.ner.onnx_runtime import OnnxUnsupported, export_onnx
    from kgpipe.ner.tagger import MentionTagger

    featurizer = tiny_featurizer()
    model = tiny_model(featurizer)  # one transformer layer
    with pytest.raises(OnnxUnsupported, match="num_hidden_layers=1"):
        export_onnx(model)
    save_model_dir(tmp_path, model, featurizer)
    assert MentionTagger.load(tmp_path).runtime == "tensorflow"
    with pytest.raises(OnnxUnsupported):
        MentionTagger.load(tmp_path, runtime="onnx")
    with pytest.raises(ValueError, match="runtime='tflite'"):
        MentionTagger(model, featurizer, version="t", runtime="tflite")


ON_GPU_MACHINE = pytest.mark.skipif(
    __import__("kgpipe.ner.tagger", fromlist=["may_have_gpu"]).may_have_gpu(),
    reason="a GPU (or a non-Linux) machine loads the Keras path by default")


@ON_GPU_MACHINE
def test_default_model_same_mentions_on_msra_sample(shared_data):
    from kgpipe.ner.data import read_examples, split_long
    from kgpipe.ner.tagger import MentionTagger

    onnx_tagger = MentionTagger.load(DEFAULT_MODEL)
    assert onnx_tagger.runtime == "onnx"
    tf_tagger = MentionTagger.load(DEFAULT_MODEL, runtime="tensorflow")
    assert tf_tagger.version == onnx_tagger.version
    examples = read_examples(shared_data / "msra" / "test.txt")[:300]
    texts = [p.text for ex in examples for p in split_long(ex, onnx_tagger.max_window_chars)]
    got, expected = onnx_tagger.predict_spans(texts), tf_tagger.predict_spans(texts)
    assert sum(map(len, expected)) > 300
    assert [[s[:3] for s in spans] for spans in got] == [[s[:3] for s in spans] for spans in expected]
    worst = max(abs(a[3] - b[3]) for x, y in zip(got, expected) for a, b in zip(x, y))
    assert worst < 1e-4


def test_a_layer_the_exporter_does_not_know_is_unsupported():
    import keras

    from kgpipe.ner.model import NerModel
    from kgpipe.ner.onnx_runtime import OnnxUnsupported, export_onnx

    class WithExtraLayer(NerModel):
        def __init__(self, config, **kwargs):
            super().__init__(config, **kwargs)
            self.extra_dense = keras.layers.Dense(2, name="extra_dense")

        def build_all(self, lexicon_dim=None):
            super().build_all(lexicon_dim)
            self.extra_dense.build((None, 3))

    model = WithExtraLayer(bilstm_model(tiny_featurizer()).config)
    model.build_all()
    with pytest.raises(OnnxUnsupported, match="extra_dense"):
        export_onnx(model)


@ON_GPU_MACHINE
def test_cpu_tagger_starts_without_keras_or_tensorflow():
    """Their import was most of a pipeline worker's start-up; the ONNX path needs neither."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from kgpipe.ner.tagger import MentionTagger\n"
        f"tagger = MentionTagger.load({str(DEFAULT_MODEL)!r})\n"
        "spans = tagger.predict_spans(['国务院总理李克强在北京考察。'])\n"
        "assert tagger.runtime == 'onnx' and spans[0], spans\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
