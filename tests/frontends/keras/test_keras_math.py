"""Element-wise math from Keras: keras.ops calls and the activations 'exponential', 'softplus', 'selu', 'softsign',
'hard_shrink', 'soft_shrink' and 'log_softmax' by name, on a channels-last feature map held NHWC (log_softmax's axis
goes through the held perm); floor and ceil of the input itself. Then the layers interlayer's Keras backend writes
for sign, erf, floor, ceil, shrink and lrn (Keras has no LRN layer), read back."""
from __future__ import annotations

import keras
import pytest
from keras import layers

import interlayer
from interlayer.frontends.keras import capture
from keras_helpers import check
from support import chain_graph

SHAPE = (4, 5, 3)


def conv_then(fn):
    """A functional graph applying ``fn`` to a 1x1 conv of the input (a held NHWC tensor)."""
    x = keras.Input(SHAPE)
    return keras.Model(x, fn(layers.Conv2D(SHAPE[-1], 1)(x)), name="math")


OPERATIONS = [
    pytest.param(lambda y: keras.ops.exp(y), ["exp"], id="ops.exp"),
    pytest.param(lambda y: keras.ops.log(keras.ops.abs(y) + 0.5), ["abs", "add", "log"], id="ops.log"),
    pytest.param(lambda y: keras.ops.sqrt(keras.ops.absolute(y) + 0.5), ["abs", "add", "sqrt"], id="ops.sqrt"),
    pytest.param(lambda y: keras.ops.negative(y), ["neg"], id="ops.negative"),
    pytest.param(lambda y: keras.ops.softplus(y), ["softplus"], id="ops.softplus"),
    pytest.param(lambda y: keras.ops.selu(y), ["selu"], id="ops.selu"),
    pytest.param(lambda y: keras.ops.log_softmax(y), ["log_softmax"], id="ops.log_softmax"),
    pytest.param(lambda y: keras.ops.log_softmax(y, axis=1), ["log_softmax"], id="ops.log_softmax-axis1"),
    pytest.param(lambda y: keras.ops.sign(y), ["sign"], id="ops.sign"),
    pytest.param(lambda y: keras.ops.softsign(y), ["softsign"], id="ops.softsign"),
    pytest.param(lambda y: keras.ops.hard_shrink(y), ["shrink"], id="ops.hard_shrink"),
    pytest.param(lambda y: keras.ops.hard_shrink(y, threshold=0.8), ["shrink"], id="ops.hard_shrink-0.8"),
    pytest.param(lambda y: keras.ops.soft_shrink(y), ["shrink"], id="ops.soft_shrink"),
    pytest.param(lambda y: keras.ops.soft_shrink(y, 0.3), ["shrink"], id="ops.soft_shrink-0.3"),
    pytest.param(lambda y: keras.ops.erf(y), ["erf"], id="ops.erf"),
]


@pytest.mark.parametrize("fn, ops", OPERATIONS)
def test_operation_matches_keras(fn, ops):
    graph = check(conv_then(fn))
    assert [node.op for node in graph.nodes[1:]] == ops


# floor and ceil read the input as it is, or times 4: exact in float32 and float64 alike, so Keras and the reference
# see the same values and cannot land on two sides of an integer (after a conv they could)
ROUNDING = [
    pytest.param(lambda x: keras.ops.floor(x), ["floor"], id="ops.floor"),
    pytest.param(lambda x: keras.ops.floor(x * 4.0), ["mul", "floor"], id="ops.floor-times-4"),
    pytest.param(lambda x: keras.ops.ceil(x), ["ceil"], id="ops.ceil"),
    pytest.param(lambda x: keras.ops.ceil(x * 4.0), ["mul", "ceil"], id="ops.ceil-times-4"),
]


@pytest.mark.parametrize("fn, ops", ROUNDING)
def test_rounding_matches_keras(fn, ops):
    x = keras.Input(SHAPE)
    graph = check(keras.Model(x, fn(x), name="rounding"))
    assert [node.op for node in graph.nodes] == ops


@pytest.mark.parametrize("axis, canonical", [(-1, 1), (1, 2), (2, 3)])
def test_log_softmax_axis_is_canonical(axis, canonical):
    graph = check(conv_then(lambda y: keras.ops.log_softmax(y, axis=axis)))
    assert graph.nodes[-1].attrs == {"axis": canonical}


@pytest.mark.parametrize("fn, attrs", [
    pytest.param(lambda y: keras.ops.hard_shrink(y, threshold=0.8), {"lambd": 0.8, "bias": 0.0}, id="hard_shrink"),
    pytest.param(lambda y: keras.ops.soft_shrink(y, 0.3), {"lambd": 0.3, "bias": 0.3}, id="soft_shrink"),
])
def test_shrink_threshold_is_lambd(fn, attrs):
    assert check(conv_then(fn)).nodes[-1].attrs == attrs


@pytest.mark.parametrize("name, op", [("exponential", "exp"), ("softplus", "softplus"), ("selu", "selu"),
                                      ("log_softmax", "log_softmax"), ("softsign", "softsign"),
                                      ("hard_shrink", "shrink"), ("soft_shrink", "shrink")])
def test_activation_by_name(name, op):
    graph = check(conv_then(layers.Activation(name)))
    assert graph.nodes[-1].op == op


@pytest.mark.parametrize("name, attrs", [("hard_shrink", {"lambd": 0.5, "bias": 0.0}),
                                         ("soft_shrink", {"lambd": 0.5, "bias": 0.5})])
def test_shrink_activation_threshold_is_keras_default(name, attrs):
    assert check(conv_then(layers.Activation(name))).nodes[-1].attrs == attrs


@pytest.mark.parametrize("name", ["softplus", "selu", "softsign"])
def test_fused_activation_by_name(name):
    graph = check(keras.Sequential([keras.Input((7,)), layers.Dense(5, activation=name, name="dense")]))
    assert [(node.name, node.op) for node in graph.nodes] == [("dense", "linear"), ("dense_activation", name)]


# what interlayer's Keras backend writes, read back: the same ops and attributes, and the reference interpreter on
# the recaptured graph == the Keras model
STRONG = {"alpha": 0.8, "beta": 0.75, "bias": 1.5}
WRITTEN = [
    pytest.param([("sign", {})], (2, 3, 4, 5), id="sign"),
    pytest.param([("softsign", {})], (2, 3, 4, 5), id="softsign"),
    pytest.param([("erf", {})], (2, 3, 4, 5), id="erf"),
    pytest.param([("floor", {})], (2, 3, 4, 5), id="floor"),
    pytest.param([("ceil", {})], (2, 3, 4, 5), id="ceil"),
    pytest.param([("shrink", {"lambd": 0.5, "bias": 0.0})], (2, 3, 4, 5), id="shrink-hard-activation"),
    pytest.param([("shrink", {"lambd": 0.5, "bias": 0.5})], (2, 3, 4, 5), id="shrink-soft-activation"),
    pytest.param([("shrink", {"lambd": 0.8, "bias": 0.25})], (2, 3, 4, 5), id="shrink-layer"),
    pytest.param([("softplus", {"threshold": 2.0})], (2, 3, 4, 5), id="softplus-thresholded"),
    pytest.param([("log_softmax", {"axis": 1})], (2, 3, 4, 5), id="log_softmax-channels"),
    pytest.param([("log_softmax", {"axis": 2})], (2, 3, 4), id="log_softmax-middle"),
    pytest.param([("lrn", {"size": 5})], (2, 7, 4, 5), id="lrn-defaults"),
    pytest.param([("lrn", {"size": 4, **STRONG})], (2, 7, 4, 5), id="lrn-size4-onnx"),
    pytest.param([("lrn", {"size": 4, "before": 2, **STRONG})], (2, 7, 4, 5), id="lrn-size4-torch"),
    pytest.param([("lrn", {"size": 3, **STRONG})], (2, 6, 9), id="lrn-1d"),
    pytest.param([("lrn", {"size": 2, "before": 1, **STRONG})], (2, 6, 3, 4, 2), id="lrn-3d"),
]


@pytest.mark.parametrize("steps, shape", WRITTEN)
def test_written_by_the_keras_backend_reads_back(steps, shape):
    graph = chain_graph(steps, shape)
    again = check(interlayer.build(graph, "keras"))
    assert [(node.op, node.attrs) for node in again.nodes] == [(node.op, node.attrs) for node in graph.nodes]


def test_lrn_layer_survives_a_keras_file(tmp_path):
    graph = chain_graph([("lrn", {"size": 4, "before": 2, **STRONG})], (2, 7, 4, 5))
    interlayer.build(graph, "keras").save(tmp_path / "lrn.keras")
    loaded = keras.saving.load_model(tmp_path / "lrn.keras")
    assert [(node.op, node.attrs) for node in capture(loaded).nodes] == [(node.op, node.attrs) for node in graph.nodes]
