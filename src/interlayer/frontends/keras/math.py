"""``keras.ops`` element-wise math recorded in a functional graph: exp, log, sqrt, abs, negative, softplus, selu, sign,
softsign, erf, floor, ceil, sin, cos, hard_shrink, soft_shrink, log_softmax. (The activations of the same names, in
Activation and Dense layers, are in activation.py's table.)"""
from __future__ import annotations

from keras.src.ops import math as math_ops
from keras.src.ops import nn as nn_ops
from keras.src.ops import numpy as numpy_ops

from ...registry import register
from .context import Held, LayerContext, prefers

_UNARY = {numpy_ops.Exp: "exp", numpy_ops.Log: "log", numpy_ops.Sqrt: "sqrt", numpy_ops.Absolute: "abs",
          numpy_ops.Negative: "neg", nn_ops.Softplus: "softplus", nn_ops.Selu: "selu", numpy_ops.Sign: "sign",
          nn_ops.Softsign: "softsign", math_ops.Erf: "erf", numpy_ops.Floor: "floor", numpy_ops.Ceil: "ceil",
          numpy_ops.Sin: "sin", numpy_ops.Cos: "cos"}


@register("keras", "frontend", *_UNARY)
@prefers("any")
def unary(ctx: LayerContext, operation, inputs):
    return ctx.add(_UNARY[type(operation)], [inputs[0]], perm=inputs[0].perm)


@register("keras", "frontend", nn_ops.HardShrink, nn_ops.SoftShrink)
@prefers("any")
def shrink(ctx: LayerContext, operation, inputs):
    """hard_shrink(threshold) is shrink(lambd=threshold, bias=0); soft_shrink(threshold) has bias=threshold."""
    lambd = float(operation.threshold)
    bias = lambd if isinstance(operation, nn_ops.SoftShrink) else 0.0
    return ctx.add("shrink", [inputs[0]], {"lambd": lambd, "bias": bias}, perm=inputs[0].perm)


def log_softmax_along(ctx: LayerContext, x: Held, axis: int, name: str | None = None) -> Held | None:
    """log_softmax along Keras axis ``axis`` of ``x``, mapped to the IR's axis through the held perm."""
    index = ctx.keras_axis(x, int(axis), batch=True)
    if index is None:
        return None
    return ctx.add("log_softmax", [x], {"axis": x.perm[index]}, perm=x.perm, name=name)


def log_softmax_last(ctx: LayerContext, x: Held, name: str) -> Held | None:
    """The activation 'log_softmax' (along the last axis), as activation.py's table calls it."""
    return log_softmax_along(ctx, x, -1, name)


@register("keras", "frontend", nn_ops.LogSoftmax)
@prefers("any")
def log_softmax(ctx: LayerContext, operation, inputs):
    axis = operation.axis
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            ctx.unsupported(f"log_softmax over several axes has no IR op. Expected one axis. Received: axis={axis}")
            return None
        axis = axis[0]
    return log_softmax_along(ctx, inputs[0], axis)
