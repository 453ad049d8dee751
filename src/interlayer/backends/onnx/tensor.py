"""flatten, reshape, transpose, pad, dropout, identity and tile as Flatten, Reshape, Transpose, Pad, Identity and
Tile.

A channels_last flatten transposes the channels last first. A reshape keeps the batch (ONNX's 0 copies it) and
reads each symbolic size (a sequence length) from the input's shape at run time. These ops move data only, so
an integer input stays an integer.
"""
from __future__ import annotations

import numpy as np

from ...registry import register
from .context import Step


@register("onnx", "backend", "flatten")
def flatten(ctx: Step, node):
    x, rank = ctx.raw(), len(ctx.shape())
    if ctx.attrs["order"] == "channels_last":
        x = ctx.transpose(x, [0, *range(2, rank), 1])
    return ctx.op("Flatten", [x], axis=1)


@register("onnx", "backend", "reshape")
def reshape(ctx: Step, node):
    return ctx.op("Reshape", [ctx.raw(), ctx.dims([0, *ctx.attrs["shape"]])])


@register("onnx", "backend", "transpose")
def transpose(ctx: Step, node):
    return ctx.op("Transpose", [ctx.raw()], perm=list(ctx.attrs["perm"]))


@register("onnx", "backend", "pad")
def pad(ctx: Step, node):
    """ONNX Pad lists the begins of every axis, then the ends; a negative amount crops, as in the IR. The IR's
    modes are ONNX's names; 'wrap' (Pad from opset 19) is Slice + Concat per axis before opset 19."""
    pads, rank, mode = list(ctx.attrs["pads"]), len(ctx.shape()) - 2, ctx.attrs["mode"]
    x = ctx.raw()
    if mode == "wrap" and ctx.opset < 19:
        return _wrap(ctx, x, pads, rank)
    amounts = ctx.ints([0, 0, *pads[:rank], 0, 0, *pads[rank:]], "pads")
    if mode != "constant":
        return ctx.op("Pad", [x, amounts], mode=mode)
    fill = ctx.attrs["value"]
    if fill == 0.0 and "max_pool" in ctx.emitter.readers.get(node.outputs[0], ()):
        # onnxruntime folds a Pad whose fill is all zero bytes into a following MaxPool's pads, which never win
        # the max: wrong wherever a window's values are all negative. -0.0 is the same zero to every reader and
        # keeps the Pad (Keras's ZeroPadding2D before MaxPooling2D, as in ResNet50V2)
        fill = -0.0
    value = ctx.const(fill, ctx.dtype_of(x), suffix="value")
    return ctx.op("Pad", [x, amounts, value], mode="constant")


_END = np.iinfo(np.int64).max
"""Slice's end for 'to the end of the axis'."""


def _wrap(ctx: Step, x: str, pads: list[int], rank: int) -> str:
    """Periodic padding, one axis after another: the last ``begin`` positions in front, the first ``end`` behind
    (the IR keeps each pad <= the axis size, so one copy of each end is enough)."""
    for axis in range(2, 2 + rank):
        begin, end = pads[axis - 2], pads[rank + axis - 2]
        parts = [ctx.slice(x, [-begin], [_END], [axis])] if begin else []
        parts += [x] + ([ctx.slice(x, [0], [end], [axis])] if end else [])
        x = ctx.concat(parts, axis)
    return x


@register("onnx", "backend", "dropout", "identity")
def identity(ctx: Step, node):
    return ctx.raw()


@register("onnx", "backend", "tile")
def tile(ctx: Step, node):
    return ctx.op("Tile", [ctx.raw(), ctx.ints(ctx.attrs["repeats"], suffix="repeats")])
