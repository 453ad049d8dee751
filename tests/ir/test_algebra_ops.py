"""The algebra op schemas and kernels: constant operands, broadcasting rules, several outputs, hand-computed."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from interlayer.errors import ValidationError
from interlayer.ir import Graph, Node, TensorSpec
from interlayer.ir.check import problems
from support import single_op_graph


def _run(graph, *inputs):
    return list(interlayer.run(graph, list(inputs)).values())


def constant_graph(op, value, input_shape=(1, 3), **flags):
    attrs = {"constant": True, "constant_shape": list(np.shape(value)), **flags}
    graph = single_op_graph(op, attrs, [input_shape])
    graph.nodes[0].weights = {"other": np.asarray(value, np.float32)}
    return graph


X = np.array([[1.0, 2.0, 4.0]], np.float32)

SEMANTICS = [
    pytest.param("sub", 1.0, {}, [[0.0, 1.0, 3.0]], id="sub-right"),
    pytest.param("sub", 1.0, {"constant_first": True}, [[0.0, -1.0, -3.0]], id="sub-left"),
    pytest.param("div", 2.0, {}, [[0.5, 1.0, 2.0]], id="div-right"),
    pytest.param("div", 2.0, {"constant_first": True}, [[2.0, 1.0, 0.5]], id="div-left"),
    pytest.param("pow", 2.0, {}, [[1.0, 4.0, 16.0]], id="pow-right"),
    pytest.param("pow", 2.0, {"constant_first": True}, [[2.0, 4.0, 16.0]], id="pow-left"),
    pytest.param("mul", [1.0, 0.0, -1.0], {}, [[1.0, 0.0, -4.0]], id="mul-vector"),
    pytest.param("add", [[10.0, 20.0, 30.0]], {}, [[11.0, 22.0, 34.0]], id="add-full-rank"),
]


@pytest.mark.parametrize("op, value, flags, expected", SEMANTICS)
def test_constant_operand_on_its_side(op, value, flags, expected):
    assert _run(constant_graph(op, value, **flags), X)[0].tolist() == expected


def test_split_outputs_in_order():
    graph = single_op_graph("split", {"axis": 1, "sizes": [1, 2]}, [(1, 3)])
    graph.nodes[0].outputs = ["a", "b"]
    graph.outputs = [TensorSpec("b", ("N", 2)), TensorSpec("a", ("N", 1))]
    assert [out.tolist() for out in _run(graph, X)] == [[[2.0, 4.0]], [[1.0]]]


def test_matmul_with_a_constant_on_the_left():
    graph = constant_graph("matmul", [[1.0, 1.0]], input_shape=(1, 2, 3), constant_first=True)
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    assert _run(graph, x)[0].tolist() == [[[3.0, 5.0, 7.0]]]


INVALID = [
    pytest.param("mul", {"constant": True, "constant_shape": [4]}, [(2, 3)], "do not broadcast",
                 id="constant-not-broadcasting"),
    pytest.param("mul", {}, [(2, 3, 4), (2, 5)], "do not broadcast", id="ranks-differ-not-broadcasting"),
    pytest.param("sub", {}, [(2, 3), (2, 3), (2, 3)], "it takes two inputs", id="sub-three"),
    pytest.param("add", {}, [(2, 3)], "takes two or more inputs", id="add-one"),
    pytest.param("mul", {"constant": True, "constant_shape": [3]}, [(2, 3), (2, 3)], "it takes one input",
                 id="constant-and-two-inputs"),
    pytest.param("sub", {"constant_first": True}, [(2, 3), (2, 3)], "'constant_first' needs a constant",
                 id="first-without-constant"),
    pytest.param("matmul", {}, [(2,), (2,)], "ranks >= 2", id="matmul-1d-inputs"),
    pytest.param("matmul", {}, [(2, 3, 4), (2, 3, 4)], "inner sizes differ", id="matmul-inner"),
    pytest.param("reduce_sum", {"axes": [-1]}, [(2, 3)], "axes' must be non-empty, sorted, unique and >= 0",
                 id="reduce-negative-axis"),
    pytest.param("reduce_sum", {"axes": [3]}, [(2, 3)], "axes must be < 2", id="reduce-past-rank"),
    pytest.param("split", {"axis": 1, "sizes": [1, 1]}, [(2, 3)], "add up to the axis length 3", id="split-sizes"),
    pytest.param("stack", {"axis": 1}, [(2, 3), (2, 4)], "equal shapes", id="stack-shapes"),
    pytest.param("prelu", {"num_parameters": 4}, [(2, 3, 5)], "4 slopes need 4 channels", id="prelu-channels"),
]


@pytest.mark.parametrize("op, attrs, shapes, message", INVALID)
def test_invalid_nodes_are_reported(op, attrs, shapes, message):
    with pytest.raises(ValidationError, match=message):
        graph = single_op_graph(op, attrs, shapes)
        interlayer.ir.check.validate(graph)


def test_weight_shape_follows_constant_shape():
    graph = single_op_graph("mul", {"constant": True, "constant_shape": [3, 1, 1]}, [(2, 3, 4, 4)])
    graph.nodes[0].weights["other"] = np.ones((3,), np.float32)
    assert any("weight 'other' must have shape (3, 1, 1)" in problem for problem in problems(graph))


def test_node_json_round_trip_keeps_constant_attributes():
    node = single_op_graph("sub", {"constant": True, "constant_shape": [], "constant_first": True}, [(2, 3)]).nodes[0]
    again = Node.from_json(node.to_json(), {"sub.other": node.weights["other"]})
    assert again.to_json() == node.to_json() and again.attrs["constant_shape"] == []
    graph = Graph([again], [TensorSpec("x0", ("N", 3))], [TensorSpec("sub", ("N", 3))])
    assert graph.shapes()["sub"] == ("N", 3)
