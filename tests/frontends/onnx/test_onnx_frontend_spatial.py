"""Upsample (opsets 7-9) and Resize (opset 10, 11 on): captured graph == onnxruntime for each coordinate mode the
IR reproduces, and a clear refusal for the others."""
from __future__ import annotations

import numpy as np
import pytest

from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, ops, single, tensor

SHAPE = ("N", 2, 5, 6)
OUT = ("N", 2, None, None)


def floats(name, values):
    return tensor(name, np.array(values, np.float32))


def ints(name, values):
    return tensor(name, np.array(values, np.int64))


def resize(scales=None, sizes=None, opset=13, out=OUT, **attrs):
    """Resize-11+ with scales (input 2) or sizes (input 3)."""
    if sizes is not None:
        return single("Resize", SHAPE, out, opset=opset, extra_inputs=["", "", "sizes"],
                      initializers=[ints("sizes", sizes)], **attrs)
    return single("Resize", SHAPE, out, opset=opset, extra_inputs=["", "scales"],
                  initializers=[floats("scales", scales)], **attrs)


CASES = [
    pytest.param(lambda: single("Upsample", SHAPE, OUT, opset=7, scales=[1.0, 1.0, 2.0, 2.0]), id="Upsample-opset7"),
    pytest.param(lambda: single("Upsample", SHAPE, OUT, opset=9, extra_inputs=["s"],
                                initializers=[floats("s", [1, 1, 2, 3])]), id="Upsample-opset9-nearest"),
    pytest.param(lambda: single("Upsample", SHAPE, OUT, opset=9, mode="linear", extra_inputs=["s"],
                                initializers=[floats("s", [1, 1, 2, 1.5])]), id="Upsample-opset9-linear"),
    pytest.param(lambda: single("Resize", SHAPE, OUT, opset=10, extra_inputs=["s"],
                                initializers=[floats("s", [1, 1, 3, 2])]), id="Resize-opset10-nearest"),
    pytest.param(lambda: single("Resize", SHAPE, OUT, opset=10, mode="linear", extra_inputs=["s"],
                                initializers=[floats("s", [1, 1, 2, 2])]), id="Resize-opset10-linear"),
    pytest.param(lambda: resize([1, 1, 2, 2], coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
                 id="nearest-asymmetric-floor"),
    pytest.param(lambda: resize([1, 1, 2, 3]), id="nearest-default-modes"),
    pytest.param(lambda: resize(sizes=[3, 3], axes=[2, 3], opset=18, coordinate_transformation_mode="asymmetric",
                                nearest_mode="floor"), id="nearest-sizes-shrink"),
    pytest.param(lambda: resize([1, 1, 2, 2], coordinate_transformation_mode="tf_half_pixel_for_nn",
                                nearest_mode="floor"), id="nearest-tf-half-pixel-floor"),
    pytest.param(lambda: resize([1, 1, 2, 2], mode="linear"), id="linear-half-pixel"),
    pytest.param(lambda: resize([1, 1, 2, 1.5], mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
                 id="linear-pytorch-half-pixel"),
    pytest.param(lambda: resize(sizes=[9, 4], axes=[2, 3], opset=18, mode="linear",
                                coordinate_transformation_mode="align_corners"), id="linear-align-corners-sizes"),
    pytest.param(lambda: resize([1, 1, 2, 2], mode="linear", coordinate_transformation_mode="asymmetric"),
                 id="linear-asymmetric"),
    pytest.param(lambda: single("Resize", SHAPE, OUT, opset=18, axes=[2, 3], mode="linear", extra_inputs=["", "s"],
                                initializers=[floats("s", [2, 2])]), id="linear-opset18-axes"),
]


@pytest.mark.parametrize("make", CASES)
def test_resize_matches_onnxruntime(make):
    graph = check(make())
    assert ops(graph) == ["resize"]


def test_pytorch_nearest_keeps_its_scales():
    graph = capture(resize([1, 1, 2, 2], coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
    attrs = graph.nodes[0].attrs
    assert (attrs["mode"], attrs["coordinate_mode"], attrs["scales"], attrs["sizes"]) == \
           ("nearest", "asymmetric", [2.0, 2.0], [10, 12])


def test_upsample_and_resize_agree():
    upsample = capture(single("Upsample", SHAPE, OUT, opset=9, extra_inputs=["s"],
                              initializers=[floats("s", [1, 1, 2, 2])]))
    resized = capture(resize([1, 1, 2, 2], coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
    assert upsample.nodes[0].attrs == resized.nodes[0].attrs


@pytest.mark.parametrize("attrs, message", [
    ({"mode": "cubic"}, "mode must be 'nearest' or 'linear'"),
    ({"coordinate_transformation_mode": "tf_crop_and_resize"},
     "the IR has no equivalent of coordinate_transformation_mode='tf_crop_and_resize'"),
], ids=["cubic", "tf-crop-and-resize"])
def test_modes_the_ir_lacks_are_refused(attrs, message):
    with pytest.raises(UnsupportedLayerError, match=rf"node 'resize' \(Resize\): {message}"):
        capture(resize([1, 1, 2, 2], **attrs))


def test_nearest_rounding_the_ir_cannot_reproduce_is_refused():
    """round_prefer_floor at scale 1.5 picks other neighbours than any floor-based IR mode."""
    with pytest.raises(UnsupportedLayerError, match="no IR resize reads the same input positions"):
        capture(resize([1, 1, 1.5, 2.5], coordinate_transformation_mode="asymmetric"))


def test_scaling_the_channels_is_refused():
    with pytest.raises(UnsupportedLayerError, match="the batch and channel axes must not be scaled"):
        capture(resize([1, 2, 2, 2], out=("N", 4, 10, 12)))
