"""Ops that keep or pad values: Identity, Dropout, Cast, Pad.

Dropout reads its ratio from an input since opset 12; Pad its pads and value since opset 11 (axes since 18). Pad's
modes are the IR's: constant, reflect, edge and (from opset 19) wrap; the IR pads the last axes, the spatial ones
of a (N, C, *spatial) map or every one from the first padded axis on.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...ir.ops.index import DTYPES
from ...ir.ops.tensor import PAD_MODES
from ...registry import register
from .context import NodeContext


@register("onnx", "frontend", ("Identity", 1))
def identity(ctx: NodeContext, node):
    return ctx.held(0)


@register("onnx", "frontend", ("Dropout", 1))
def dropout_attribute(ctx: NodeContext, node):
    """Opsets 1-11: the rate is the attribute ``ratio``; identity at inference."""
    return _dropout(ctx, float(ctx.attr("ratio", 0.5)))


@register("onnx", "frontend", ("Dropout", 12))
def dropout(ctx: NodeContext, node):
    """Opset 12 on: the rate is the optional input 1, and input 2 (training_mode) must be false."""
    rate = 0.5
    if ctx.present(1):
        array = ctx.constant(1, "the ratio (input 1)")
        if array is None:
            return None
        rate = float(array.reshape(()))
    if ctx.present(2):
        training = ctx.constant(2, "training_mode (input 2)")
        if training is None:
            return None
        if bool(training.reshape(())):
            return ctx.unsupported("training_mode must be false. Expected inference. Received: training_mode=True")
    return _dropout(ctx, rate)


def _dropout(ctx: NodeContext, rate: float):
    if ctx.is_read(1):
        return ctx.unsupported("the mask output is read. Expected only output 0 used (inference). Received: a "
                               "reader of the mask")
    x = ctx.value(0)
    return None if x is None else ctx.add("dropout", [x], {"rate": float(f"{rate:.7g}")})


@register("onnx", "frontend", ("Cast", 1))
def cast(ctx: NodeContext, node):
    """The IR's cast (numpy's astype: floats to integers truncate, anything to bool is != 0), read through the
    same view as its input; a cast to the dtype the value already has is nothing."""
    from onnx import helper

    held = ctx.held(0)
    if held is None:
        return None
    to = ctx.attr("to")
    target = np.dtype(helper.tensor_dtype_to_np_dtype(to)).name if isinstance(to, int) else str(to).lower()
    if target == ctx.dtype(0):
        return held
    if target not in DTYPES:
        return ctx.unsupported(f"the IR's values have the dtypes {list(DTYPES)}. Received: to={target}")
    out = ctx.add("cast", [held.value], {"dtype": target})
    return None if out is None else replace(held, value=out, dtype=target)


@register("onnx", "frontend", ("Pad", 2))
def pad_attributes(ctx: NodeContext, node):
    """Opsets 2-10: pads and value are attributes."""
    return _pad(ctx, list(ctx.attr("pads", [])), float(ctx.attr("value", 0.0)), None)


@register("onnx", "frontend", ("Pad", 11))
def pad(ctx: NodeContext, node):
    """Opset 11 on: pads (input 1), constant_value (input 2) and, from 18, axes (input 3) are inputs."""
    pads = ctx.ints(1, "the pads (input 1)")
    value = 0.0
    if ctx.present(2):
        array = ctx.constant(2, "the constant value (input 2)")
        if array is None:
            return None
        value = float(array.reshape(()))
    axes = ctx.ints(3, "the axes (input 3)") if ctx.present(3) else None
    if pads is None or (ctx.present(3) and axes is None):
        return None
    return _pad(ctx, pads, value, axes)


def _pad(ctx: NodeContext, pads: list[int], value: float, axes):
    mode = ctx.attr("mode", "constant")
    if mode not in PAD_MODES:  # ONNX's names ('wrap' from opset 19) are the IR's
        return ctx.unsupported(f"mode must be one of {list(PAD_MODES)}. Received: mode={mode!r}")
    x = ctx.value(0)
    if x is None:
        return None
    rank = len(ctx.ir_shape(x))
    axes = list(range(rank)) if axes is None else [a % rank for a in axes]
    begins, ends = [0] * rank, [0] * rank
    for k, axis in enumerate(axes):
        begins[axis], ends[axis] = pads[k], pads[len(axes) + k]
    padded = [axis for axis in range(rank) if begins[axis] or ends[axis]]
    # the IR pads the last axes: the spatial ones of a (N, C, *spatial) map, else from the first padded axis on
    first = 2 if rank >= 3 and (not padded or padded[0] >= 2) else padded[0] if padded else rank - 1
    value = value if mode == "constant" else 0.0  # ONNX ignores constant_value in the other modes
    return ctx.add("pad", [x], {"pads": begins[first:] + ends[first:], "value": value, "mode": mode})
