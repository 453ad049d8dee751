"""Element-wise math: Exp, Log, Sqrt, Abs, Neg, Softplus, Selu, Sign, Softsign, Erf, Floor, Ceil, Sin, Cos,
Shrink, Reciprocal; and LogSoftmax.

Element-wise ops keep any view of their input. Selu is read only with ONNX's default alpha and gamma (the IR's selu
has fixed constants). LogSoftmax, as Softmax, before opset 13 works on the input coerced to 2-D at ``axis``, from 13
along ``axis``.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ...ir.ops.math import SELU_ALPHA, SELU_SCALE
from ...registry import register
from .activation import along_axis, coerced, elementwise
from .context import NodeContext, readable

_PLAIN = {"Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs", "Neg": "neg", "Softplus": "softplus",
          "Sign": "sign", "Softsign": "softsign", "Erf": "erf", "Floor": "floor", "Ceil": "ceil", "Sin": "sin",
          "Cos": "cos"}


@register("onnx", "frontend", ("Exp", 1), ("Log", 1), ("Sqrt", 1), ("Abs", 1), ("Neg", 1), ("Softplus", 1),
          ("Sign", 9), ("Softsign", 1), ("Erf", 9), ("Floor", 1), ("Ceil", 1), ("Sin", 7), ("Cos", 7))
def plain(ctx: NodeContext, node):
    return elementwise(ctx, _PLAIN[node.op_type])


@register("onnx", "frontend", ("Reciprocal", 1))
def reciprocal(ctx: NodeContext, node):
    """1 / x (the dynamo exporter's rsqrt is Sqrt then Reciprocal): a div with the constant first, through the same
    view as its input."""
    held = ctx.held(0)
    if held is None:
        return None
    attrs = {"constant": True, "constant_first": True, "constant_shape": []}
    out = ctx.add("div", [held.value], attrs, {"other": np.array(1.0, np.float32)})
    return None if out is None else replace(held, value=out)


@register("onnx", "frontend", ("Shrink", 9))
def shrink(ctx: NodeContext, node):
    attrs = {"lambd": readable(ctx.attr("lambd", 0.5)), "bias": readable(ctx.attr("bias", 0.0))}
    return elementwise(ctx, "shrink", attrs)


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
    return coerced(ctx, "log_softmax")


@register("onnx", "frontend", ("LogSoftmax", 13))
def log_softmax(ctx: NodeContext, node):
    return along_axis(ctx, "log_softmax")
