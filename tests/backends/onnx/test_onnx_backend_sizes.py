"""The ONNX backend's run-time sizes (size expressions computed from the inputs' shapes, Python's floor division and
modulo on negative values too), numpy's // and % on floats and integers, and dtypes kept end to end."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import interlayer
from interlayer.backends.onnx import predict
from interlayer.ir.builder import GraphBuilder

EXPRESSIONS = ["T", "N*T", "(T - 7)//3", "(T - 7) % 3", "max(T, 4) - min(N, 2)", "-T + 2*N", "(N*T + 1)//(T + 2)",
               "(3 - T) % (N + 1)"]


def _graph(inputs, steps, outputs):
    builder = GraphBuilder("g", "test", "0")
    for name, shape, dtype in inputs:
        builder.input(name, shape, dtype)
    for name, op, sources, attrs, *weights in steps:
        builder.add_node(op, sources, attrs, *(weights or [None]), name=name)
    for name in outputs:
        builder.output(name)
    graph = builder.finish()
    graph.source = {}
    return graph


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_a_size_expression_is_computed_at_run_time(expression):
    """arange(e, e + 1) holds the value of e, negative ones included (a floor division of a negative number
    rounds down, a modulo has the divisor's sign, as in Python)."""
    graph = _graph([("x", ("N", "T"), "float32")],
                   [("value", "arange", [], {"start": expression, "limit": f"{expression} + 1"})], ["value"])
    model = interlayer.build(graph, "onnx")
    assert [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim] == ["N", "T"]
    for n, t in [(1, 1), (2, 5), (3, 11), (4, 2)]:
        x = np.zeros((n, t), np.float32)
        expected = interlayer.run(graph, [x])["value"]
        np.testing.assert_array_equal(predict(model, [x])[0], expected, err_msg=f"{expression} at N={n}, T={t}")


def test_sizes_are_read_once_and_shared():
    graph = _graph([("x", ("N", "T", 6), "float32")],
                   [("rows", "reshape", ["x"], {"shape": ["N*T", 6]}),
                    ("back", "reshape", ["rows"], {"shape": ["N", "T", 6]}),
                    ("ones", "full", [], {"shape": ["N", "T", 1], "value": 1.0}),
                    ("out", "add", ["back", "ones"], {})], ["out"])
    model = interlayer.build(graph, "onnx")
    shapes = [node for node in model.graph.node if node.op_type == "Shape"]
    assert len(shapes) == len({(tuple(node.input), tuple(a.i for a in node.attribute)) for node in shapes})
    x = np.random.default_rng(0).standard_normal((3, 4, 6)).astype(np.float32)
    np.testing.assert_allclose(predict(model, [x])[0], x + 1, rtol=1e-6)


def _division_graph(dtype: str):
    inputs = [("a", ("N", 8), dtype), ("b", ("N", 8), dtype)]
    steps = [("quotient", "floor_div", ["a", "b"], {}), ("remainder", "mod", ["a", "b"], {})]
    return _graph(inputs, steps, ["quotient", "remainder"])


def test_float_floor_division_and_modulo_are_numpy_s():
    a = np.array([[1.0, -7.5, 7.5, -7.5, 5.0, 0.0, 3.0, -3.0], [1e7, -1e-3, 2.0, 6.0, 1.0, -1.0, 0.3, 0.7]],
                 np.float32)
    b = np.array([[0.1, 2.0, -2.0, -2.0, 0.0, 3.0, 0.1, 0.1], [3.0, 1.0, 0.5, 3.0, -0.0, 0.0, 0.1, -0.1]],
                 np.float32)
    model = interlayer.build(_division_graph("float32"), "onnx")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = [np.floor_divide(a, b), np.mod(a, b)]
    for got, want in zip(predict(model, [a, b]), expected):
        np.testing.assert_array_equal(got, want)


def test_integer_floor_division_and_modulo_are_python_s():
    rng = np.random.default_rng(0)
    a = rng.integers(-20, 20, (3, 8)).astype(np.int64)
    b = rng.choice([-7, -3, -1, 1, 2, 5], (3, 8)).astype(np.int64)
    model = interlayer.build(_division_graph("int64"), "onnx")
    quotient, remainder = predict(model, [a, b])
    assert quotient.dtype == remainder.dtype == np.int64
    np.testing.assert_array_equal(quotient, a // b)
    np.testing.assert_array_equal(remainder, a % b)


def test_integer_and_boolean_inputs_and_outputs_keep_their_dtypes():
    graph = _graph([("ids", ("N", "T"), "int32"), ("keep", ("N", "T"), "bool")],
                   [("kept", "select", ["keep", "ids", "ids"], {}),
                    ("positive", "greater", ["kept"], {"constant": True}, {"other": np.int32(1)}),
                    ("both", "logical_and", ["positive", "keep"], {}),
                    ("count", "cumsum", ["both"], {"axis": 1})], ["kept", "both", "count"])
    model = interlayer.build(graph, "onnx")
    types = [value.type.tensor_type.elem_type for value in model.graph.output]
    assert types == [onnx.TensorProto.INT32, onnx.TensorProto.BOOL, onnx.TensorProto.INT64]
    rng = np.random.default_rng(1)
    ids, keep = rng.integers(0, 4, (2, 5)).astype(np.int32), rng.random((2, 5)) < 0.5
    for got, want in zip(predict(model, [ids, keep]), interlayer.run(graph, [ids, keep]).values()):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
