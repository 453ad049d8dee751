"""Add, Sub, Mul, Div, Pow (an initializer operand is the op's constant ``other``), Sum, Max, Min, reductions and Where:
captured graph == onnxruntime, in both opset forms where they differ."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from interlayer import run
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, onnxruntime_outputs, ops, single, tensor, value, weight

SHAPE = ("N", 4, 5, 6)


def with_constant(op_type: str, constant: np.ndarray, first: bool = False, opset: int = 17, **attrs):
    inputs = ["c", "x"] if first else ["x", "c"]
    node = helper.make_node(op_type, inputs, ["y"], name=op_type.lower(), **attrs)
    return model([node], [("x", SHAPE)], [("y", None)], [tensor("c", constant)], opset)


def two_inputs(op_type: str, other=SHAPE, count: int = 2):
    names = ["x", "z", "w"][:count]
    node = helper.make_node(op_type, names, ["y"], name=op_type.lower())
    return model([node], [("x", SHAPE)] + [(n, other) for n in names[1:]], [("y", None)])


PER_CHANNEL = weight((4, 1, 1), 1)
CASES = [
    pytest.param(lambda: with_constant("Add", PER_CHANNEL), id="Add-channel"),
    pytest.param(lambda: with_constant("Add", weight((6,), 1), first=True), id="Add-last-axis-first"),
    pytest.param(lambda: with_constant("Sub", np.float32(0.5)), id="Sub-scalar"),
    pytest.param(lambda: with_constant("Sub", PER_CHANNEL, first=True), id="Sub-constant-first"),
    pytest.param(lambda: with_constant("Mul", weight((1, 4, 5, 6), 1)), id="Mul-full"),
    pytest.param(lambda: with_constant("Div", np.abs(PER_CHANNEL) + 1), id="Div"),
    pytest.param(lambda: with_constant("Div", np.float32(2.0), first=True), id="Div-constant-first"),
    pytest.param(lambda: with_constant("Pow", np.float32(2.0)), id="Pow-square"),
    pytest.param(lambda: with_constant("Pow", np.int64(3)), id="Pow-integer-exponent"),
    pytest.param(lambda: two_inputs("Add"), id="Add-two"),
    pytest.param(lambda: two_inputs("Mul", ("N", 4, 1, 1)), id="Mul-two-broadcast"),
    pytest.param(lambda: two_inputs("Sub"), id="Sub-two"),
    pytest.param(lambda: two_inputs("Sum", count=3), id="Sum-three"),
    pytest.param(lambda: two_inputs("Max"), id="Max"),
    pytest.param(lambda: two_inputs("Min", count=3), id="Min-three"),
    pytest.param(lambda: single("ReduceMean", SHAPE, opset=13, axes=[2, 3]), id="ReduceMean-opset13-attribute"),
    pytest.param(lambda: single("ReduceMean", SHAPE, opset=18, keepdims=0, extra_inputs=["a"],
                                initializers=[tensor("a", np.array([-1], np.int64))]), id="ReduceMean-opset18-input"),
    pytest.param(lambda: single("ReduceSum", SHAPE, opset=11, axes=[1]), id="ReduceSum-opset11-attribute"),
    pytest.param(lambda: single("ReduceSum", SHAPE, opset=13, keepdims=0, extra_inputs=["a"],
                                initializers=[tensor("a", np.array([1, 3], np.int64))]), id="ReduceSum-opset13-input"),
    pytest.param(lambda: single("ReduceMax", SHAPE, opset=13, axes=[-1]), id="ReduceMax-opset13"),
    pytest.param(lambda: single("ReduceMax", SHAPE, opset=18, extra_inputs=["a"],
                                initializers=[tensor("a", np.array([2], np.int64))]), id="ReduceMax-opset18"),
]


@pytest.mark.parametrize("make", CASES)
def test_algebra_matches_onnxruntime(make):
    check(make())


@pytest.mark.parametrize("attrs, aligned", [({"axis": 1}, (4, 1, 1)), ({}, (1, 1, 4))], ids=["axis1", "trailing"])
def test_opset6_broadcast_aligns_the_constant_at_axis(attrs, aligned):
    """onnxruntime no longer runs opset 6 arithmetic: numpy says what broadcast=1 means."""
    shape = ("N", 4, 5, 4)
    constant = weight((4,), 1)
    node = helper.make_node("Add", ["x", "c"], ["y"], name="add", broadcast=1, **attrs)
    graph = capture(model([node], [("x", shape)], [("y", None)], [tensor("c", constant)], opset=6))
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(list(run(graph, [x]).values())[0], x + constant.reshape(aligned), rtol=1e-6)


def test_an_initializer_operand_is_the_constant_other():
    graph = check(with_constant("Sub", PER_CHANNEL, first=True))
    node = graph.nodes[0]
    assert (node.op, node.attrs["constant"], node.attrs["constant_first"]) == ("sub", True, True)
    np.testing.assert_array_equal(node.weights["other"], PER_CHANNEL)
    assert graph.source["name_map"] == {"c": "sub.other"}


def test_leading_unit_axes_of_a_constant_are_dropped():
    graph = check(with_constant("Mul", weight((1, 4, 5, 6), 1)))
    assert graph.nodes[0].attrs["constant_shape"] == [4, 5, 6]


def test_where_is_a_masked_fill():
    nodes = [helper.make_node("Where", ["mask", "fill", "x"], ["y"], name="where")]
    proto = model(nodes, [("x", ("N", 4)), value("mask", ("N", 4), TensorProto.BOOL)], [("y", None)],
                  [tensor("fill", np.float32(-1.0))])
    feeds = {"x": np.arange(8, dtype=np.float32).reshape(2, 4), "mask": np.array([[1, 0, 0, 1], [0, 1, 0, 0]], bool)}
    graph = capture(proto)
    actual = list(run(graph, [feeds[spec.name] for spec in graph.inputs]).values())[0]
    np.testing.assert_array_equal(actual, onnxruntime_outputs(proto, feeds)[0])
    assert ops(graph) == ["where"]


def test_a_constant_broadcasting_over_the_batch_is_a_constant_of_every_axis():
    """No axis is special: a constant with the batch's size on axis 0 (a file made for one batch size) is the
    op's constant as it is."""
    graph = check(with_constant("Add", weight((2, 4, 5, 6), 1)), batches=(2,))
    assert graph.nodes[0].attrs["constant_shape"] == [2, 4, 5, 6]


def test_a_reduction_over_the_batch():
    graph = check(single("ReduceMean", SHAPE, opset=13, axes=[0, 1]))
    assert [(node.op, node.attrs["axes"]) for node in graph.nodes] == [("reduce_mean", [0, 1])]


def test_operands_of_different_ranks_broadcast_as_numpy_does():
    """numpy aligns the lower-rank operand at the right: its axis 0 meets axis 2 of the other."""
    graph = check(two_inputs("Add", ("N", 6)), batches=(1, 5))
    assert ops(graph) == ["add"]


