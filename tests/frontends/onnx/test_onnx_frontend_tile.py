"""Tile: captured graph == onnxruntime for several batch sizes, its repeats a constant (an initializer, a Constant
node, or folded from constants); a repeated batch and computed repeats refused."""
from __future__ import annotations

import io

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, tensor, value, weight

MAP = ("N", 3, 4, 5)


def tile(repeats, shape=MAP, opset: int = 17):
    """Tile of the graph input x by the initializer repeats."""
    node = helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile")
    return model([node], [("x", shape)], [("y", None)], [tensor("repeats", np.array(repeats, np.int64))], opset)


CASES = [
    pytest.param(lambda: tile([1, 2, 1, 3]), [1, 2, 1, 3], id="channels-width"),
    pytest.param(lambda: tile([1, 1, 3, 2], opset=11), [1, 1, 3, 2], id="spatial-opset11"),
    pytest.param(lambda: tile([1, 1, 1, 1]), [1, 1, 1, 1], id="ones"),
    pytest.param(lambda: tile([1, 3], ("N", 6)), [1, 3], id="features"),
    pytest.param(lambda: tile([1, 2, 2], ("N", 3, 7)), [1, 2, 2], id="1d"),
    pytest.param(lambda: tile([1, 2, 1, 3, 2], ("N", 2, 3, 4, 2)), [1, 2, 1, 3, 2], id="3d"),
]


@pytest.mark.parametrize("make, repeats", CASES)
def test_tile_matches_onnxruntime(make, repeats):
    graph = check(make(), batches=(2, 3))
    assert [(node.name, node.op, node.attrs) for node in graph.nodes] == [("tile", "tile", {"repeats": repeats})]


def test_repeats_from_a_constant_node_and_folded_constants():
    """Constant -> Concat with an initializer: folded before the Tile reads it."""
    nodes = [helper.make_node("Constant", [], ["head"], value=tensor("head", np.array([1, 2], np.int64))),
             helper.make_node("Concat", ["head", "tail"], ["repeats"], name="concat", axis=0),
             helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile")]
    proto = model(nodes, [("x", MAP)], [("y", None)], [tensor("tail", np.array([3, 1], np.int64))])
    graph = check(proto)
    assert [(node.op, node.attrs) for node in graph.nodes] == [("tile", {"repeats": [1, 2, 3, 1]})]


def test_tile_between_convolutions():
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name="conv1"),
             helper.make_node("Tile", ["a", "repeats"], ["b"], name="tile"),
             helper.make_node("Conv", ["b", "w2"], ["y"], name="conv2")]
    initializers = [tensor("w1", weight((4, 3, 3, 3))), tensor("repeats", np.array([1, 2, 1, 3], np.int64)),
                    tensor("w2", weight((2, 8, 3, 3), seed=1))]
    proto = model(nodes, [("x", ("N", 3, 7, 6))], [("y", None)], initializers)
    assert ops(check(proto)) == ["conv", "tile", "conv"]


def test_symbolic_length_repeated_is_a_size_expression():
    graph = check(tile([1, 2, 1], ("N", "T", 6)))
    assert graph.shapes()["tile"] == ("N", "2*T", 6)
    assert graph.outputs[0].shape == ("N", "2*T", 6)


def test_repeat_exported_by_torch_onnx():
    class Repeat(torch.nn.Module):
        def forward(self, x):
            return x.repeat(1, 2, 1, 3)

    buffer = io.BytesIO()
    torch.onnx.export(Repeat(), (torch.randn(2, 3, 4, 5),), buffer, dynamo=False, opset_version=17,
                      input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    graph = check(onnx.load_from_string(buffer.getvalue()), batches=(1, 3))
    assert [(node.op, node.attrs) for node in graph.nodes] == [("tile", {"repeats": [1, 2, 1, 3]})]


def test_a_repeated_batch_is_a_tile_of_axis_0():
    graph = check(tile([2, 1, 1, 1]), batches=(1, 3))
    assert [(node.op, node.attrs) for node in graph.nodes] == [("tile", {"repeats": [2, 1, 1, 1]})]
    assert graph.outputs[0].shape == ("2*N", *MAP[1:])


def test_repeats_given_as_a_graph_input_are_refused():
    node = helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile")
    proto = model([node], [("x", MAP), value("repeats", [4], TensorProto.INT64)], [("y", None)])
    with pytest.raises(UnsupportedLayerError, match=r"node 'tile' \(Tile\): the repeats \(input 1\) must be a "
                                                    r"constant"):
        capture(proto)
