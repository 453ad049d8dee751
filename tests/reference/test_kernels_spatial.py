"""The reference kernels of conv_transpose, resize, group_norm and layer_norm on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from interlayer.errors import ValidationError
from interlayer.ir import Graph, Node, TensorSpec, ops
from interlayer.ir.check import validate
from support import random_weights, single_op_graph


def _run(graph, x, **weights):
    graph.nodes[0].weights = {name: np.asarray(value, np.float32) for name, value in weights.items()}
    return list(interlayer.run(graph, [np.asarray(x, np.float32)]).values())[0]


def transpose(**attrs):
    return {"in_channels": 1, "out_channels": 1, "kernel_size": [2], **attrs}


@pytest.mark.parametrize("attrs, expected", [
    # x[i] * w[k] lands at i * stride + k * dilation
    (transpose(strides=[2]), [1.5, 10.5, 2.5, 20.5]),
    (transpose(dilations=[2]), [1.5, 2.5, 10.5, 20.5]),
    # output_padding appends a zero at the end (which gets the bias too), then pads crop 1 at the begin
    (transpose(strides=[2], pads=[1, 0], output_padding=[1]), [10.5, 2.5, 20.5, 0.5]),
    (transpose(strides=[2], pads=[0, 2]), [1.5, 10.5]),
], ids=["stride", "dilation", "output_padding-and-pads", "end-pads"])
def test_conv_transpose_scatters_each_input(attrs, expected):
    graph = single_op_graph("conv_transpose", attrs, [(1, 1, 2)])
    out = _run(graph, [[[1.0, 2.0]]], weight=[[[1.0, 10.0]]], bias=[0.5])
    np.testing.assert_allclose(out[0, 0], expected)


def test_conv_transpose_groups_use_their_own_channels():
    graph = single_op_graph("conv_transpose", {"in_channels": 2, "out_channels": 2, "kernel_size": [1], "groups": 2,
                                               "bias": False}, [(1, 2, 1)])
    out = _run(graph, [[[1.0], [2.0]]], weight=[[[3.0]], [[5.0]]])
    np.testing.assert_allclose(out[0, :, 0], [3.0, 10.0])


def resize(sizes, mode="nearest", coordinate_mode="asymmetric", **extra):
    return {"sizes": sizes, "mode": mode, "coordinate_mode": coordinate_mode, **extra}


@pytest.mark.parametrize("attrs, x, expected", [
    (resize([5]), [1.0, 2.0], [1, 1, 1, 2, 2]),  # floor(o * 2 / 5)
    (resize([3], scales=[1.3]), [1.0, 2.0, 3.0], [1, 1, 2]),  # floor(o / 1.3): the scale, not the sizes
    (resize([3], "linear", "align_corners"), [1.0, 3.0], [1, 2, 3]),
    (resize([4], "linear", "half_pixel"), [1.0, 3.0], [1, 1.5, 2.5, 3]),  # x = -0.25 (clamped), 0.25, 0.75, 1.25
    (resize([2], "linear", "half_pixel"), [1.0, 2.0, 3.0, 5.0], [1.5, 4.0]),  # down: x = 0.5, 2.5
    (resize([1], "linear", "align_corners"), [4.0, 7.0], [4]),
    (resize([3], "linear", "asymmetric"), [1.0, 3.0], [1, 7 / 3, 3]),  # x = 0, 2/3, 4/3 (clamped to the end)
], ids=["nearest", "nearest-scales", "align_corners", "half_pixel-up", "half_pixel-down", "align_corners-to-1",
        "asymmetric-linear"])
def test_resize_coordinates(attrs, x, expected):
    graph = single_op_graph("resize", attrs, [(1, 1, len(x))])
    np.testing.assert_allclose(_run(graph, [[x]])[0, 0], expected, rtol=1e-6)


def test_resize_nearest_computes_in_float32_like_pytorch():
    # 41 * (2 / 82) is 1 exactly, but float32(2 / 82) * 41 rounds below 1: PyTorch reads input 0
    graph = single_op_graph("resize", resize([82]), [(1, 1, 2)])
    out = _run(graph, [[[1.0, 2.0]]])
    assert out[0, 0, 41] == 1.0 and out[0, 0, 42] == 2.0


def test_group_norm_groups_contiguous_channels():
    graph = single_op_graph("group_norm", {"num_groups": 2, "num_channels": 4, "epsilon": 0.0}, [(1, 4, 1)])
    out = _run(graph, [[[1.0], [2.0], [3.0], [5.0]]], scale=[1, 2, 3, 4], offset=[0, 0, 0, 10])
    np.testing.assert_allclose(out[0, :, 0], [-1, 2, -3, 14])


def test_layer_norm_over_channels_normalises_each_position():
    graph = single_op_graph("layer_norm", {"axes": [1], "normalized_shape": [2], "epsilon": 0.0}, [(1, 2, 1, 2)])
    out = _run(graph, [[[[1.0, 0.0]], [[3.0, 4.0]]]], scale=[1, 2], offset=[0, 1])
    np.testing.assert_allclose(out[0, :, 0, :], [[-1, -1], [3, 3]])


@pytest.mark.parametrize("op, attrs, shape, message", [
    ("layer_norm", {"axes": [2, 1], "normalized_shape": [3, 4]}, (1, 4, 3), "'axes' must be increasing"),
    ("layer_norm", {"axes": [0], "normalized_shape": [1]}, (1, 4), "the batch axis is never normalised"),
    ("layer_norm", {"axes": [2], "normalized_shape": [5]}, (1, 4, 3), "Expected normalized_shape=\\[5\\]"),
    ("group_norm", {"num_groups": 3, "num_channels": 4}, (1, 4, 3), "num_groups must divide num_channels"),
    ("conv_transpose", transpose(pads=[2, 1]), (1, 1, 2), "pads crop the whole output"),
    ("conv_transpose", transpose(output_padding=[1, 1]), (1, 1, 2), "'output_padding' must have 1 entries"),
    ("resize", resize([4, 4], scales=[2.0]), (1, 1, 2, 2), "'scales' must have one positive entry per spatial axis"),
    ("resize", resize([4]), (1, 1, 2, 2), "1 output sizes need a rank 3 input"),
], ids=["layer_norm-axes-order", "layer_norm-batch", "layer_norm-sizes", "group_norm-groups",
        "conv_transpose-crop-all", "conv_transpose-output_padding", "resize-scales", "resize-rank"])
def test_rules(op, attrs, shape, message):
    schema = ops.get(op)
    weights = {} if schema.problems(schema.fill(attrs)) else random_weights(schema, schema.fill(attrs),
                                                                            np.random.default_rng(0))
    graph = Graph([Node(op, op, ["x"], [op], attrs, weights)], [TensorSpec("x", ("N", *shape[1:]))],
                  [TensorSpec(op, ())])
    with pytest.raises(ValidationError, match=message):
        validate(graph)
