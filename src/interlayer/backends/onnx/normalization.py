"""layer_norm as LayerNormalization (between two Transposes when the axes are not the trailing ones); group_norm as
GroupNormalization from opset 21, before it as InstanceNormalization over (N, groups, -1) and a per-channel affine.

LayerNormalization normalises the trailing axes from ``axis``; the IR's axes, moved last in their order, are
exactly that, with the scale and offset shaped like them. Opset 18's GroupNormalization had one scale per group, so
the per-channel affine of the IR needs opset 21 or the decomposition, which normalises each contiguous block of
channels with the biased variance, as the IR defines.

lrn is LRN where ONNX's window (from floor((size - 1) / 2) channels before) is the node's and onnxruntime runs it
(a 4-D input and an odd size); otherwise the same sum is written out: the squares padded with ``before`` zero
channels in front, ``size`` channel slices of them summed, then (bias + alpha / size * sum) ** beta divides x.
"""
from __future__ import annotations

import numpy as np

from ...ir import layout
from ...registry import register
from .context import Step


def _affine(ctx: Step, shape) -> tuple[str, str | None]:
    """The scale (ones when absent; LayerNormalization and GroupNormalization require one) and the offset."""
    scale = ctx.weight("scale") if ctx.attrs["scale"] else ctx.const(np.ones(shape), suffix="ones")
    offset = ctx.weight("offset") if ctx.attrs["center"] else None
    return scale, offset


@register("onnx", "backend", "layer_norm")
def layer_norm(ctx: Step, node):
    attrs = ctx.attrs
    rank, axes = len(ctx.shape()), list(attrs["axes"])
    scale, offset = _affine(ctx, attrs["normalized_shape"])
    perm = [d for d in range(rank) if d not in axes] + axes
    value = ctx.transpose(ctx.input(), perm)
    value = ctx.op("LayerNormalization", [value, scale] + ([offset] if offset else []), axis=rank - len(axes),
                   epsilon=float(attrs["epsilon"]))
    return ctx.transpose(value, layout.invert(perm))


@register("onnx", "backend", "group_norm")
def group_norm(ctx: Step, node):
    attrs = ctx.attrs
    groups, channels, epsilon = attrs["num_groups"], attrs["num_channels"], float(attrs["epsilon"])
    if ctx.opset >= 21:
        scale, offset = _affine(ctx, (channels,))
        offset = offset or ctx.const(np.zeros(channels), suffix="zeros")
        return ctx.op("GroupNormalization", [ctx.input(), scale, offset], num_groups=groups, epsilon=epsilon)
    x = ctx.input()
    blocks = ctx.reshape(x, [0, groups, -1])
    unit = ctx.const(np.ones(groups), suffix="group_ones")
    normalised = ctx.op("InstanceNormalization", [blocks, unit, ctx.const(np.zeros(groups), suffix="group_zeros")],
                        epsilon=epsilon)
    value = ctx.op("Reshape", [normalised, ctx.op("Shape", [x], dtype=np.int64)])
    per_channel = (channels, *([1] * (len(ctx.shape()) - 2)))
    if attrs["scale"]:
        scale = ctx.derived("scale_per_channel", np.reshape(node.weights["scale"], per_channel))
        value = ctx.op("Mul", [value, scale])
    if attrs["center"]:
        offset = ctx.derived("offset_per_channel", np.reshape(node.weights["offset"], per_channel))
        value = ctx.op("Add", [value, offset])
    return value


@register("onnx", "backend", "lrn")
def lrn(ctx: Step, node):
    attrs = ctx.attrs
    size, before, alpha, beta, bias = attrs["size"], attrs["before"], attrs["alpha"], attrs["beta"], attrs["bias"]
    x, shape = ctx.input(), ctx.shape()
    if before == (size - 1) // 2 and len(shape) == 4 and size % 2 == 1:
        return ctx.op("LRN", [x], size=size, alpha=alpha, beta=beta, bias=bias)
    channels = shape[1]
    if isinstance(channels, str):
        return ctx.unsupported(f"the channel count must be static to sum a window written out. Expected an int on "
                               f"axis 1. Received: shape={list(shape)}")
    rank = len(shape)
    pads = [0] * (2 * rank)
    pads[1], pads[rank + 1] = before, size - 1 - before
    squares = ctx.op("Mul", [x, x], suffix="squares")
    padded = ctx.op("Pad", [squares, ctx.ints(pads, "pads")], mode="constant")
    windows = [ctx.slice(padded, [start], [start + channels], [1]) for start in range(size)]
    total = windows[0] if size == 1 else ctx.op("Sum", windows)
    scaled = ctx.op("Add", [ctx.op("Mul", [total, ctx.const(alpha / size, suffix="scale")]),
                            ctx.const(bias, suffix="bias")])
    return ctx.op("Div", [x, ctx.op("Pow", [scaled, ctx.const(beta, suffix="beta")])])
