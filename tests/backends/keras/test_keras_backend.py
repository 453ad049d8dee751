"""Keras backend beyond the shared conformance suite: layouts without Permute, exact weights, saving, the
exact constructions for what Keras lacks, and one error naming every node it cannot build."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import interlayer
from interlayer.backends.keras import build, predict, run_native
from interlayer.errors import UnsupportedLayerError
from interlayer.ir import layout, ops
from interlayer.ir.builder import GraphBuilder
from interlayer.registry import converters
from support import assert_equivalent, chain_graph, random_inputs, random_weights, single_op_graph

from conformance.cases import CASES, conv


def graph_of(inputs: dict, steps: list, outputs: list, seed: int = 0):
    """A graph from ``{input: shape}`` and ``[(name, op, [inputs], attrs)]`` with seeded random weights."""
    rng = np.random.default_rng(seed)
    builder = GraphBuilder("g", "test", "0")
    for name, shape in inputs.items():
        builder.input(name, ("N", *shape[1:]))
    for name, op, sources, attrs in steps:
        schema = ops.get(op)
        builder.add(op, sources, attrs, random_weights(schema, schema.fill(attrs), rng), name=name)
    for value in outputs:
        builder.output(value)
    return builder.finish()


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def assert_matches_reference(graph, model):
    inputs = random_inputs(graph)
    results = interlayer.run(graph, inputs)  # by name: an output listed twice is there once
    expected = [results[spec.name] for spec in graph.outputs]
    actual = predict(model, inputs)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{graph.name} output {index}")


# graphs that exercise what the conformance cases do not ----------------------------------------------------

EXTRA = {
    "max_pool-explicit-pads": lambda: single_op_graph(
        "max_pool", {"kernel_size": [3, 3], "strides": [1, 1], "pads": [1, 0, 0, 1]}, [(2, 3, 6, 6)]),
    "max_pool-ceil-and-pads": lambda: single_op_graph(
        "max_pool", {"kernel_size": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": True},
        [(2, 3, 8, 8)]),
    "avg_pool-ceil-counting-pads": lambda: single_op_graph(
        "avg_pool", {"kernel_size": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": True,
                     "count_include_pad": True}, [(2, 3, 8, 8)]),
    "avg_pool1d-ceil": lambda: single_op_graph(
        "avg_pool", {"kernel_size": [2], "strides": [2], "ceil_mode": True}, [(2, 3, 7)]),
    "pad-crop-mixed": lambda: single_op_graph("pad", {"pads": [1, -1, -1, 2]}, [(2, 3, 5, 5)]),
    "pad-value": lambda: single_op_graph("pad", {"pads": [1, 0, 0, 2], "value": 1.5}, [(2, 3, 4, 4)]),
    "clip-symmetric": lambda: single_op_graph("clip", {"min": -1.0, "max": 1.0}, [(2, 3, 4, 4)]),
    "clip-max-only": lambda: single_op_graph("clip", {"min": None, "max": 0.5}, [(2, 5)]),
    "hard_sigmoid-onnx-slope": lambda: single_op_graph("hard_sigmoid", {"alpha": 0.2, "beta": 0.5}, [(2, 5)]),
    "conv2d-depthwise-multiplier": lambda: single_op_graph("conv", conv(3, 6, (3, 3), groups=3), [(2, 3, 6, 6)]),
    "conv1d-depthwise": lambda: single_op_graph("conv", conv(4, 4, (3,), groups=4, pads=[1, 1]), [(2, 4, 9)]),
    "conv1d-groups": lambda: single_op_graph("conv", conv(4, 6, (3,), groups=2), [(2, 4, 9)]),
    "conv3d": lambda: single_op_graph("conv", conv(2, 3, (2, 2, 2), pads=[1, 0, 0, 0, 1, 1]), [(2, 2, 4, 4, 4)]),
    "conv-stride-dilation-pads": lambda: single_op_graph(
        "conv", conv(3, 4, (3, 3), strides=[2, 2], dilations=[2, 2], pads=[1, 1, 2, 2]), [(2, 3, 9, 9)]),
    "linear-on-feature-map": lambda: chain_graph([
        ("conv", conv(2, 3, (1, 1))), ("linear", {"in_features": 5, "out_features": 2})], (2, 2, 4, 5)),
    "reshape-after-conv": lambda: chain_graph([
        ("conv", conv(2, 3, (3, 3))), ("reshape", {"shape": ["N", 3, -1]})], (2, 2, 5, 5)),
    "transpose-of-input-is-output": lambda: single_op_graph("transpose", {"perm": [0, 2, 3, 1]}, [(2, 3, 4, 5)]),
    "transpose-then-softmax": lambda: chain_graph([
        ("transpose", {"perm": [0, 2, 3, 1]}), ("softmax", {"axis": 3})], (2, 3, 4, 5)),
    "global_avg_pool1d-keepdims": lambda: single_op_graph("global_avg_pool", {"keepdims": True}, [(2, 3, 7)]),
    "batch_norm-sequence": lambda: single_op_graph("batch_norm", {"num_features": 4}, [(2, 4, 5)]),
    "add-held-differently": lambda: graph_of(
        {"image": (2, 3, 4, 4), "other": (2, 2, 2, 2)},
        [("conv", "conv", ["image"], conv(3, 2, (3, 3))), ("sum", "add", ["conv", "other"], {})], ["sum"]),
    "concat-of-convs": lambda: graph_of(
        {"image": (2, 3, 5, 5)},
        [("a", "conv", ["image"], conv(3, 2, (3, 3), pads=[1, 1, 1, 1])), ("b", "conv", ["image"], conv(3, 4, (1, 1))),
         ("joined", "concat", ["a", "b"], {"axis": 1}), ("pooled", "global_max_pool", ["joined"], {})],
        ["pooled", "joined"]),
    "output-used-twice": lambda: graph_of(
        {"x": (2, 5)}, [("fc", "linear", ["x"], {"in_features": 5, "out_features": 3})], ["fc", "fc"]),
    "names-keras-rejects": lambda: graph_of(
        {"in/put": (2, 3, 6, 6)},
        [("block/conv.0", "conv", ["in/put"], conv(3, 2, (3, 3))), ("block/conv_0", "relu", ["block/conv.0"], {})],
        ["block/conv_0"]),
}


@pytest.mark.parametrize("case", sorted(EXTRA))
def test_extra_graph_matches_reference(case):
    graph = EXTRA[case]()
    assert_matches_reference(graph, build(graph))


# layouts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["conv-flatten-linear", "conv-flatten-channels-last-linear",
                                  "linear-reshape-transpose-conv", "conv-pool-bn-global",
                                  "flatten-channels-last-output"])
def test_no_permute_layer(case):
    model = build(CASES[case]())
    assert "Permute" not in layer_types(model)


def test_conv_flatten_dense_reads_nhwc():
    model = build(CASES["conv-flatten-linear"]())
    assert layer_types(model) == ["InputLayer", "Conv2D", "ReLU", "Flatten", "Dense"]
    assert model.inputs[0].shape == (None, 7, 6, 2)
    perms = model._interlayer_perms
    assert (perms["inputs"], perms["outputs"]) == ([[0, 2, 3, 1]], [None])
    assert perms["values"] == {"conv_0": [0, 2, 3, 1], "relu_1": [0, 2, 3, 1]}  # NHWC maps, for verify
    assert perms["flatten_order"] == {"flatten_2": "channels_last"}  # the Dense columns refolded to match


def test_linear_reshape_transpose_conv_output_stays_nhwc():
    graph = CASES["linear-reshape-transpose-conv"]()
    model = build(graph)
    assert layer_types(model) == ["InputLayer", "Dense", "Reshape", "Conv2D", "Activation"]
    assert model._interlayer_perms["outputs"] == [[0, 2, 3, 1]]
    assert_matches_reference(graph, model)


def test_keep_input_layout_adds_exactly_one_permute():
    graph = CASES["conv-pool-bn-global"]()
    model = build(graph, keep_input_layout=True)
    assert layer_types(model).count("Permute") == 1
    assert model.inputs[0].shape == (None, 3, 8, 8)
    assert model._interlayer_perms["inputs"] == [None]
    assert_matches_reference(graph, model)


def test_layer_names_are_sanitised_and_unique():
    model = build(EXTRA["names-keras-rejects"]())
    assert [layer.name for layer in model.layers] == ["in_put", "block_conv.0", "block_conv_0"]


# weights ---------------------------------------------------------------------------------------------------


def keras_weights(node) -> list[np.ndarray]:
    """What the Keras layer built for ``node`` must hold, in its weight order."""
    w = node.weights
    if node.op == "linear":
        return [w["weight"].T, w["bias"]] if node.attrs["bias"] else [w["weight"].T]
    if node.op == "conv":
        kernel = layout.kernel_to_channels_last(w["weight"])
        groups, channels = node.attrs["groups"], node.attrs["in_channels"]
        if groups > 1 and groups == channels:
            kernel = kernel.reshape(*node.attrs["kernel_size"], channels, node.attrs["out_channels"] // channels)
        return [kernel, w["bias"]] if node.attrs["bias"] else [kernel]
    if node.op == "batch_norm":
        return [w[name] for name in ("scale", "offset", "mean", "variance") if name in w]
    return []


@pytest.mark.parametrize("case", ["linear", "linear-no-bias", "conv2d", "conv2d-groups", "conv2d-depthwise",
                                  "conv2d-no-bias", "conv1d", "batch_norm2d", "batch_norm-no-affine",
                                  "conv-pool-bn-global"])
def test_weights_bit_identical(case):
    graph = CASES[case]()
    model = build(graph)
    for node in graph.nodes:
        expected = keras_weights(node)
        actual = model.get_layer(node.name).get_weights() if expected else []
        assert len(actual) == len(expected), node.name
        for got, want in zip(actual, expected):
            assert got.dtype == np.float32 and np.array_equal(got, want), node.name


def test_batch_norm_attributes():
    graph = single_op_graph("batch_norm", {"num_features": 3, "epsilon": 1e-3, "momentum": 0.1}, [(2, 3, 4, 4)])
    layer = build(graph).get_layer("batch_norm")
    assert (layer.axis, layer.epsilon, layer.momentum) == (3, 1e-3, 0.9)
    graph.nodes[0].attrs["momentum"] = None
    assert build(graph).get_layer("batch_norm").momentum == 0.99


# saving ----------------------------------------------------------------------------------------------------

SAVED = {
    "conv-pool-bn-global": lambda: CASES["conv-pool-bn-global"](),
    "gelu-tanh": lambda: CASES["act-gelu-tanh"](),
    "max_pool-explicit-pads": EXTRA["max_pool-explicit-pads"],
    "pad-value": EXTRA["pad-value"],
    "clip-symmetric": EXTRA["clip-symmetric"],
    "hard_sigmoid-onnx-slope": EXTRA["hard_sigmoid-onnx-slope"],
    "conv-stride-dilation-pads": EXTRA["conv-stride-dilation-pads"],
}


@pytest.mark.parametrize("case", sorted(SAVED))
def test_saved_model_reloads_with_equal_outputs(case, tmp_path):
    graph = SAVED[case]()
    model = build(graph)
    path = tmp_path / f"{case}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    inputs = [np.transpose(x, perm) if perm else x
              for x, perm in zip(random_inputs(graph), model._interlayer_perms["inputs"])]
    for got, want in zip(run_native(loaded, inputs), run_native(model, inputs)):
        assert np.array_equal(got, want)


# what cannot be built --------------------------------------------------------------------------------------


def test_every_unbuildable_node_is_named_in_one_error(monkeypatch):
    monkeypatch.delitem(converters("keras", "backend"), "tanh")
    graph = chain_graph([
        ("tanh", {}),
        ("max_pool", {"kernel_size": [2, 2], "strides": [1, 1], "dilations": [2, 2]}),
        ("conv_transpose", conv(3, 3, (3, 3), groups=3)),
        ("relu", {}),
    ], (2, 3, 8, 8))
    with pytest.raises(UnsupportedLayerError) as info:
        build(graph)
    assert [where for where, _ in info.value.problems] == [
        "node 'tanh_0' (tanh)", "node 'max_pool_1' (max_pool)", "node 'conv_transpose_2' (conv_transpose)"]
    message = str(info.value)
    assert "no Keras converter for op 'tanh'" in message
    assert "Keras MaxPooling has no dilation" in message
    assert "Conv2DTranspose has no groups" in message


def test_unknown_option_is_rejected():
    with pytest.raises(interlayer.errors.InterlayerError, match="unknown option"):
        build(CASES["linear"](), channels_last=True)


def test_predict_without_recorded_perms_uses_the_model_layout():
    model = build(CASES["linear"]())
    object.__delattr__(model, "_interlayer_perms")
    x = random_inputs(CASES["linear"]())
    assert np.array_equal(predict(model, x)[0], run_native(model, x)[0])


# whole models: Keras -> IR -> Keras ------------------------------------------------------------------------


def keras_cnn():
    x = keras.Input((9, 9, 3), name="image")
    y = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="stem")(x)
    y = keras.layers.BatchNormalization(name="bn")(y)
    branch = keras.layers.DepthwiseConv2D(3, padding="same", name="depthwise")(y)
    y = keras.layers.Add(name="residual")([y, branch])
    y = keras.layers.MaxPooling2D(2, padding="same", name="pool")(y)
    y = keras.layers.Flatten(name="flatten")(y)
    return keras.Model(x, keras.layers.Dense(4, activation="softmax", name="head")(y), name="cnn")


def keras_sequence():
    return keras.Sequential([keras.Input((10, 4)), keras.layers.Conv1D(6, 3, padding="causal", name="causal"),
                             keras.layers.AveragePooling1D(2, padding="same", name="pool"),
                             keras.layers.GlobalMaxPooling1D(name="global"), keras.layers.Dense(2, name="head")],
                            name="sequence")


@pytest.mark.parametrize("make", [keras_cnn, keras_sequence], ids=["cnn", "sequence"])
def test_keras_round_trip(make):
    source = make()
    rng = np.random.default_rng(0)
    for variable in source.weights:
        scale = 0.3 if "variance" not in variable.path else 1.0
        value = rng.standard_normal(tuple(variable.shape)) * scale
        variable.assign((np.abs(value) + 0.5 if "variance" in variable.path else value).astype(np.float32))
    rebuilt = build(interlayer.export(source))
    names = {layer.name for layer in source.layers} - {"image"}
    assert names <= {layer.name for layer in rebuilt.layers}
    assert "Permute" not in layer_types(rebuilt)
    x = [np.random.default_rng(1).standard_normal((2, *source.inputs[0].shape[1:])).astype(np.float32)]
    assert_equivalent(run_native(rebuilt, x)[0], run_native(source, x)[0])
