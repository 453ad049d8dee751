"""Element-wise math as ONNX operators: Exp, Log, Sqrt, Abs, Neg, Softplus, Selu, Sign, Softsign, Erf, Floor,
Ceil, Sin, Cos, Shrink and LogSoftmax.

Selu always gets its alpha and gamma written. Softplus with a threshold below 15 is written as
Where(x > threshold, x, Softplus(x)); from 15 on the two differ by under exp(-15) relative, below float32's
resolution, and plain Softplus is written.
"""
from __future__ import annotations

import numpy as np

from ...ir.ops.math import SELU_ALPHA, SELU_SCALE
from ...registry import register
from .context import Step

_PLAIN = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "neg": "Neg", "sign": "Sign",
          "softsign": "Softsign", "erf": "Erf", "floor": "Floor", "ceil": "Ceil", "sin": "Sin", "cos": "Cos"}
_INVISIBLE_THRESHOLD = 15.0


@register("onnx", "backend", *_PLAIN)
def plain(ctx: Step, node):
    return ctx.op(_PLAIN[node.op], [ctx.input()])


@register("onnx", "backend", "softplus")
def softplus(ctx: Step, node):
    x, threshold = ctx.input(), ctx.attrs["threshold"]
    y = ctx.op("Softplus", [x])
    if threshold is None or threshold >= _INVISIBLE_THRESHOLD:
        return y
    above = ctx.op("Greater", [x, ctx.const(float(threshold), suffix="threshold")], dtype=np.bool_)
    return ctx.op("Where", [above, x, y], dtype=ctx.dtype)


@register("onnx", "backend", "selu")
def selu(ctx: Step, node):
    return ctx.op("Selu", [ctx.input()], alpha=SELU_ALPHA, gamma=SELU_SCALE)


@register("onnx", "backend", "shrink")
def shrink(ctx: Step, node):
    return ctx.op("Shrink", [ctx.input()], lambd=ctx.attrs["lambd"], bias=ctx.attrs["bias"])


@register("onnx", "backend", "log_softmax")
def log_softmax(ctx: Step, node):
    return ctx.op("LogSoftmax", [ctx.input()], axis=ctx.attrs["axis"])
