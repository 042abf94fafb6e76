"""ONNX Runtime CPU path for the relation model (``ner.relations.model.RelationModel``).

Built by hand from the stored weights (``weights.npz``), without Keras or TensorFlow, as the NER
model's (``ner.onnx_runtime``); the graph computes ``RelationModel.predict_factors`` up to float
rounding:

    x      = concat(char[c], bigram[b shifted right, zeros first], bigram[b]
                    (, lexicon @ W_lex + b_lex with a lexicon))                  [batch, n, E + 2D (+ L)]
    h      = BiLSTM(x, lengths = count(c != 0))                                  [batch, n, 2U]
    q, k   = h @ W_qk[:, even] + b, h @ W_qk[:, odd] + b        (per head: entity, head, tail)
    pair   = rope(q) . rope(k) / sqrt(d)  (entity only rotary; the scale folded into q)
    bias   = ((h @ W_qk + b_qk) @ W_label + b_label) / 2 -> end (even labels), start (odd labels)
    entity = pair[:, None] + end[:, :, None, :] + start[:, :, :, None], -1e12 below the diagonal

The rotation ``rope(x) = x * cos + (x @ R) * sin`` folds ``R`` (the pair swap with a sign) into the
weights, so a head is three matrix products and elementwise work. Decoding stays in numpy
(``decoding.decode``), reading only the rows' real characters.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kgpipe.ner.onnx_runtime import lstm_weights
from kgpipe.ner.relations.config import RelationConfig

OPSET = 17
NEGATIVE = -1e12


def read_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """float32 weights of a relation model directory by ``ner.model_dir.weight_key``, e.g.
    ``"bilstm/forward_lstm/lstm_cell/kernel"`` (keys ``NNNN:relation_model_3/...``)."""
    from kgpipe.ner.model_dir import weight_key

    with np.load(Path(path) / "weights.npz") as data:
        return {weight_key(key.split(":", 1)[1]): data[key].astype(np.float32) for key in sorted(data.files)}


def _rotation(dim: int) -> np.ndarray:
    """``R`` with ``x @ R == reshape(stack([-x[1::2], x[::2]], -1))`` (GlobalPointer's ``rotary``)."""
    r = np.zeros((dim, dim), np.float64)
    for i in range(0, dim, 2):
        r[i + 1, i] = -1.0
        r[i, i + 1] = 1.0
    return r


def _rope_tables(length: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    positions = np.arange(length, dtype=np.float32)
    inverse = np.power(np.float32(10000.0), -2.0 * np.arange(dim // 2, dtype=np.float32) / dim)
    angles = positions[:, None] * inverse[None, :]
    return np.repeat(np.cos(angles), 2, axis=-1), np.repeat(np.sin(angles), 2, axis=-1)


def _head_weights(arrays: dict[str, np.ndarray], name: str, rotary: bool, max_length: int) -> dict[str, np.ndarray]:
    kernel = arrays[f"{name}/query_key/kernel"].astype(np.float64)
    bias = arrays[f"{name}/query_key/bias"].astype(np.float64)
    label_kernel = arrays[f"{name}/label_bias/kernel"].astype(np.float64)
    label_bias = arrays[f"{name}/label_bias/bias"].astype(np.float64)
    dim = kernel.shape[1] // 2
    scale = 1.0 / np.sqrt(dim)
    out = {"q_w": kernel[:, ::2] * scale, "q_b": bias[::2] * scale, "k_w": kernel[:, 1::2], "k_b": bias[1::2]}
    if rotary:
        rotation = _rotation(dim)
        out.update(qr_w=out["q_w"] @ rotation, qr_b=out["q_b"] @ rotation, kr_w=out["k_w"] @ rotation,
                   kr_b=out["k_b"] @ rotation)
        out["cos"], out["sin"] = _rope_tables(max_length, dim)
    label_w, label_b = kernel @ label_kernel / 2.0, (bias @ label_kernel + label_bias) / 2.0
    out.update(end_w=label_w[:, ::2], end_b=label_b[::2], start_w=label_w[:, 1::2], start_b=label_b[1::2])
    return {f"{name}_{k}": v.astype(np.float32) for k, v in out.items()}


def _head_nodes(name: str, rotary: bool) -> list:
    from onnx import helper

    node = helper.make_node
    p = lambda part: f"{name}_{part}"  # noqa: E731
    nodes = []
    for side in ("q", "k"):
        nodes += [node("MatMul", ["hidden", p(f"{side}_w")], [p(f"{side}_mm")]),
                  node("Add", [p(f"{side}_mm"), p(f"{side}_b")], [p(side if not rotary else f"{side}_plain")])]
        if rotary:
            nodes += [node("MatMul", ["hidden", p(f"{side}r_w")], [p(f"{side}r_mm")]),
                      node("Add", [p(f"{side}r_mm"), p(f"{side}r_b")], [p(f"{side}_rotated")]),
                      node("Mul", [p(f"{side}_plain"), p("cos_n")], [p(f"{side}_cos")]),
                      node("Mul", [p(f"{side}_rotated"), p("sin_n")], [p(f"{side}_sin")]),
                      node("Add", [p(f"{side}_cos"), p(f"{side}_sin")], [p(side)])]
    if rotary:
        nodes = [node("Slice", [p("cos"), "zero_1d", "seq_length", "zero_1d"], [p("cos_n")]),
                 node("Slice", [p("sin"), "zero_1d", "seq_length", "zero_1d"], [p("sin_n")])] + nodes
    nodes += [node("Transpose", [p("k")], [p("k_t")], perm=[0, 2, 1]),
              node("MatMul", [p("q"), p("k_t")], [p("pair")])]
    for part in ("end", "start"):
        nodes += [node("MatMul", ["hidden", p(f"{part}_w")], [p(f"{part}_mm")]),
                  node("Add", [p(f"{part}_mm"), p(f"{part}_b")], [p(f"{part}_time")]),
                  node("Transpose", [p(f"{part}_time")], [p(part)], perm=[0, 2, 1])]
    return nodes


def export_onnx(arrays: dict[str, np.ndarray], config: RelationConfig) -> bytes:
    """The serialised ONNX model of ``RelationModel.predict_factors`` for these weights.

    Inputs: ``char_ids``, ``bigram_ids`` int32 [batch, n] (n <= ``config.max_length``, 0 pads);
    with ``config.lexicon``, ``lexicon`` float32 [batch, n, config.lexicon_dim].
    Outputs: ``entity`` float32 [batch, 2, n, n] (lower triangle -1e12; padding is not masked,
    decoding reads the real characters only); ``{head,tail}_pair`` [batch, n, n],
    ``{head,tail}_{end,start}`` [batch, num_predicates, n].
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node
    units = config.lstm_units
    w, r, b = zip(*(lstm_weights(arrays, d) for d in ("forward", "backward")))
    weights = {"char_table": arrays["char_embeddings/embeddings"],
               "bigram_table": arrays["bigram_embeddings/embeddings"],
               "lstm_w": np.stack(w), "lstm_r": np.stack(r), "lstm_b": np.stack(b)}
    for name, rotary in (("entity", True), ("head", False), ("tail", False)):
        weights.update(_head_weights(arrays, name, rotary, config.max_length))
    n = config.max_length
    lower = np.tril(np.ones((n, n), np.float32), -1)
    consts = {"zero_1d": np.array([0], np.int64), "one_1d": np.array([1], np.int64),
              "two_1d": np.array([2], np.int64), "minus_one_1d": np.array([-1], np.int64),
              "zero_scalar": np.array(0, np.int32), "shift_pads": np.array([0, 1, 0, 0, 0, 0], np.int64),
              "hidden_shape": np.array([0, 0, 2 * units], np.int64),
              "lower_mask": lower * np.float32(NEGATIVE), "upper_keep": 1.0 - lower}
    nodes = [
        node("Shape", ["char_ids"], ["seq_length"], start=1, end=2),
        node("Gather", ["char_table", "char_ids"], ["chars"]),
        node("Gather", ["bigram_table", "bigram_ids"], ["bigrams"]),
        node("Slice", ["bigrams", "zero_1d", "minus_one_1d", "one_1d"], ["bigrams_head"]),
        node("Pad", ["bigrams_head", "shift_pads"], ["bigrams_prev"]),
        node("Concat", ["chars", "bigrams_prev", "bigrams"] + (["lexicon_projected"] if config.lexicon_dim else []),
             ["embedded"], axis=-1),
        node("Transpose", ["embedded"], ["time_major"], perm=[1, 0, 2]),
        node("Equal", ["char_ids", "zero_scalar"], ["is_pad"]),
        node("Not", ["is_pad"], ["is_real"]),
        node("Cast", ["is_real"], ["is_real_int"], to=TensorProto.INT32),
        node("ReduceSum", ["is_real_int", "one_1d"], ["lengths"], keepdims=0),
        node("LSTM", ["time_major", "lstm_w", "lstm_r", "lstm_b", "lengths"], ["lstm_out"],
             hidden_size=units, direction="bidirectional"),
        node("Transpose", ["lstm_out"], ["batch_major"], perm=[2, 0, 1, 3]),  # [B, T, 2, U]
        node("Reshape", ["batch_major", "hidden_shape"], ["hidden"]),  # forward then backward, as Keras
    ]
    if config.lexicon_dim:
        weights.update(lexicon_w=arrays["lexicon_projection/kernel"], lexicon_b=arrays["lexicon_projection/bias"])
        nodes[:0] = [node("MatMul", ["lexicon", "lexicon_w"], ["lexicon_mm"]),
                     node("Add", ["lexicon_mm", "lexicon_b"], ["lexicon_projected"])]
    for name, rotary in (("entity", True), ("head", False), ("tail", False)):
        nodes += _head_nodes(name, rotary)
    nodes += [
        node("Unsqueeze", ["entity_pair", "one_1d"], ["entity_pair_4d"]),
        node("Unsqueeze", ["entity_end", "two_1d"], ["entity_end_4d"]),
        node("Unsqueeze", ["entity_start", "minus_one_1d"], ["entity_start_4d"]),
        node("Add", ["entity_pair_4d", "entity_end_4d"], ["entity_pair_end"]),
        node("Add", ["entity_pair_end", "entity_start_4d"], ["entity_raw"]),
        node("Slice", ["upper_keep", "zero_1d", "seq_length", "zero_1d"], ["keep_rows"]),
        node("Slice", ["keep_rows", "zero_1d", "seq_length", "one_1d"], ["keep"]),
        node("Slice", ["lower_mask", "zero_1d", "seq_length", "zero_1d"], ["mask_rows"]),
        node("Slice", ["mask_rows", "zero_1d", "seq_length", "one_1d"], ["mask"]),
        node("Mul", ["entity_raw", "keep"], ["entity_kept"]),
        node("Add", ["entity_kept", "mask"], ["entity"]),
    ]
    floats, ints = TensorProto.FLOAT, TensorProto.INT32
    inputs = [helper.make_tensor_value_info(name, ints, ["batch", "n"]) for name in ("char_ids", "bigram_ids")]
    if config.lexicon_dim:
        inputs.append(helper.make_tensor_value_info("lexicon", floats, ["batch", "n", config.lexicon_dim]))
    p = len(config.predicates)
    outputs = [helper.make_tensor_value_info("entity", floats, ["batch", 2, "n", "n"])]
    for name in ("head", "tail"):
        outputs += [helper.make_tensor_value_info(f"{name}_pair", floats, ["batch", "n", "n"]),
                    helper.make_tensor_value_info(f"{name}_end", floats, ["batch", p, "n"]),
                    helper.make_tensor_value_info(f"{name}_start", floats, ["batch", p, "n"])]
    initializers = [numpy_helper.from_array(v, k) for k, v in {**weights, **consts}.items()]
    graph = helper.make_graph(nodes, "kgpipe_relations", inputs, outputs, initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="kgpipe")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def quantized(graph: bytes) -> bytes:
    """The graph with its matrix products and LSTM weights dynamically quantised to int8
    (``onnxruntime.quantization.quantize_dynamic``: int8 weights, activations quantised per call)."""
    import logging
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="kgpipe-re-int8-") as folder:
        source, target = Path(folder) / "float.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(graph)
        logging.disable(logging.WARNING)  # its root-logger advice to pre-process (shape inference) does not apply
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["LSTM", "MatMul", "Gemm"])
        finally:
            logging.disable(logging.NOTSET)
        return target.read_bytes()


OUTPUTS = ("entity", "head_pair", "head_end", "head_start", "tail_pair", "tail_end", "tail_start")


class OnnxRelationScores:
    """``{"char_ids", "bigram_ids"(, "lexicon")} -> {output: float32 array}`` on ONNX Runtime's
    CPU provider with ``threads`` intra-op threads (the ``RelationExtractorModel`` serving
    contract)."""

    def __init__(self, arrays: dict[str, np.ndarray], config: RelationConfig, threads: int = 1,
                 int8: bool = False):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        graph = export_onnx(arrays, config)
        self.session = ort.InferenceSession(quantized(graph) if int8 else graph, options,
                                            providers=["CPUExecutionProvider"])
        self.lexicon = bool(config.lexicon_dim)

    def __call__(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feeds = {"char_ids": np.asarray(inputs["char_ids"], np.int32),
                 "bigram_ids": np.asarray(inputs["bigram_ids"], np.int32)}
        if self.lexicon:
            feeds["lexicon"] = np.asarray(inputs["lexicon"], np.float32)
        return dict(zip(OUTPUTS, self.session.run(list(OUTPUTS), feeds)))
