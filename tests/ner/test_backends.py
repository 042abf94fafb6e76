"""The NER model is backend-neutral: the same weights give the same outputs under TensorFlow (the
default backend) and under JAX on CPU (a subprocess with ``KERAS_BACKEND=jax``).

Covers the ALBERT encoder (transformer layer), bigram and lexicon inputs, the BiLSTM, a CRF head
and its likelihood (the forward algorithm), a GlobalPointer head and its loss, and the tagger's
portable serving path (``stateless_call``, jitted under JAX).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import keras
    from kgpipe.ner.config import NerConfig
    from kgpipe.ner.globalpointer import globalpointer_loss
    from kgpipe.ner.model import NerModel, crf_log_likelihood
    from kgpipe.ner import tagger

    folder = sys.argv[1]
    config = NerConfig.from_json(f"{folder}/config.json")
    model = NerModel(config)
    model.build_all()
    with np.load(f"{folder}/weights.npz") as data:
        for i, variable in enumerate(model.weights):
            variable.assign(data[f"w{i}"])
    with np.load(f"{folder}/inputs.npz") as data:
        inputs = {k: data[k] for k in ("token_ids", "bigram_ids", "lexicon")}
        tags, lengths, spans = data["tags"], data["lengths"], data["spans"]
    outputs = model(inputs, training=False)
    out = {f"out_{k}": np.asarray(v) for k, v in outputs.items()}
    out["crf"] = np.asarray(crf_log_likelihood(outputs["crf"], tags, lengths, model.heads["crf"]))
    out["gp_loss"] = np.asarray(globalpointer_loss(outputs["gp"], spans))
    served = tagger._portable_serve(model, jit_compile=True)(*inputs.values())
    out.update({f"served_{k}": np.asarray(v) for k, v in served.items()})
    np.savez(f"{folder}/{keras.backend.backend()}.npz", **out)
''')


def _setup(folder):
    import keras

    from kgpipe.ner.albert import AlbertConfig
    from kgpipe.ner.config import HeadConfig, NerConfig
    from kgpipe.ner.model import NerModel

    config = NerConfig(
        albert=AlbertConfig(vocab_size=40, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=32,
                            max_position_embeddings=16),
        heads=(HeadConfig("crf", ("PER", "LOC")),
               HeadConfig("gp", ("bod", "sym"), kind="globalpointer", nested=True, head_size=8)),
        bigram_vocab_size=30, bigram_dim=6, lexicon_dim=5, lstm_units=8,
        max_sequence_length=16, bucket_lengths=(16,))
    config.to_json(folder / "config.json")
    keras.utils.set_random_seed(0)
    model = NerModel(config)
    model.build_all()
    rng = np.random.default_rng(0)
    for variable in model.weights:  # non-zero CRF transitions and biases too
        variable.assign(variable.numpy() + 0.3 * rng.standard_normal(variable.shape))
    np.savez(folder / "weights.npz", **{f"w{i}": v.numpy() for i, v in enumerate(model.weights)})
    token_ids = np.array([[2, 5, 9, 7, 11, 3, 0, 0, 0, 0], [2, 6, 8, 12, 13, 14, 15, 16, 17, 3]],
                         np.int32)
    lengths = np.array([4, 8], np.int32)
    spans = np.zeros((2, 2, 9, 9), np.float32)
    spans[0, 0, 1, 1] = spans[0, 1, 1, 3] = spans[1, 1, 0, 6] = 1.0
    np.savez(folder / "inputs.npz", token_ids=token_ids,
             bigram_ids=rng.integers(1, 30, token_ids.shape).astype(np.int32),
             lexicon=rng.random((2, 10, 5)).astype(np.float32),
             tags=rng.integers(0, len(config.heads[0].tags), (2, 9)).astype(np.int32),
             lengths=lengths, spans=spans)


def _run(folder, backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "",
           "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(folder / f"{backend}.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.mark.slow
def test_tensorflow_and_jax_give_the_same_outputs(tmp_path):
    _setup(tmp_path)
    tf_out, jax_out = _run(tmp_path, "tensorflow"), _run(tmp_path, "jax")
    assert set(tf_out) == set(jax_out) == {
        "out_crf", "out_gp", "crf", "gp_loss", "served_crf", "served_gp"}
    assert tf_out["out_crf"].shape == (2, 9, 9) and tf_out["out_gp"].shape == (2, 2, 9, 9)
    for key in tf_out:
        np.testing.assert_allclose(jax_out[key], tf_out[key], rtol=1e-4, atol=1e-4, err_msg=key)
    np.testing.assert_allclose(tf_out["served_crf"], tf_out["out_crf"], atol=1e-5)
    assert np.isfinite(tf_out["crf"]).all() and (tf_out["crf"] < 0).all()
    assert json.loads((tmp_path / "config.json").read_text())["heads"][1]["kind"] == "globalpointer"
