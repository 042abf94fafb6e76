"""ONNX Runtime CPU path for the embeddings + BiLSTM NER model (``ner.model.NerModel``).

The ONNX graph is built by hand from the Keras weights (no converter), so it is the same
function as ``NerModel.call(training=False)`` up to float rounding:

    x = LayerNorm(word[token] + bigram_cur[bigram] + bigram_prev[bigram shifted right]
                  + lexicon @ W_lex + b_lex + (position + token_type[0]))     [batch, seq, E]
    h = BiLSTM(x @ W_proj + b_proj, lengths = count(token_ids != 0))          [batch, seq, 2U]
      (W_proj, b_proj folded into the LSTM's input weights and bias)
    emissions[head] = h[:, 1:] @ W_head + b_head                               [batch, seq - 1, tags]

``bigram_cur``/``bigram_prev`` are the bigram table already multiplied by the two halves of the
bigram projection (``concat(prev, cur) @ K == prev @ K[:d] + cur @ K[d:]``), which turns a
[batch, seq, 2d] x [2d, E] product per call into two gathers. ONNX's LSTM op takes per-row
``sequence_lens``, so its reverse direction starts at each row's last real token, as Keras' masked
backward LSTM does on right-padded rows. Models outside this family (transformer layers, no
BiLSTM, heads other than ``CrfHead``) raise ``OnnxUnsupported``; callers then keep TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Sequence

import numpy as np

from kgpipe.ner.config import NerConfig
from kgpipe.ner.model_dir import weight_key

OPSET = 17  # LayerNormalization


class OnnxUnsupported(ValueError):
    """The model has a part this exporter does not translate."""


@dataclasses.dataclass(frozen=True)
class OnnxConfig:
    """ONNX Runtime session settings.

    Attributes:
        intra_op_threads: threads for one operator (0 = ONNX Runtime's default, one per core).
    """

    intra_op_threads: int = 1

    def __post_init__(self):
        if not isinstance(self.intra_op_threads, int) or self.intra_op_threads < 0:
            raise ValueError("`intra_op_threads` must be an int >= 0. "
                             f"Received: intra_op_threads={self.intra_op_threads!r}")


@dataclasses.dataclass(frozen=True)
class StoredWeights:
    """A model's config and float32 weights by ``weight_key``: all the ONNX path needs.

    ``from_model_dir`` reads a model directory without Keras or TensorFlow, so a CPU tagger
    on ONNX Runtime starts without importing either; ``from_model`` takes a built Keras model.
    """

    config: NerConfig
    arrays: Mapping[str, np.ndarray]

    @classmethod
    def from_model(cls, model) -> "StoredWeights":
        prefix = model.name + "/"  # a weight outside the model's own scope keeps its full path

        return cls(model.config, {weight_key(v.path) if v.path.startswith(prefix) else v.path:
                                  np.asarray(v.numpy(), np.float32) for v in model.weights})

    @classmethod
    def from_model_dir(cls, path: str | os.PathLike, meta: dict | None = None) -> "StoredWeights":
        """``meta``: the directory's ``config.json`` if the caller has read it already."""
        from kgpipe.ner.model_dir import read_meta, read_weights

        config = NerConfig.from_dict((meta or read_meta(path))["model"])
        return cls(config, {weight_key(key.split(":", 1)[1]): array.astype(np.float32)
                            for key, array in read_weights(path, config)})

    def head(self, name: str, part: str) -> np.ndarray:
        """``part`` of head ``name``: transitions, start, end, emission/kernel, emission/bias."""
        return self.arrays[f"head_{name}/{part}"]


def _expected_keys(config: NerConfig) -> set[str]:
    lstm = [f"bilstm/{d}_lstm/lstm_cell/{w}" for d in ("forward", "backward")
            for w in ("kernel", "recurrent_kernel", "bias")]
    heads = [f"head_{h.name}/{w}" for h in config.heads
             for w in ("transitions", "start", "end", "emission/kernel", "emission/bias")]
    return {"albert/word_embeddings/embeddings", "albert/token_type_embeddings/embeddings",
            "albert/position_embeddings/embeddings", "albert/embedding_norm/gamma",
            "albert/embedding_norm/beta", "albert/embedding_projection/kernel",
            "albert/embedding_projection/bias", "bigram_embeddings/embeddings",
            "bigram_projection/kernel", "lexicon_projection/kernel", "lexicon_projection/bias",
            *lstm, *heads}


def _stored(model) -> StoredWeights:
    return model if isinstance(model, StoredWeights) else StoredWeights.from_model(model)


def check_supported(model) -> None:
    """Raises ``OnnxUnsupported`` unless ``model`` (Keras ``NerModel`` or ``StoredWeights``)
    is in the family the ONNX graph translates."""
    stored = _stored(model)
    config = stored.config
    albert = config.albert
    problems = []
    if albert.num_hidden_layers:
        problems.append(f"num_hidden_layers={albert.num_hidden_layers} (transformer layers)")
    if albert.embedding_layout != "google":
        problems.append(f"embedding_layout={albert.embedding_layout!r}")
    if not config.lstm_units:
        problems.append("lstm_units=0 (no BiLSTM)")
    if not config.bigram_vocab_size or not config.lexicon_dim:
        problems.append("no bigram or lexicon input")
    odd = [h.name for h in config.heads if h.kind != "crf"]
    if odd:
        problems.append(f"heads {odd} are not CRF heads")
    if not problems:  # any weight beyond the translated ones means a layer the graph lacks
        expected, present = _expected_keys(config), set(stored.arrays)
        if present - expected:
            problems.append(f"weights the exporter does not translate: {sorted(present - expected)}")
        if expected - present:
            problems.append(f"weights missing: {sorted(expected - present)}")
    if problems:
        raise OnnxUnsupported("the ONNX path covers embeddings + BiLSTM + CRF heads only; "
                              "this model has " + ", ".join(problems))


def lstm_weights(arrays: Mapping[str, np.ndarray], direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keras LSTM (gates i, f, c, o in columns) -> ONNX W [4U, in], R [4U, U], B [8U] (i, o, f, c),
    from ``arrays`` by ``weight_key`` (``bilstm/{direction}_lstm/lstm_cell/...``; also used by
    the relation model's graph)."""
    kernel, recurrent, bias = (arrays[f"bilstm/{direction}_lstm/lstm_cell/{w}"]
                               for w in ("kernel", "recurrent_kernel", "bias"))
    units = recurrent.shape[0]

    def reorder(x):
        i, f, c, o = (x[..., k * units:(k + 1) * units] for k in range(4))
        return np.concatenate([i, o, f, c], axis=-1)

    return (reorder(kernel).T, reorder(recurrent).T,
            np.concatenate([reorder(bias), np.zeros(4 * units, np.float32)]))


def _weights(stored: StoredWeights) -> dict[str, np.ndarray]:
    """Folded float32 weights of the graph, by initializer name."""
    a = stored.arrays
    bigram = a["bigram_embeddings/embeddings"]
    projection = a["bigram_projection/kernel"]
    d = bigram.shape[1]
    w, r, b = zip(*(lstm_weights(stored.arrays, direction) for direction in ("forward", "backward")))
    names = [h.name for h in stored.config.heads]
    projection_kernel = a["albert/embedding_projection/kernel"].astype(np.float64)
    projection_bias = a["albert/embedding_projection/bias"].astype(np.float64)
    w = [wd.astype(np.float64) for wd in w]
    zeros = np.zeros(w[0].shape[0])
    head_kernel = np.concatenate([stored.head(n, "emission/kernel") for n in names], axis=1)
    weights = {
        "word_table": a["albert/word_embeddings/embeddings"],
        "position_table": (a["albert/position_embeddings/embeddings"]
                           + a["albert/token_type_embeddings/embeddings"][0]),
        "bigram_cur_table": bigram @ projection[d:],
        "bigram_prev_table": bigram @ projection[:d],
        "lexicon_kernel": a["lexicon_projection/kernel"],
        "lexicon_bias": a["lexicon_projection/bias"],
        "norm_gamma": a["albert/embedding_norm/gamma"],
        "norm_beta": a["albert/embedding_norm/beta"],
        # (x @ P + p) @ W.T == x @ (W @ P.T).T + W @ p: one [E -> 4U] product per direction
        # instead of [E -> H] then [H -> 4U].
        "lstm_w": np.stack([wd @ projection_kernel.T for wd in w]),
        "lstm_r": np.stack(r),
        "lstm_b": np.stack([bd + np.concatenate([wd @ projection_bias, zeros]) for wd, bd in zip(w, b)]),
        # [2, U, tags]: the forward half of the head kernels, then the backward half.
        "head_kernel": head_kernel.reshape(2, -1, head_kernel.shape[1]),
        "head_bias": np.concatenate([stored.head(n, "emission/bias") for n in names]),
    }
    return {name: v.astype(np.float32) for name, v in weights.items()}


def _nodes(units: int, epsilon: float, split: Sequence[int], head_names: Sequence[str]):
    from onnx import helper

    node = helper.make_node
    return [
        node("Gather", ["word_table", "token_ids"], ["word"]),
        node("Gather", ["bigram_cur_table", "bigram_ids"], ["bigram_cur"]),
        # prev[t] = bigram_prev_table[bigram_ids[t - 1]], zeros at t = 0.
        node("Slice", ["bigram_ids", "zero_1d", "minus_one_1d", "one_1d"], ["bigram_head"]),
        node("Gather", ["bigram_prev_table", "bigram_head"], ["bigram_prev_head"]),
        node("Pad", ["bigram_prev_head", "shift_pads"], ["bigram_prev"]),
        node("MatMul", ["lexicon", "lexicon_kernel"], ["lexicon_mm"]),
        node("Shape", ["token_ids"], ["seq_length"], start=1, end=2),
        node("Slice", ["position_table", "zero_1d", "seq_length", "zero_1d"], ["positions"]),
        node("Sum", ["word", "bigram_cur", "bigram_prev", "lexicon_mm", "lexicon_bias",
                     "positions"], ["embedded"]),
        node("LayerNormalization", ["embedded", "norm_gamma", "norm_beta"], ["normed"],
             axis=-1, epsilon=epsilon),
        # The embedding projection is folded into the LSTM's input weights (see ``_weights``).
        node("Transpose", ["normed"], ["time_major"], perm=[1, 0, 2]),
        node("Equal", ["token_ids", "zero_scalar"], ["is_pad"]),
        node("Not", ["is_pad"], ["is_real"]),
        node("Cast", ["is_real"], ["is_real_int"], to=6),  # int32
        node("ReduceSum", ["is_real_int", "one_1d"], ["lengths"], keepdims=0),
        node("LSTM", ["time_major", "lstm_w", "lstm_r", "lstm_b", "lengths"], ["lstm_out"],
             hidden_size=units, direction="bidirectional"),
        # Heads on each direction's half ([T, 2, B, U] x [2, U, tags], summed over directions),
        # so only the narrow [T, B, tags] result is transposed to batch-major.
        node("MatMul", ["lstm_out", "head_kernel"], ["per_direction"]),
        node("ReduceSum", ["per_direction", "one_1d"], ["time_emissions"], keepdims=0),
        node("Transpose", ["time_emissions"], ["all_emissions"], perm=[1, 0, 2]),
        node("Slice", ["all_emissions", "one_1d", "max_1d", "one_1d"], ["content"]),
        node("Add", ["content", "head_bias"], ["emissions"]),
        node("Split", ["emissions", "split_sizes"], list(head_names), axis=2),
    ]


def export_onnx(model) -> bytes:
    """The serialised ONNX model (a ``ModelProto``) computing ``model``'s emissions
    (``model``: a Keras ``NerModel`` or its ``StoredWeights``).

    Inputs: ``token_ids`` int32 [batch, seq], ``bigram_ids`` int32 [batch, seq], ``lexicon``
    float32 [batch, seq, lexicon_dim]. Outputs: one float32 [batch, seq - 1, tags] per head,
    named after the head, in ``model.heads`` order.

    Raises:
        OnnxUnsupported: the model is outside the family described in the module docstring.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    stored = _stored(model)
    check_supported(stored)
    weights = _weights(stored)
    config = stored.config
    units = config.lstm_units
    heads = [h.name for h in config.heads]
    split = [len(h.tags) for h in config.heads]
    consts = {"zero_1d": np.array([0], np.int64), "one_1d": np.array([1], np.int64),
              "minus_one_1d": np.array([-1], np.int64),
              "max_1d": np.array([np.iinfo(np.int64).max], np.int64),
              "zero_scalar": np.array(0, np.int32),
              "shift_pads": np.array([0, 1, 0, 0, 0, 0], np.int64),
              "split_sizes": np.array(split, np.int64)}
    initializers = [numpy_helper.from_array(v, name) for name, v in {**weights, **consts}.items()]
    ints = TensorProto.INT32
    inputs = [helper.make_tensor_value_info("token_ids", ints, ["batch", "seq"]),
              helper.make_tensor_value_info("bigram_ids", ints, ["batch", "seq"]),
              helper.make_tensor_value_info("lexicon", TensorProto.FLOAT,
                                            ["batch", "seq", config.lexicon_dim])]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "content", n])
               for name, n in zip(heads, split)]
    epsilon = config.albert.layer_norm_epsilon
    graph = helper.make_graph(_nodes(units, epsilon, split, heads), "kgpipe_ner", inputs, outputs,
                              initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="kgpipe")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


class OnnxEmissions:
    """Runs an exported model with ONNX Runtime on CPU: ``(token_ids, bigram_ids, lexicon) ->
    {head: float32 emissions [batch, seq - 1, tags]}`` (the ``MentionTagger.serve`` contract)."""

    def __init__(self, model, config: OnnxConfig = OnnxConfig()):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = config.intra_op_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.config = config
        self.head_names = tuple(h.name for h in model.config.heads)
        self.session = ort.InferenceSession(export_onnx(model), options,
                                            providers=["CPUExecutionProvider"])

    def __call__(self, token_ids: np.ndarray, bigram_ids: np.ndarray,
                 lexicon: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {"token_ids": np.asarray(token_ids, np.int32),
                 "bigram_ids": np.asarray(bigram_ids, np.int32),
                 "lexicon": np.asarray(lexicon, np.float32)}
        return dict(zip(self.head_names, self.session.run(list(self.head_names), feeds)))
