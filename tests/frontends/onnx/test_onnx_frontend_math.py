"""Element-wise math and LRN: captured graph == onnxruntime (Floor and Ceil of the inputs as they are, or times 4,
exactly), with both versions of LogSoftmax. onnxruntime runs LRN on 4-D inputs of odd sizes only; the other LRNs
are compared with ONNX's definition written out below."""
from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import helper

import interlayer
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, inputs_for, model, ops, single, tensor
from support import assert_equivalent

SHAPE = ("N", 4, 5, 6)


def positive_then(op_type: str):
    """Abs, Add 0.5, then ``op_type``: inputs where Log and Sqrt are defined."""
    nodes = [helper.make_node("Abs", ["x"], ["a"], name="abs"),
             helper.make_node("Add", ["a", "half"], ["b"], name="add"),
             helper.make_node(op_type, ["b"], ["y"], name=op_type.lower())]
    return model(nodes, [("x", SHAPE)], [("y", None)], [tensor("half", np.float32(0.5))])


def times_4_then(op_type: str):
    """Mul by 4, then ``op_type`` (Floor, Ceil): more integers crossed than by x alone, the product exact in float32
    and float64, so onnxruntime and the reference cannot land on two sides of an integer."""
    nodes = [helper.make_node("Mul", ["x", "four"], ["m"], name="mul"),
             helper.make_node(op_type, ["m"], ["y"], name=op_type.lower())]
    return model(nodes, [("x", SHAPE)], [("y", None)], [tensor("four", np.float32(4.0))])


CASES = [
    pytest.param(lambda: single("Exp", SHAPE), id="Exp"),
    pytest.param(lambda: positive_then("Log"), id="Abs-Add-Log"),
    pytest.param(lambda: positive_then("Sqrt"), id="Abs-Add-Sqrt"),
    pytest.param(lambda: positive_then("Reciprocal"), id="Abs-Add-Reciprocal"),
    pytest.param(lambda: single("Abs", SHAPE), id="Abs"),
    pytest.param(lambda: single("Neg", SHAPE), id="Neg"),
    pytest.param(lambda: single("Softplus", SHAPE), id="Softplus"),
    pytest.param(lambda: single("Selu", SHAPE), id="Selu-default"),
    pytest.param(lambda: single("LogSoftmax", ("N", 7), opset=11), id="LogSoftmax-opset11-2d"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=11, axis=1), id="LogSoftmax-opset11-coerced"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=11, axis=3), id="LogSoftmax-opset11-last"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=13, axis=1), id="LogSoftmax-opset13-axis1"),
    pytest.param(lambda: single("LogSoftmax", SHAPE, opset=13), id="LogSoftmax-opset13-default"),
    pytest.param(lambda: single("Sign", SHAPE, opset=11), id="Sign-9-opset11"),
    pytest.param(lambda: single("Sign", SHAPE), id="Sign-13-opset17"),
    pytest.param(lambda: single("Softsign", SHAPE), id="Softsign"),
    pytest.param(lambda: single("Shrink", SHAPE), id="Shrink-default"),
    pytest.param(lambda: single("Shrink", SHAPE, lambd=0.7, bias=0.7), id="Shrink-soft"),
    pytest.param(lambda: single("Shrink", SHAPE, lambd=1.2, bias=0.3), id="Shrink-bias"),
    pytest.param(lambda: single("Shrink", ("N", 7), lambd=0.0, bias=-0.25), id="Shrink-zero-lambd-2d"),
    pytest.param(lambda: single("Erf", SHAPE, opset=11), id="Erf-9-opset11"),
    pytest.param(lambda: single("Erf", SHAPE), id="Erf-13-opset17"),
    pytest.param(lambda: single("Floor", SHAPE, opset=11), id="Floor-6-opset11"),
    pytest.param(lambda: single("Floor", SHAPE), id="Floor-13-opset17"),
    pytest.param(lambda: times_4_then("Floor"), id="Mul-4-Floor"),
    pytest.param(lambda: single("Ceil", SHAPE, opset=11), id="Ceil-6-opset11"),
    pytest.param(lambda: single("Ceil", SHAPE), id="Ceil-13-opset17"),
    pytest.param(lambda: times_4_then("Ceil"), id="Mul-4-Ceil"),
    pytest.param(lambda: single("LRN", ("N", 7, 5, 6), size=5), id="LRN-size5-defaults"),
    pytest.param(lambda: single("LRN", ("N", 7, 5, 6), size=3, alpha=0.8, beta=0.6, bias=1.5), id="LRN-size3"),
    pytest.param(lambda: single("LRN", ("N", 4, 5, 6), size=7, alpha=0.5, beta=0.75, bias=2.0),
                 id="LRN-size7-wider-than-channels"),
]


@pytest.mark.parametrize("make", CASES)
def test_math_matches_onnxruntime(make):
    check(make())


def test_elementwise_ops_map_one_to_one():
    assert ops(check(positive_then("Log"))) == ["abs", "add", "log"]
    assert ops(check(single("Neg", SHAPE))) == ["neg"]
    assert check(single("Softplus", SHAPE)).nodes[0].attrs == {"threshold": None}


def test_log_softmax_versions_differ_on_a_4d_input():
    """Opset 11 normalises over every axis from 1 (coerced to 2-D), opset 13 over axis 1 only."""
    old = check(single("LogSoftmax", SHAPE, opset=11, axis=1))
    new = check(single("LogSoftmax", SHAPE, opset=13, axis=1))
    assert ops(old) == ["reshape", "log_softmax", "reshape"]
    assert ops(new) == ["log_softmax"] and new.nodes[0].attrs["axis"] == 1


def test_log_softmax_over_the_batch():
    graph = check(single("LogSoftmax", ("N", 7), opset=13, axis=0))
    assert [(node.op, node.attrs["axis"]) for node in graph.nodes] == [("log_softmax", 0)]


def test_selu_with_other_constants_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'selu' \(Selu\): the IR's selu has fixed constants"):
        capture(single("Selu", SHAPE, alpha=2.0))


def test_sign_softsign_and_shrink_map_one_to_one():
    assert ops(check(single("Sign", SHAPE))) == ["sign"]
    assert ops(check(single("Softsign", SHAPE))) == ["softsign"]
    assert check(single("Shrink", SHAPE)).nodes[0].attrs == {"lambd": 0.5, "bias": 0.0}
    assert check(single("Shrink", SHAPE, lambd=0.7, bias=0.2)).nodes[0].attrs == {"lambd": 0.7, "bias": 0.2}


@pytest.mark.parametrize("op_type, op", [("Erf", "erf"), ("Floor", "floor"), ("Ceil", "ceil")])
def test_erf_floor_and_ceil_map_one_to_one(op_type, op):
    assert [(n.name, n.op, n.attrs) for n in check(single(op_type, SHAPE)).nodes] == [(op_type.lower(), op, {})]


def test_shrink_with_a_negative_lambd_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'shrink' \(Shrink\): the IR's 'shrink' cannot express "
                                                    r"it: 'lambd' is a negative threshold"):
        capture(single("Shrink", SHAPE, lambd=-0.5))


@pytest.mark.parametrize("size, before", [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2), (6, 2)])
def test_lrn_window_starts_as_onnx_says(size, before):
    graph = capture(single("LRN", ("N", 7, 5, 6), size=size))
    assert ops(graph) == ["lrn"]
    assert graph.nodes[0].attrs == {"size": size, "alpha": 1e-4, "beta": 0.75, "bias": 1.0, "before": before}


def onnx_lrn(x: np.ndarray, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    """ONNX's LRN as its specification writes it: channel c sums the squares of channels max(0, c - floor((size -
    1) / 2)) to min(C - 1, c + ceil((size - 1) / 2)), in float64."""
    x = x.astype(np.float64)
    square_sum = np.zeros_like(x)
    for c in range(x.shape[1]):
        low, high = max(0, c - math.floor((size - 1) / 2)), min(x.shape[1] - 1, c + math.ceil((size - 1) / 2))
        square_sum[:, c] = (x[:, low:high + 1] ** 2).sum(axis=1)
    return x / (bias + alpha / size * square_sum) ** beta


@pytest.mark.parametrize("shape, size", [
    pytest.param(("N", 7, 5, 6), 4, id="4d-size4"),
    pytest.param(("N", 7, 5, 6), 2, id="4d-size2"),
    pytest.param(("N", 6, 9), 3, id="3d-size3"),
    pytest.param(("N", 6, 9), 4, id="3d-size4"),
    pytest.param(("N", 6, 3, 4, 2), 5, id="5d-size5"),
    pytest.param(("N", 6, 3, 4, 2), 6, id="5d-size6"),
])
def test_lrn_matches_onnx_definition(shape, size):
    """The sizes and ranks onnxruntime does not run: even sizes (one more channel after c than before it) and
    inputs of 1 or 3 spatial axes."""
    proto = single("LRN", shape, size=size, alpha=0.9, beta=0.75, bias=1.5)
    graph = capture(proto)
    feeds = inputs_for(proto)
    actual = list(interlayer.run(graph, [feeds["x"]]).values())[0]
    assert_equivalent(actual, onnx_lrn(feeds["x"], size, 0.9, 0.75, 1.5), rtol=1e-6, what=f"LRN size {size}")
