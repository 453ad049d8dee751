"""flatten, reshape, transpose, pad, dropout and identity as Flatten, Reshape, Transpose, Pad and Identity.

A channels_last flatten transposes the channels last first. A reshape keeps the batch (ONNX's 0 copies it) and
reads each symbolic size (a sequence length) from the input's shape at run time. These ops move data only, so
an integer input stays an integer.
"""
from __future__ import annotations

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
    """ONNX Pad lists the begins of every axis, then the ends; a negative amount crops, as in the IR."""
    pads, rank = list(ctx.attrs["pads"]), len(ctx.shape()) - 2
    amounts = [0, 0, *pads[:rank], 0, 0, *pads[rank:]]
    x = ctx.raw()
    value = ctx.const(ctx.attrs["value"], ctx.dtype_of(x), suffix="value")
    return ctx.op("Pad", [x, ctx.ints(amounts, "pads"), value], mode="constant")


@register("onnx", "backend", "dropout", "identity")
def identity(ctx: Step, node):
    return ctx.raw()
