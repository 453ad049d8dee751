"""Resize: the evidence behind backends/onnx/spatial.py's choice between a native Resize and the IR's own
interpolation. ``onnxruntime_indices`` (the input index onnxruntime's nearest Resize reads, computed here) is
checked against onnxruntime itself over a grid of lengths; where it differs from the IR's index, the backend
gathers the IR's indices (or, for linear with scales onnxruntime cannot take, multiplies by the IR's matrix)."""
from __future__ import annotations

import math

import numpy as np
import onnxruntime
import pytest
from onnx import TensorProto, helper

import interlayer
from interlayer.backends.onnx import predict
from interlayer.backends.onnx.spatial import onnxruntime_indices
from support import assert_equivalent, random_inputs, single_op_graph

COORDINATES = ("asymmetric", "half_pixel", "align_corners")
SCALES = (0.3, 0.5, 0.75, 0.9, 1.1, 1.3, 1.5, 2.0, 2.5, 3.0)


def _nearest_session(coordinates: str, by: str):
    """A Resize whose sizes (or scales) are an input, so that one session serves every length."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, None])
    if by == "sizes":
        target = helper.make_tensor_value_info("target", TensorProto.INT64, [3])
        inputs = ["x", "", "", "target"]
    else:
        target = helper.make_tensor_value_info("target", TensorProto.FLOAT, [3])
        inputs = ["x", "", "target"]
    node = helper.make_node("Resize", inputs, ["y"], mode="nearest", coordinate_transformation_mode=coordinates,
                            nearest_mode="floor")
    graph = helper.make_graph([node], "resize", [x, target], [helper.make_empty_tensor_value_info("y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("coordinates", COORDINATES)
def test_computed_indices_are_onnxruntimes_for_sizes(coordinates):
    session = _nearest_session(coordinates, "sizes")
    for n in range(1, 13):
        x = np.arange(n, dtype=np.float32).reshape(1, 1, n)  # each output holds the index it read
        for m in range(1, 25):
            read = session.run(None, {"x": x, "target": np.array([1, 1, m], np.int64)})[0].ravel()
            np.testing.assert_array_equal(read, onnxruntime_indices(n, m, coordinates, None), err_msg=f"{n} -> {m}")


@pytest.mark.parametrize("coordinates", ["asymmetric", "half_pixel"])
def test_computed_indices_are_onnxruntimes_for_scales(coordinates):
    session = _nearest_session(coordinates, "scales")
    for n in range(1, 13):
        x = np.arange(n, dtype=np.float32).reshape(1, 1, n)
        for scale in SCALES:
            m = math.floor(np.float32(scale) * np.float32(n))
            if m < 1:
                continue
            read = session.run(None, {"x": x, "target": np.array([1, 1, scale], np.float32)})[0].ravel()
            np.testing.assert_array_equal(read, onnxruntime_indices(n, m, coordinates, scale),
                                          err_msg=f"{n} x {scale}")


def _resize(sizes, mode, coordinates, shape, scales=None):
    attrs = {"sizes": list(sizes), "mode": mode, "coordinate_mode": coordinates, "scales": scales}
    return single_op_graph("resize", attrs, [shape])


FALLBACKS = {
    # nearest where onnxruntime's float32 formula reads another input than the IR's at a tie
    "nearest-half_pixel-7-to-1": (_resize([1], "nearest", "half_pixel", (2, 3, 7)), "Gather"),
    "nearest-half_pixel-13-to-7": (_resize([7], "nearest", "half_pixel", (2, 3, 13)), "Gather"),
    "nearest-align_corners-8-to-24": (_resize([24], "nearest", "align_corners", (2, 3, 8)), "Gather"),
    "nearest2d-one-axis-differs": (_resize([7, 24], "nearest", "align_corners", (2, 3, 13, 8)), "Gather"),
    # linear with scales that map the coordinates but give onnxruntime another size: floor(5 * 1.3) != 7
    "linear-scale-not-the-size": (_resize([7], "linear", "half_pixel", (2, 3, 5), scales=[1.3]), "MatMul"),
    # a scale whose length does not change: onnxruntime copies the axis, the IR reads it at o / scale
    "linear-scale-keeps-the-length": (_resize([5], "linear", "half_pixel", (2, 3, 5), scales=[1.1]), "MatMul"),
    "nearest-scale-keeps-the-length": (_resize([5], "nearest", "asymmetric", (2, 3, 5), scales=[1.1]), "Gather"),
    "bilinear-scales-not-the-sizes": (_resize([7, 4], "linear", "half_pixel", (2, 3, 5, 6), scales=[1.3, 0.5]),
                                      "MatMul"),
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_the_irs_own_interpolation_where_resize_would_differ(name):
    graph, op_type = FALLBACKS[name]
    model = interlayer.build(graph, "onnx")
    types = {node.op_type for node in model.graph.node}
    assert op_type in types and "Resize" not in types
    inputs = random_inputs(graph)
    assert_equivalent(predict(model, inputs)[0], interlayer.run(graph, inputs)["resize"], what=name)


def test_nearest_with_matching_indices_stays_a_resize():
    graph = _resize([8, 15], "nearest", "asymmetric", (2, 3, 4, 5))
    model = interlayer.build(graph, "onnx")
    assert [node.op_type for node in model.graph.node if node.op_type not in ("Constant", "Shape", "Concat")] == [
        "Resize"]
