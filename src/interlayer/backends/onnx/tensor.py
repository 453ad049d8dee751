"""flatten, reshape, transpose, pad, dropout, identity and tile as Flatten, Reshape, Transpose, Pad, Identity and
Tile.

A channels_last flatten transposes the channels last first. A reshape gives every axis; a size the input has on
the same axis is copied (ONNX's 0), one size expression is left to Reshape (-1), any other is computed at run time
(``sizes.py``). These ops move data only, so an integer input stays an integer.
"""
from __future__ import annotations

import numpy as np

from ...ir import dims
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
    """Every axis given: a size the input has on the same axis is Reshape's 0 (copy), the first other size
    expression is its -1 (the rest of the elements) unless the IR wrote one, and any further ones are computed; a
    literal 0 needs ``allowzero`` (and then no copies, no -1)."""
    shape, target = ctx.shape(), [dims.normal(d) for d in ctx.attrs["shape"]]
    if 0 in target:
        return ctx.op("Reshape", [ctx.raw(), ctx.dims(target)], allowzero=1)
    sizes = [0 if isinstance(d, str) and i < len(shape) and shape[i] == d else d for i, d in enumerate(target)]
    open_sizes = [i for i, d in enumerate(sizes) if isinstance(d, str)]
    if open_sizes and -1 not in sizes:
        sizes[open_sizes[0]] = -1
    return ctx.op("Reshape", [ctx.raw(), ctx.dims(sizes)])


@register("onnx", "backend", "transpose")
def transpose(ctx: Step, node):
    return ctx.op("Transpose", [ctx.raw()], perm=list(ctx.attrs["perm"]))


@register("onnx", "backend", "pad")
def pad(ctx: Step, node):
    """ONNX Pad lists the begins of every axis, then the ends; the IR pads the last len(pads) / 2 axes, and a
    negative amount crops in both. The IR's modes are ONNX's names; 'wrap' (Pad from opset 19) is Slice + Concat
    per axis before opset 19."""
    pads, mode, x = list(ctx.attrs["pads"]), ctx.attrs["mode"], ctx.raw()
    count = len(pads) // 2
    kept = [0] * (len(ctx.shape()) - count)
    if mode == "wrap" and ctx.opset < 19:
        return _wrap(ctx, x, pads, len(kept))
    amounts = ctx.ints([*kept, *pads[:count], *kept, *pads[count:]], "pads")
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


def _wrap(ctx: Step, x: str, pads: list[int], first: int) -> str:
    """Periodic padding, one axis after another from axis ``first``: the last ``begin`` positions in front, the
    first ``end`` behind (the IR keeps each pad <= the axis size, so one copy of each end is enough)."""
    count = len(pads) // 2
    for index in range(count):
        axis, begin, end = first + index, pads[index], pads[count + index]
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
