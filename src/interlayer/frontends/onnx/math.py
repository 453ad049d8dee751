"""Element-wise math: Exp, Log, Sqrt, Abs, Neg, Softplus, Selu; and LogSoftmax.

Element-wise ops keep any view of their input. Selu is read only with ONNX's default alpha and gamma (the IR's selu
has fixed constants). LogSoftmax, as Softmax, before opset 13 works on the input coerced to 2-D at ``axis``, from 13
along ``axis``.
"""
from __future__ import annotations

import math

import numpy as np

from ...ir.ops.math import SELU_ALPHA, SELU_SCALE
from ...registry import register
from .activation import elementwise
from .context import NodeContext

_PLAIN = {"Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs", "Neg": "neg", "Softplus": "softplus"}


@register("onnx", "frontend", ("Exp", 1), ("Log", 1), ("Sqrt", 1), ("Abs", 1), ("Neg", 1), ("Softplus", 1))
def plain(ctx: NodeContext, node):
    return elementwise(ctx, _PLAIN[node.op_type])


@register("onnx", "frontend", ("Selu", 1))
def selu(ctx: NodeContext, node):
    """ONNX's defaults are SELU's constants rounded to float32; any other alpha or gamma is refused."""
    alpha, gamma = float(ctx.attr("alpha", SELU_ALPHA)), float(ctx.attr("gamma", SELU_SCALE))
    if not (math.isclose(alpha, SELU_ALPHA, rel_tol=1e-6) and math.isclose(gamma, SELU_SCALE, rel_tol=1e-6)):
        return ctx.unsupported(f"the IR's selu has fixed constants. Expected alpha={SELU_ALPHA}, gamma={SELU_SCALE} "
                               f"(ONNX's defaults). Received: alpha={alpha}, gamma={gamma}")
    return elementwise(ctx, "selu")


@register("onnx", "frontend", ("LogSoftmax", 1))
def log_softmax_coerced(ctx: NodeContext, node):
    """Opsets 1-12: the input is coerced to 2-D, axes [0, axis) and [axis, rank), and each row is normalised:
    one log_softmax over every axis from ``axis`` on (reshape, log_softmax, reshape when several are larger than 1)."""
    x = ctx.value(0)
    if x is None:
        return None
    shape = ctx.ir_shape(x)
    axis = ctx.axis(ctx.attr("axis", 1), len(shape))
    if axis is None:
        return None
    wide = [a for a in range(axis, len(shape)) if shape[a] != 1]
    if len(wide) <= 1:
        return ctx.add("log_softmax", [x], {"axis": wide[0] if wide else axis})
    if any(isinstance(shape[a], str) for a in range(axis, len(shape))):
        return ctx.unsupported(f"the axes from axis={axis} on must be static to be normalised together. "
                               f"Received: shape={list(shape)}")
    rows = ctx.add("reshape", [x], {"shape": [*shape[1:axis], int(np.prod(shape[axis:]))]}, role="rows")
    out = ctx.add("log_softmax", [rows], {"axis": axis}, role="log_softmax")
    return ctx.add("reshape", [out], {"shape": list(shape[1:])})


@register("onnx", "frontend", ("LogSoftmax", 13))
def log_softmax(ctx: NodeContext, node):
    """Opset 13 on: log_softmax along ``axis`` (default -1); along the last axis it runs on any view of its input."""
    held = ctx.held(0)
    if held is None:
        return None
    axis = ctx.attr("axis", -1)
    if axis in (-1, held.rank - 1):
        view = ctx.last_axis(held)
        return None if view is None else ctx.along_last(
            view, ctx.add("log_softmax", [view.value], {"axis": len(view.split) - 1}))
    x = ctx.value(0)
    axis = None if x is None else ctx.axis(axis, len(ctx.ir_shape(x)))
    return None if axis is None else ctx.add("log_softmax", [x], {"axis": axis})
