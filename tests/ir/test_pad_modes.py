"""The pad op's modes: hand-computed values of each mode, and the rules the schema checks once for every converter
(non-constant modes cannot crop or take a fill value; reflect reaches less than the axis size, wrap at most it)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import interlayer
from interlayer.errors import ValidationError
from interlayer.ir import Graph, Node, TensorSpec
from interlayer.ir.check import problems, validate
from support import single_op_graph

ROW = np.array([[[1.0, 2.0, 3.0, 4.0]]], np.float32)


def pad_graph(attrs: dict, shape=("N", 1, 4)) -> Graph:
    """One pad node over an input of ``shape``, unvalidated."""
    node = Node("pad", "pad", ["x"], ["pad"], attrs)
    return Graph([node], [TensorSpec("x", tuple(shape))], [TensorSpec("pad", ())], name="pad")


@pytest.mark.parametrize("mode, pads, expected", [
    pytest.param("constant", [2, 1], [0, 0, 1, 2, 3, 4, 0], id="constant"),
    pytest.param("reflect", [2, 1], [3, 2, 1, 2, 3, 4, 3], id="reflect"),
    pytest.param("reflect", [3, 3], [4, 3, 2, 1, 2, 3, 4, 3, 2, 1], id="reflect-size-minus-1"),
    pytest.param("edge", [2, 1], [1, 1, 1, 2, 3, 4, 4], id="edge"),
    pytest.param("edge", [6, 0], [1, 1, 1, 1, 1, 1, 1, 2, 3, 4], id="edge-beyond-size"),
    pytest.param("wrap", [2, 1], [3, 4, 1, 2, 3, 4, 1], id="wrap"),
    pytest.param("wrap", [4, 0], [1, 2, 3, 4, 1, 2, 3, 4], id="wrap-size"),
])
def test_mode_values(mode, pads, expected):
    graph = single_op_graph("pad", {"pads": pads, "mode": mode}, [(1, 1, 4)])
    assert list(interlayer.run(graph, [ROW]).values())[0].ravel().tolist() == expected


def test_modes_pad_axes_independently_in_2d():
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    graph = single_op_graph("pad", {"pads": [1, 1, 0, 1], "mode": "wrap"}, [x.shape])
    out = list(interlayer.run(graph, [x]).values())[0]
    assert out[0, 0].tolist() == [[5, 3, 4, 5, 3], [2, 0, 1, 2, 0], [5, 3, 4, 5, 3]]


@pytest.mark.parametrize("attrs, shape, message", [
    pytest.param({"pads": [-1, 2], "mode": "reflect"}, ("N", 1, 4),
                 r"'reflect' padding cannot crop. Expected pads >= 0 .*Received: pads=\[-1, 2\]", id="reflect-crop"),
    pytest.param({"pads": [0, -1], "mode": "wrap"}, ("N", 1, 4), r"'wrap' padding cannot crop", id="wrap-crop"),
    pytest.param({"pads": [1, 1], "mode": "edge", "value": 2.0}, ("N", 1, 4),
                 r"'value' fills 'constant' padding only. Expected value=0.0 with mode='edge'. Received: value=2.0",
                 id="edge-value"),
    pytest.param({"pads": [4, 0], "mode": "reflect"}, ("N", 1, 4),
                 r"'reflect' padding copies the input's own values, so each pad must be < size of its axis. "
                 r"Expected pads < size on axes \[2\]. Received: pads=\[4, 0\], input shape=\('N', 1, 4\)",
                 id="reflect-size"),
    pytest.param({"pads": [0, 1, 0, 5], "mode": "wrap"}, ("N", 1, 3, 4),
                 r"each pad must be <= size of its axis. Expected pads <= size on axes \[3\]", id="wrap-beyond-size"),
    pytest.param({"pads": [1, 1], "mode": "symmetric"}, ("N", 1, 4),
                 r"attribute 'mode' must be one of \['constant', 'reflect', 'edge', 'wrap'\]. "
                 r"Received: mode='symmetric'", id="unknown-mode"),
])
def test_schema_refuses(attrs, shape, message):
    with pytest.raises(ValidationError, match=message):
        validate(pad_graph(attrs, shape))


@pytest.mark.parametrize("attrs", [
    pytest.param({"pads": [-1, 2]}, id="constant-crop"),
    pytest.param({"pads": [3, 3], "mode": "reflect"}, id="reflect-size-minus-1"),
    pytest.param({"pads": [4, 4], "mode": "wrap"}, id="wrap-size"),
    pytest.param({"pads": [9, 9], "mode": "edge"}, id="edge-any"),
])
def test_schema_accepts(attrs):
    assert problems(pad_graph(attrs)) == []


def test_reflect_past_a_symbolic_size_is_refused_when_run():
    graph = pad_graph({"pads": [2, 2], "mode": "reflect"}, ("N", 1, "T"))
    validate(graph)  # the size is not known until the graph runs
    assert list(interlayer.run(graph, [ROW]).values())[0].ravel().tolist() == [3, 2, 1, 2, 3, 4, 3, 2]
    with pytest.raises(ValidationError, match=r"each pad must be < size of its axis.*input shape=\(1, 1, 2\)"):
        interlayer.run(graph, [ROW[..., :2]])


def test_mode_survives_json_and_older_json_means_constant():
    graph = single_op_graph("pad", {"pads": [1, 2], "mode": "edge"}, [(1, 1, 4)])
    again = Graph.from_json(json.loads(graph.dumps()))
    assert again.nodes[0].attrs == {"pads": [1, 2], "value": 0.0, "mode": "edge"}
    older = json.loads(graph.dumps())
    del older["nodes"][0]["attrs"]["mode"]
    del older["nodes"][0]["attrs"]["value"]
    assert list(interlayer.run(Graph.from_json(older), [ROW]).values())[0].ravel().tolist() == [0, 1, 2, 3, 4, 0, 0]
