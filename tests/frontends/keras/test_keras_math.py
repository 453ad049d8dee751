"""Element-wise math from Keras: keras.ops calls and the activations 'exponential', 'softplus', 'selu' and
'log_softmax' by name, on a channels-last feature map held NHWC (log_softmax's axis goes through the held perm)."""
from __future__ import annotations

import keras
import pytest
from keras import layers

from keras_helpers import check

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
]


@pytest.mark.parametrize("fn, ops", OPERATIONS)
def test_operation_matches_keras(fn, ops):
    graph = check(conv_then(fn))
    assert [node.op for node in graph.nodes[1:]] == ops


@pytest.mark.parametrize("axis, canonical", [(-1, 1), (1, 2), (2, 3)])
def test_log_softmax_axis_is_canonical(axis, canonical):
    graph = check(conv_then(lambda y: keras.ops.log_softmax(y, axis=axis)))
    assert graph.nodes[-1].attrs == {"axis": canonical}


@pytest.mark.parametrize("name, op", [("exponential", "exp"), ("softplus", "softplus"), ("selu", "selu"),
                                      ("log_softmax", "log_softmax")])
def test_activation_by_name(name, op):
    graph = check(conv_then(layers.Activation(name)))
    assert graph.nodes[-1].op == op


@pytest.mark.parametrize("name", ["softplus", "selu"])
def test_fused_activation_by_name(name):
    graph = check(keras.Sequential([keras.Input((7,)), layers.Dense(5, activation=name, name="dense")]))
    assert [(node.name, node.op) for node in graph.nodes] == [("dense", "linear"), ("dense_activation", name)]
