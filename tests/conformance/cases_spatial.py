"""Conformance cases of the spatial op family (conv_transpose, resize) and of group_norm and layer_norm."""
from __future__ import annotations

from support import chain_graph, single_op_graph

from .cases import case, conv


def transpose(in_c, out_c, k, **extra):
    return conv(in_c, out_c, k, **extra)


def resize(sizes, mode="nearest", coordinate_mode="asymmetric", **extra):
    return {"sizes": list(sizes), "mode": mode, "coordinate_mode": coordinate_mode, **extra}


def layer_norm(axes, shape, **extra):
    return {"axes": list(axes), "normalized_shape": list(shape), **extra}


# conv_transpose 2-D
case("conv_transpose2d-stride-pads-output-padding", lambda: single_op_graph(
    "conv_transpose", transpose(3, 4, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    [(2, 3, 5, 6)]))
case("conv_transpose2d-same-k4-s2", lambda: single_op_graph(
    "conv_transpose", transpose(3, 4, (4, 4), strides=[2, 2], pads=[1, 1, 1, 1]), [(2, 3, 4, 5)]))
case("conv_transpose2d-rectangular", lambda: single_op_graph(
    "conv_transpose", transpose(2, 3, (3, 2), strides=[2, 3], pads=[1, 0, 1, 0], output_padding=[0, 2]),
    [(2, 2, 4, 5)]))
case("conv_transpose2d-dilation", lambda: single_op_graph(
    "conv_transpose", transpose(3, 4, (3, 3), dilations=[2, 2], pads=[1, 1, 1, 1]), [(2, 3, 5, 5)]))
case("conv_transpose2d-no-bias", lambda: single_op_graph(
    "conv_transpose", transpose(4, 2, (2, 2), strides=[2, 2], bias=False), [(2, 4, 3, 4)]))
# conv_transpose 1-D
case("conv_transpose1d", lambda: single_op_graph(
    "conv_transpose", transpose(3, 5, (3,), strides=[2], pads=[1, 1], output_padding=[1]), [(2, 3, 7)]))
case("conv_transpose1d-kernel-below-stride", lambda: single_op_graph(
    "conv_transpose", transpose(3, 2, (2,), strides=[3]), [(2, 3, 6)]))
case("conv_transpose1d-asymmetric-pads", lambda: single_op_graph(
    "conv_transpose", transpose(3, 2, (3,), strides=[2], pads=[2, 0], output_padding=[1]), [(2, 3, 6)]))
# resize: nearest
case("resize-nearest-x2", lambda: single_op_graph("resize", resize([8, 10]), [(2, 3, 4, 5)]))
case("resize-nearest-non-integer", lambda: single_op_graph("resize", resize([7, 3]), [(2, 3, 4, 5)]))
case("resize-nearest-scale-factor", lambda: single_op_graph(
    "resize", resize([7, 7], scales=[1.5, 1.5]), [(2, 3, 5, 5)]))
case("resize-nearest1d-x3", lambda: single_op_graph("resize", resize([15]), [(2, 3, 5)]))
# resize: linear
case("resize-bilinear-half_pixel-x2", lambda: single_op_graph(
    "resize", resize([8, 10], "linear", "half_pixel"), [(2, 3, 4, 5)]))
case("resize-bilinear-half_pixel-up", lambda: single_op_graph(
    "resize", resize([7, 9], "linear", "half_pixel"), [(2, 3, 4, 5)]))
case("resize-bilinear-half_pixel-down", lambda: single_op_graph(
    "resize", resize([3, 2], "linear", "half_pixel"), [(2, 3, 7, 6)]))
case("resize-bilinear-half_pixel-scale-factor", lambda: single_op_graph(
    "resize", resize([7, 6], "linear", "half_pixel", scales=[1.5, 1.3]), [(2, 3, 5, 5)]))
case("resize-bilinear-align_corners-up", lambda: single_op_graph(
    "resize", resize([9, 7], "linear", "align_corners"), [(2, 3, 4, 5)]))
case("resize-bilinear-align_corners-down", lambda: single_op_graph(
    "resize", resize([3, 2], "linear", "align_corners"), [(2, 3, 7, 6)]))
case("resize-linear1d-half_pixel", lambda: single_op_graph(
    "resize", resize([11], "linear", "half_pixel"), [(2, 3, 5)]))
case("resize-linear1d-align_corners", lambda: single_op_graph(
    "resize", resize([4], "linear", "align_corners"), [(2, 3, 9)]))
# group_norm
case("group_norm", lambda: single_op_graph("group_norm", {"num_groups": 3, "num_channels": 6}, [(2, 6, 4, 5)]))
case("group_norm-no-affine-eps", lambda: single_op_graph(
    "group_norm", {"num_groups": 2, "num_channels": 4, "epsilon": 1e-3, "center": False, "scale": False},
    [(2, 4, 7)]))
# layer_norm
case("layer_norm-last-axis", lambda: single_op_graph("layer_norm", layer_norm([2], [6]), [(2, 5, 6)]))
case("layer_norm-channel-axis", lambda: single_op_graph("layer_norm", layer_norm([1], [4]), [(2, 4, 5, 6)]))
case("layer_norm-chw", lambda: single_op_graph("layer_norm", layer_norm([1, 2, 3], [4, 5, 3]), [(2, 4, 5, 3)]))
case("layer_norm-no-bias", lambda: single_op_graph(
    "layer_norm", layer_norm([2], [6], center=False, epsilon=1e-6), [(2, 5, 6)]))
# small networks: the layout flows through the new ops without a Permute in Keras
case("conv-layer_norm-channels-conv", lambda: chain_graph([
    ("conv", conv(3, 8, (3, 3), pads=[1, 1, 1, 1])), ("layer_norm", layer_norm([1], [8], epsilon=1e-6)),
    ("conv", conv(8, 4, (1, 1)))], (2, 3, 6, 7)))
case("unet-up-conv-resize-conv", lambda: chain_graph([
    ("conv", conv(3, 6, (3, 3), pads=[1, 1, 1, 1])), ("relu", {}),
    ("resize", resize([8, 10], "linear", "half_pixel")), ("conv", conv(6, 4, (3, 3), pads=[1, 1, 1, 1]))],
    (2, 3, 4, 5)))
case("conv-conv_transpose-group_norm", lambda: chain_graph([
    ("conv", conv(3, 4, (3, 3))), ("conv_transpose", transpose(4, 6, (4, 4), strides=[2, 2], pads=[1, 1, 1, 1])),
    ("group_norm", {"num_groups": 2, "num_channels": 6}), ("silu", {})], (2, 3, 6, 6)))
