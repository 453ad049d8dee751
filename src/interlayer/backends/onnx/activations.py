"""Activations and softmax as ONNX operators; those without one at the chosen opset as their exact formula.

HardSigmoid always gets its alpha and beta (ONNX's default alpha is 0.2, the IR's 1/6). Gelu is an operator from
opset 20 and Mish from 18; before, they are written as the formulas the IR defines (Erf, Tanh, Softplus), not
approximated.
"""
from __future__ import annotations

import math

import numpy as np

from ...registry import register
from .context import Step

_PLAIN = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hard_swish": "HardSwish"}


@register("onnx", "backend", *_PLAIN)
def plain(ctx: Step, node):
    return ctx.op(_PLAIN[node.op], [ctx.input()])


@register("onnx", "backend", "clip")
def clip(ctx: Step, node):
    bounds = [ctx.const(ctx.attrs[key], suffix=key) if ctx.attrs[key] is not None else "" for key in ("min", "max")]
    while bounds and not bounds[-1]:
        bounds.pop()
    return ctx.op("Clip", [ctx.input(), *bounds])


@register("onnx", "backend", "leaky_relu")
def leaky_relu(ctx: Step, node):
    return ctx.op("LeakyRelu", [ctx.input()], alpha=float(ctx.attrs["alpha"]))


@register("onnx", "backend", "elu")
def elu(ctx: Step, node):
    return ctx.op("Elu", [ctx.input()], alpha=float(ctx.attrs["alpha"]))


@register("onnx", "backend", "hard_sigmoid")
def hard_sigmoid(ctx: Step, node):
    return ctx.op("HardSigmoid", [ctx.input()], alpha=float(ctx.attrs["alpha"]), beta=float(ctx.attrs["beta"]))


@register("onnx", "backend", "softmax")
def softmax(ctx: Step, node):
    return ctx.op("Softmax", [ctx.input()], axis=ctx.attrs["axis"])


@register("onnx", "backend", "silu")
def silu(ctx: Step, node):
    x = ctx.input()
    return ctx.op("Mul", [x, ctx.op("Sigmoid", [x])])


@register("onnx", "backend", "gelu")
def gelu(ctx: Step, node):
    x, approximate = ctx.input(), ctx.attrs["approximate"]
    if ctx.opset >= 20:
        return ctx.op("Gelu", [x], approximate=approximate)
    if approximate == "tanh":  # 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
        cube = ctx.op("Mul", [ctx.op("Mul", [x, x]), x])
        inner = ctx.op("Add", [x, ctx.op("Mul", [cube, ctx.const(0.044715, suffix="coefficient")])])
        core = ctx.op("Tanh", [ctx.op("Mul", [inner, ctx.const(math.sqrt(2.0 / math.pi), suffix="sqrt_2_over_pi")])])
    else:  # 0.5 * x * (1 + erf(x / sqrt(2)))
        core = ctx.op("Erf", [ctx.op("Div", [x, ctx.const(math.sqrt(2.0), suffix="sqrt_2")])])
    one_plus = ctx.op("Add", [core, ctx.const(1.0, suffix="one")])
    return ctx.op("Mul", [ctx.op("Mul", [x, ctx.const(0.5, suffix="half")]), one_plus])


@register("onnx", "backend", "mish")
def mish(ctx: Step, node):
    x = ctx.input()
    if ctx.opset >= 18:
        return ctx.op("Mish", [x])
    return ctx.op("Mul", [x, ctx.op("Tanh", [ctx.op("Softplus", [x])])])


@register("onnx", "backend", "prelu")
def prelu(ctx: Step, node):
    """ONNX PRelu broadcasts the slope from the right: one slope per channel is shaped (C, 1, ..., 1)."""
    rank, count = len(ctx.shape()), ctx.attrs["num_parameters"]
    if count == 1 or rank <= 2:
        return ctx.op("PRelu", [ctx.input(), ctx.weight("slope")])
    slope = np.asarray(node.weights["slope"]).reshape(count, *([1] * (rank - 2)))
    return ctx.op("PRelu", [ctx.input(), ctx.derived("slope_per_channel", slope)])
