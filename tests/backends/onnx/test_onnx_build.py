"""The ONNX backend's model: dynamic batch and sequence length, the names of initializers, nodes and values, shared
weights, and one error naming every node that cannot be built."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import interlayer
from conformance.cases_algebra import graph_of
from conformance.cases_recurrent import recurrent_graph
from interlayer.backends.onnx import predict
from interlayer.errors import InterlayerError, UnsupportedLayerError
from interlayer.ir import Graph, Node, TensorSpec
from interlayer.registry import converters
from support import assert_equivalent, assert_varies, random_inputs


def _dims(value: onnx.ValueInfoProto) -> list:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def _check(graph: Graph, model, batch: int, length: int = 5, seed: int = 1) -> list[np.ndarray]:
    inputs = random_inputs(graph, batch=batch, length=length, seed=seed)
    expected = list(interlayer.run(graph, inputs).values())
    actual = predict(model, inputs)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"batch {batch}, length {length}: output {index}")
    return actual


def _cnn() -> Graph:
    return graph_of({"image": (2, 3, 12, 12)}, [
        ("features.0", "conv", ["image"], {"in_channels": 3, "out_channels": 8, "kernel_size": [3, 3],
                                           "pads": [1, 1, 1, 1]}),
        ("features.1", "batch_norm", ["features.0"], {"num_features": 8}),
        ("features.2", "relu", ["features.1"], {}),
        ("features.3", "max_pool", ["features.2"], {"kernel_size": [2, 2], "strides": [2, 2]}),
        ("flatten", "flatten", ["features.3"], {}),
        ("classifier", "linear", ["flatten"], {"in_features": 8 * 6 * 6, "out_features": 5})], ["classifier"])


@pytest.mark.parametrize("batch", [1, 3])
def test_one_model_runs_every_batch_size(batch):
    graph = _cnn()
    model = interlayer.build(graph, "onnx")
    assert _dims(model.graph.input[0]) == ["N", 3, 12, 12]
    assert _dims(model.graph.output[0]) == ["N", 5]
    first = _check(graph, model, batch, seed=1)[0]
    assert_varies(first, _check(graph, model, batch, seed=2)[0], what=f"batch {batch} output")


@pytest.mark.parametrize("batch, length", [(1, 2), (3, 9)])
def test_a_symbolic_sequence_length_stays_symbolic(batch, length):
    graph = recurrent_graph("lstm", {"bidirectional": True, "num_layers": 2, "return_state": True}, length="T",
                            initial_states=True)
    model = interlayer.build(graph, "onnx")
    assert _dims(model.graph.input[0]) == ["N", "T", 3]
    assert _dims(model.graph.output[0]) == ["N", "T", 8]
    assert _dims(model.graph.output[1]) == ["N", 4, 4]
    first = _check(graph, model, batch, length, seed=1)[0]
    assert_varies(first, _check(graph, model, batch, length, seed=2)[0], what="sequence output")


def test_reshape_reads_a_symbolic_size_at_run_time():
    graph = graph_of({"x": (2, "T", 12)}, [("heads", "reshape", ["x"], {"shape": ["N", "T", 4, 3]}),
                                          ("swap", "transpose", ["heads"], {"perm": [0, 2, 1, 3]})], ["swap"])
    model = interlayer.build(graph, "onnx")
    assert _dims(model.graph.output[0]) == ["N", 4, "T", 3]
    _check(graph, model, batch=3, length=7)


def _named_graph() -> Graph:
    return graph_of({"x": (2, 3, 6, 6), "tokens": (2, 5, 4)}, [
        ("features.0", "conv", ["x"], {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 3]}),
        ("features.1", "prelu", ["features.0"], {"num_parameters": 4}),
        ("head", "linear", ["tokens"], {"in_features": 4, "out_features": 3}),
        ("rnn", "gru", ["head"], {"input_size": 3, "hidden_size": 2}),
        ("halves", "split", ["rnn"], {"axis": 2, "sizes": [1, 1]})],
        ["features.1", "halves:1", "halves:0"])


def test_initializers_are_named_after_the_ir_tensors():
    graph = _named_graph()
    model = interlayer.build(graph, "onnx")
    tensors = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    as_is = {"features.0.weight", "features.0.bias", "head.bias"}
    derived = {"features.1.slope_per_channel", "head.weight_transposed", "rnn.W_l0", "rnn.R_l0", "rnn.B_l0"}
    assert set(tensors) == as_is | derived
    for name in as_is:
        node, weight = name.rsplit(".", 1)
        original = graph.node(node).weights[weight]
        assert tensors[name].dtype == original.dtype and tensors[name].tobytes() == original.tobytes(), name
    np.testing.assert_array_equal(tensors["head.weight_transposed"], graph.node("head").weights["weight"].T)
    gru = graph.node("rnn").weights
    r, z, n = np.split(gru["weight_ih_l0"], 3)  # the IR's r, z, n -> ONNX's z, r, h
    np.testing.assert_array_equal(tensors["rnn.W_l0"], np.concatenate([z, r, n])[None])


def test_nodes_and_values_are_named_after_the_ir():
    graph = _named_graph()
    model = interlayer.build(graph, "onnx")
    names = [node.name for node in model.graph.node]
    assert len(names) == len(set(names))
    producers = {output: node.name for node in model.graph.node for output in node.output}
    for ir_node in graph.nodes:
        for value in ir_node.outputs:
            assert value in producers, f"the IR value {value!r} has no ONNX value of its name"
        assert producers[ir_node.outputs[0]] == ir_node.name
    assert [value.name for value in model.graph.output] == ["features.1", "halves:1", "halves:0"]
    _check(graph, model, batch=2)


def test_a_shared_layer_reads_one_set_of_initializers():
    steps = [("fc", "linear", ["x"], {"in_features": 4, "out_features": 4}),
             ("act", "tanh", ["fc"], {}),
             ("fc_call1", "linear", ["act"], {"in_features": 4, "out_features": 4})]
    graph = graph_of({"x": (2, 4)}, steps, ["fc_call1"])
    fc, again = graph.node("fc"), graph.node("fc_call1")
    again.weights = {key: value.copy() for key, value in fc.weights.items()}
    graph.source = {"shared": {"fc_call1.weight": "fc.weight", "fc_call1.bias": "fc.bias"}}
    model = interlayer.build(graph, "onnx")
    assert sorted(tensor.name for tensor in model.graph.initializer) == ["fc.bias", "fc.weight"]
    _check(graph, model, batch=2)


def test_every_node_that_cannot_be_built_is_named_in_one_error(monkeypatch):
    table = converters("onnx", "backend")
    monkeypatch.delitem(table, "relu")
    monkeypatch.delitem(table, "tanh")
    graph = graph_of({"x": (2, 3, 1)}, [
        ("first", "relu", ["x"], {}),
        ("pool", "max_pool", ["first"], {"kernel_size": [2], "strides": [1], "pads": [1, 1], "dilations": [2]}),
        ("last", "tanh", ["pool"], {})], ["last"])
    with pytest.raises(UnsupportedLayerError) as caught:
        interlayer.build(graph, "onnx")
    where = [place for place, _ in caught.value.problems]
    assert where == ["node 'first' (relu)", "node 'pool' (max_pool)", "node 'last' (tanh)"]
    message = str(caught.value)
    assert "onnx backend: 3 layer(s) cannot be converted" in message
    assert "op 'relu' has no onnx backend converter" in message
    assert "covers only padding" in message


def test_an_unknown_opset_or_option_is_refused():
    graph = _cnn()
    with pytest.raises(InterlayerError, match=r"unsupported opset\. Expected one of \[17, 18, 19, 20, 21\]"):
        interlayer.build(graph, "onnx", opset=16)
    with pytest.raises(InterlayerError, match="unknown option"):
        interlayer.build(graph, "onnx", keep_input_layout=True)


def test_predict_takes_one_array_per_input():
    model = interlayer.build(_cnn(), "onnx")
    with pytest.raises(InterlayerError, match="takes 1 input"):
        predict(model, [np.zeros((1, 3, 12, 12), np.float32)] * 2)


def test_float64_inputs_are_fed_as_the_declared_float32():
    graph = _cnn()
    model = interlayer.build(graph, "onnx")
    inputs = [x.astype(np.float64) for x in random_inputs(graph)]
    assert predict(model, inputs)[0].dtype == np.float32
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["classifier"])


def test_a_node_without_a_graph_output_keeps_its_name_inside():
    graph = Graph([Node("inner", "identity", ["x"], ["inner"]), Node("outer", "sigmoid", ["inner"], ["outer"])],
                  [TensorSpec("x", ("N", 4))], [TensorSpec("outer", ("N", 4))], name="names")
    model = interlayer.build(graph, "onnx")
    assert [(node.name, node.op_type, list(node.output)) for node in model.graph.node] == [
        ("inner", "Identity", ["inner"]), ("outer", "Sigmoid", ["outer"])]


def test_integer_values_stay_integers_through_data_movement():
    rng = np.random.default_rng(0)
    embedding = {"num_embeddings": 12, "embedding_dim": 3}
    graph = graph_of({"ids": (2, 2, 3)}, [
        ("swap", "transpose", ["ids"], {"perm": [0, 2, 1]}),
        ("flat", "reshape", ["swap"], {"shape": ["N", 6]}),
        ("same", "identity", ["flat"], {}),
        ("embed", "embedding", ["same"], embedding, {"weight": rng.standard_normal((12, 3)).astype(np.float32)})],
        ["embed", "same"])
    graph.inputs[0].dtype = graph.outputs[1].dtype = "int64"
    model = interlayer.build(graph, "onnx")
    assert [value.type.tensor_type.elem_type for value in model.graph.output] == [
        onnx.TensorProto.FLOAT, onnx.TensorProto.INT64]
    ids = rng.integers(0, 12, (3, 2, 3))
    expected = list(interlayer.run(graph, [ids]).values())
    actual = predict(model, [ids])
    assert_equivalent(actual[0], expected[0], what="embedding of moved indices")
    np.testing.assert_array_equal(actual[1], expected[1])


def _attention(shapes: dict, attrs: dict, mask_dtype: str | None = None) -> Graph:
    names = list(shapes)
    graph = graph_of(shapes, [("attention", "scaled_dot_product_attention", names, attrs)], ["attention"])
    if mask_dtype is not None:
        graph.inputs[3].dtype = mask_dtype
    return graph


def test_attention_with_a_boolean_mask_and_the_causal_triangle():
    graph = _attention({"q": (2, 4, 5, 8), "k": (2, 4, 6, 8), "v": (2, 4, 6, 3), "keep": (2, 1, 5, 6)},
                       {"causal": True}, mask_dtype="bool")
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((3, 4, n, d)).astype(np.float32) for n, d in ((5, 8), (6, 8), (6, 3)))
    keep = rng.random((3, 1, 5, 6)) > 0.3
    keep[..., 0] = True  # every query keeps a key its causal row allows: no row is all -inf
    expected = interlayer.run(graph, [q, k, v, keep])["attention"]
    assert_equivalent(predict(interlayer.build(graph, "onnx"), [q, k, v, keep])[0], expected, what="masked")


def test_causal_attention_over_a_symbolic_length():
    graph = _attention({"q": (2, 4, "T", 8), "k": (2, 4, "T", 8), "v": (2, 4, "T", 3)}, {"causal": True})
    model = interlayer.build(graph, "onnx")
    first = _check(graph, model, batch=3, length=7, seed=1)[0]
    assert_varies(first, _check(graph, model, batch=3, length=7, seed=2)[0], what="attention output")
    _check(graph, model, batch=1, length=2)
