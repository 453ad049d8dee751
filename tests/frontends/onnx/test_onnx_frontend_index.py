"""Casts, comparisons and logic, indexing, scans, searches, triangles, einsum, ranges, Mod, Sin/Cos, ReduceMin, and
the nodes that no axis being special lets the IR express (a slice or reduction of the batch's axis, constants of
every axis, the product of two input matrices): captured graph == onnxruntime."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, single, tensor, value, weight

SHAPE = ("N", 4, 6, 5)
SEQ = ("N", 7, 6)


def ints(name, values):
    return tensor(name, np.asarray(values, np.int64))


def two(op_type: str, a, b, out_elem=None, opset: int = 17, **attrs):
    """``op_type`` of two graph inputs ``a`` and ``b`` given as (shape, elem)."""
    node = helper.make_node(op_type, ["a", "b"], ["y"], name=op_type.lower(), **attrs)
    return model([node], [value("a", *a), value("b", *b)], [value("y", None, out_elem or a[1])], opset=opset)


IDS = (("N", 7), TensorProto.INT64)
MASK = (("N", 7), TensorProto.BOOL)
FLOATS = (SEQ, TensorProto.FLOAT)

CASES = [
    pytest.param(lambda: model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT32)], [("x", SEQ)],
                               [value("y", None, TensorProto.INT32)]), id="Cast-float-to-int32"),
    pytest.param(lambda: model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
                               [value("x", *IDS)], [("y", None)]), id="Cast-ids-to-float"),
    pytest.param(lambda: model([helper.make_node("Greater", ["x", "c"], ["y"], name="greater")],
                               [("x", SEQ)], [value("y", None, TensorProto.BOOL)], [tensor("c", np.float32(0.0))]),
                 id="Greater-constant"),
    pytest.param(lambda: model([helper.make_node("Equal", ["c", "x"], ["y"], name="equal")],
                               [value("x", *IDS)], [value("y", None, TensorProto.BOOL)], [ints("c", 2)]),
                 id="Equal-integer-constant-first"),
    *[pytest.param(lambda op=op: two(op, FLOATS, FLOATS, TensorProto.BOOL), id=f"{op}-two-inputs")
      for op in ("Less", "LessOrEqual", "GreaterOrEqual")],
    *[pytest.param(lambda op=op: two(op, MASK, MASK), id=op) for op in ("And", "Or", "Xor")],
    pytest.param(lambda: model([helper.make_node("Not", ["x"], ["y"])], [value("x", *MASK)],
                               [value("y", None, TensorProto.BOOL)]), id="Not"),
    pytest.param(lambda: model([helper.make_node("Where", ["m", "a", "b"], ["y"], name="where")],
                               [value("m", *MASK), value("a", ("N", 7)), value("b", ("N", 7))], [("y", None)]),
                 id="Where-two-tensors"),
    pytest.param(lambda: model([helper.make_node("Gather", ["x", "i"], ["y"], name="gather", axis=1)],
                               [("x", SEQ), value("i", ("N", 3), TensorProto.INT64)], [("y", None)]),
                 id="Gather-computed-indices"),
    pytest.param(lambda: single("Gather", SEQ, extra_inputs=["i"], initializers=[ints("i", [4, 0, -1])], axis=2),
                 id="Gather-constant-indices-not-a-run"),
    pytest.param(lambda: model([helper.make_node("Gather", ["t", "i"], ["y"], name="gather", axis=1)],
                               [value("i", IDS[0], TensorProto.INT64)], [("y", None)], [tensor("t", weight((3, 4)))]),
                 id="Gather-constant-table-axis-1"),
    pytest.param(lambda: model([helper.make_node("GatherElements", ["x", "i"], ["y"], name="gather", axis=2)],
                               [("x", SEQ), value("i", ("N", 7, 2), TensorProto.INT64)], [("y", None)]),
                 id="GatherElements"),
    pytest.param(lambda: single("CumSum", SEQ, extra_inputs=["axis"], initializers=[ints("axis", 1)]),
                 id="CumSum"),
    pytest.param(lambda: single("CumSum", SEQ, extra_inputs=["axis"], initializers=[ints("axis", -1)], exclusive=1,
                                reverse=1), id="CumSum-exclusive-reverse"),
    pytest.param(lambda: model([helper.make_node("ArgMax", ["x"], ["y"], axis=2)], [("x", SEQ)],
                               [value("y", None, TensorProto.INT64)]), id="ArgMax"),
    pytest.param(lambda: model([helper.make_node("ArgMin", ["x"], ["y"], axis=1, keepdims=0)], [("x", SEQ)],
                               [value("y", None, TensorProto.INT64)]), id="ArgMin"),
    pytest.param(lambda: single("Trilu", SEQ, extra_inputs=["k"], initializers=[ints("k", 1)], upper=1),
                 id="Trilu-upper-above"),
    pytest.param(lambda: single("Trilu", SEQ, upper=0), id="Trilu-lower"),
    pytest.param(lambda: two("Einsum", (("N", 3, 4), TensorProto.FLOAT), (("N", 5, 4), TensorProto.FLOAT),
                             equation="bij,bkj->bik"), id="Einsum"),
    pytest.param(lambda: two("Einsum", (("N", 3), TensorProto.FLOAT), (("N", 3), TensorProto.FLOAT),
                             equation="ij,ij"), id="Einsum-implicit-output"),
    pytest.param(lambda: single("Mod", SEQ, extra_inputs=["d"], initializers=[tensor("d", np.float32(0.7))], fmod=1),
                 id="Mod-fmod"),
    pytest.param(lambda: model([helper.make_node("Mod", ["x", "d"], ["y"], name="mod")], [value("x", *IDS)],
                               [value("y", None, TensorProto.INT64)], [ints("d", -3)]), id="Mod-integers"),
    pytest.param(lambda: single("Sin", SEQ), id="Sin"),
    pytest.param(lambda: single("Cos", SEQ), id="Cos"),
    pytest.param(lambda: single("ReduceMin", SHAPE, opset=13, axes=[2, 3]), id="ReduceMin"),
    pytest.param(lambda: single("ReduceMin", SHAPE, extra_inputs=["a"], initializers=[ints("a", [1])], opset=18,
                                keepdims=0), id="ReduceMin-opset18"),
    pytest.param(lambda: single("ReduceSum", SHAPE, opset=13, keepdims=0), id="ReduceSum-every-axis"),
    pytest.param(lambda: single("Slice", SEQ, extra_inputs=["s", "e", "a"],
                                initializers=[ints("s", [1]), ints("e", [2 ** 63 - 1]), ints("a", [0])]),
                 id="Slice-batch-axis"),
    pytest.param(lambda: single("Slice", SEQ, extra_inputs=["s", "e", "a", "t"],
                                initializers=[ints("s", [0]), ints("e", [7]), ints("a", [1]), ints("t", [2])]),
                 id="Slice-step"),
    pytest.param(lambda: single("Slice", ("N", "T", 6), extra_inputs=["s", "e", "a"],
                                initializers=[ints("s", [-2]), ints("e", [2 ** 63 - 1]), ints("a", [1])]),
                 id="Slice-symbolic-axis"),
    pytest.param(lambda: single("Expand", ("N", 1, 6), extra_inputs=["s"], initializers=[ints("s", [2, 1, 4, 6])]),
                 id="Expand-new-axes"),
    pytest.param(lambda: single("Pad", ("N", 6), extra_inputs=["p"], initializers=[ints("p", [0, 1, 0, 2])]),
                 id="Pad-features"),
]


@pytest.mark.parametrize("make", CASES)
def test_op_matches_onnxruntime(make):
    check(make(), varies=False)


def test_cast_and_comparison_keep_their_ir_ops():
    nodes = [helper.make_node("Less", ["x", "zero"], ["below"], name="less"),
             helper.make_node("Cast", ["below"], ["y"], name="cast", to=TensorProto.FLOAT)]
    graph = check(model(nodes, [("x", SEQ)], [("y", None)], [tensor("zero", np.float32(0.0))]))
    assert [(node.op, node.attrs.get("dtype")) for node in graph.nodes] == [("less", None), ("cast", "float32")]


def test_gather_of_computed_indices_is_the_ir_gather():
    node = helper.make_node("Gather", ["x", "i"], ["y"], name="gather", axis=1)
    graph = check(model([node], [("x", SEQ), value("i", ("N", 3), TensorProto.INT64)], [("y", None)]), varies=False)
    assert ops(graph) == ["gather"]


def test_integer_division_truncates_toward_zero():
    node = helper.make_node("Div", ["x", "d"], ["y"], name="div")
    proto = model([node], [value("x", *IDS)], [value("y", None, TensorProto.INT64)], [ints("d", -3)])
    graph = check(proto, varies=False)
    assert ops(graph) == ["div", "cast"]


def test_range_up_to_the_batch_is_an_arange_of_it():
    nodes = [helper.make_node("Shape", ["x"], ["shape"], start=0, end=1),
             helper.make_node("Squeeze", ["shape", "zero"], ["count"]),
             helper.make_node("Range", ["start", "count", "step"], ["positions"], name="range"),
             helper.make_node("Cast", ["positions"], ["y"], name="cast", to=TensorProto.FLOAT)]
    initializers = [ints("zero", [0]), ints("start", 0), ints("step", 1)]
    graph = check(model(nodes, [("x", SEQ)], [("y", None)], initializers), batches=(2, 5), varies=False)
    arange = graph.nodes[0]
    assert (arange.op, arange.attrs["limit"]) == ("arange", "N")


def test_zeros_of_the_batch_shape_selected_against_are_a_full():
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("ConstantOfShape", ["shape"], ["zeros"]),
             helper.make_node("Greater", ["x", "zeros"], ["positive"]),
             helper.make_node("Where", ["positive", "zeros", "x"], ["y"], name="where")]
    graph = check(model(nodes, [("x", SEQ)], [("y", None)]))
    assert "full" in ops(graph) and "select" in ops(graph)


def test_the_product_of_two_input_matrices_is_a_matmul():
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], name="gemm", alpha=2.0, beta=0.5, transB=1)
    proto = model([node], [("a", (2, 3)), ("b", (4, 3)), ("c", (4,))], [("y", None)])
    graph = check(proto, varies=False)
    assert graph.inputs[1].shape == (4, 3) and graph.inputs[2].shape == (4,)  # not batches: the sizes differ
    assert ops(graph) == ["transpose", "matmul", "mul", "mul", "add"]


def test_a_concat_along_the_batch_axis_joins_the_constant_as_it_is():
    node = helper.make_node("Concat", ["c", "x"], ["y"], name="concat", axis=0)
    proto = model([node], [("x", ("N", 6))], [("y", None)], [tensor("c", weight((1, 6)))])
    graph = check(proto, batches=(1, 3))
    assert ops(graph) == ["constant", "concat"]
    assert graph.outputs[0].shape == ("N + 1", 6)


def test_a_split_of_the_batch_axis_by_given_sizes():
    node = helper.make_node("Split", ["x", "sizes"], ["a", "b"], name="split", axis=0)
    proto = model([node], [("x", (5, 6))], [("a", None), ("b", None)], [ints("sizes", [2, 3])])
    check(proto, batches=(5,))


def test_argmax_keeping_the_last_of_equal_values_is_refused():
    proto = model([helper.make_node("ArgMax", ["x"], ["y"], name="argmax", axis=1, select_last_index=1)],
                  [("x", SEQ)], [value("y", None, TensorProto.INT64)])
    with pytest.raises(UnsupportedLayerError, match=r"node 'argmax' \(ArgMax\): the IR's argmax and argmin give "
                                                    r"the first of equal values"):
        capture(proto)


def test_einsum_with_an_ellipsis_is_refused():
    proto = two("Einsum", ((2, 3), TensorProto.FLOAT), ((2, 3), TensorProto.FLOAT), equation="...j,...j->...")
    with pytest.raises(UnsupportedLayerError, match="Expected no ellipsis"):
        capture(proto)
