"""Activations: Relu, Clip, LeakyRelu, Elu, Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu, Mish, PRelu, Softmax.

Element-wise activations keep any view of their input (a time-major sequence stays time-major). Clip reads its
bounds from attributes before opset 11 and from constant inputs after; Softmax before opset 13 is a softmax of the
input coerced to 2-D at ``axis``, from 13 a softmax along ``axis``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...registry import register
from .context import NodeContext, readable
from .values import Held

_FLOAT_LOWEST = float(np.finfo(np.float32).min)
_FLOAT_MAX = float(np.finfo(np.float32).max)


def elementwise(ctx: NodeContext, op: str, attrs: dict | None = None) -> Held | None:
    """``op`` applied to the input's IR value; the result is read through the same view as the input."""
    held = ctx.held(0)
    if held is None:
        return None
    out = ctx.add(op, [held.value], attrs)
    return None if out is None else replace(held, value=out)


_PLAIN = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


@register("onnx", "frontend", ("Relu", 1), ("Sigmoid", 1), ("Tanh", 1))
def plain(ctx: NodeContext, node):
    return elementwise(ctx, _PLAIN[node.op_type])


@register("onnx", "frontend", ("HardSwish", 14))
def hard_swish(ctx: NodeContext, node):
    return elementwise(ctx, "hard_swish")


@register("onnx", "frontend", ("Mish", 18))
def mish(ctx: NodeContext, node):
    return elementwise(ctx, "mish")


@register("onnx", "frontend", ("LeakyRelu", 1))
def leaky_relu(ctx: NodeContext, node):
    return elementwise(ctx, "leaky_relu", {"alpha": readable(ctx.attr("alpha", 0.01))})


@register("onnx", "frontend", ("Elu", 1))
def elu(ctx: NodeContext, node):
    return elementwise(ctx, "elu", {"alpha": readable(ctx.attr("alpha", 1.0))})


@register("onnx", "frontend", ("HardSigmoid", 1))
def hard_sigmoid(ctx: NodeContext, node):
    attrs = {"alpha": readable(ctx.attr("alpha", 0.2)), "beta": readable(ctx.attr("beta", 0.5))}
    return elementwise(ctx, "hard_sigmoid", attrs)


@register("onnx", "frontend", ("Gelu", 20))
def gelu(ctx: NodeContext, node):
    approximate = ctx.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        return ctx.unsupported(f"approximate must be 'none' or 'tanh'. Received: approximate={approximate!r}")
    return elementwise(ctx, "gelu", {"approximate": approximate})


@register("onnx", "frontend", ("Clip", 1))
def clip_attributes(ctx: NodeContext, node):
    """Opsets 1-10: the bounds are the attributes min and max (float32's lowest and largest by default)."""
    return _clip(ctx, _bound(ctx.attr("min"), _FLOAT_LOWEST), _bound(ctx.attr("max"), _FLOAT_MAX))


@register("onnx", "frontend", ("Clip", 11))
def clip_inputs(ctx: NodeContext, node):
    """Opset 11 on: the bounds are the optional inputs 1 (min) and 2 (max), constants here."""
    bounds = []
    for index, what in ((1, "the bound min (input 1)"), (2, "the bound max (input 2)")):
        if not ctx.present(index):
            bounds.append(None)
            continue
        array = ctx.constant(index, what)
        if array is None:
            return None
        if array.size != 1:
            return ctx.unsupported(f"{what} must be a scalar. Received: shape={list(array.shape)}")
        bounds.append(_bound(float(array.reshape(())), None))
    return _clip(ctx, *bounds)


def _clip(ctx: NodeContext, low, high):
    if low is None and high is None:
        return ctx.held(0)
    return elementwise(ctx, "clip", {"min": low, "max": high})


def _bound(value, unbounded):
    """None for an absent bound or float32's extreme (no bound)."""
    if value is None or (unbounded is not None and float(value) == unbounded):
        return None
    value = float(value)
    return None if value in (_FLOAT_LOWEST, _FLOAT_MAX, -np.inf, np.inf) else value


@register("onnx", "frontend", ("Softmax", 1))
def softmax_coerced(ctx: NodeContext, node):
    return coerced(ctx, "softmax")


@register("onnx", "frontend", ("Softmax", 13))
def softmax(ctx: NodeContext, node):
    return along_axis(ctx, "softmax")


def coerced(ctx: NodeContext, op: str):
    """Softmax and LogSoftmax of opsets 1-12: the input is coerced to 2-D, axes [0, axis) and [axis, rank), and
    each row is normalised: one ``op`` over every axis from ``axis`` on (written as reshape, ``op``, reshape when
    several of them are larger than 1)."""
    x = ctx.value(0)
    if x is None:
        return None
    shape = ctx.ir_shape(x)
    axis = ctx.axis(ctx.attr("axis", 1), len(shape))
    if axis is None:
        return None
    wide = [a for a in range(axis, len(shape)) if shape[a] != 1]
    if len(wide) <= 1:
        return ctx.add(op, [x], {"axis": wide[0] if wide else axis})
    if any(isinstance(shape[a], str) for a in range(axis, len(shape))):
        return ctx.unsupported(f"the axes from axis={axis} on must be static to be normalised together. "
                               f"Received: shape={list(shape)}")
    rows = ctx.add("reshape", [x], {"shape": [*shape[:axis], int(np.prod(shape[axis:]))]}, role="rows")
    out = ctx.add(op, [rows], {"axis": axis}, role=op)
    return ctx.add("reshape", [out], {"shape": list(shape)})


def along_axis(ctx: NodeContext, op: str):
    """Softmax and LogSoftmax from opset 13: ``op`` along ``axis`` (default -1); along the last axis it runs on
    any view of its input."""
    held = ctx.held(0)
    if held is None:
        return None
    axis = ctx.attr("axis", -1)
    if axis in (-1, held.rank - 1):
        view = ctx.last_axis(held)
        return None if view is None else ctx.along_last(view, ctx.add(op, [view.value], {"axis": len(view.split) - 1}))
    x = ctx.value(0)
    axis = None if x is None else ctx.axis(axis, len(ctx.ir_shape(x)))
    return None if axis is None else ctx.add(op, [x], {"axis": axis})


@register("onnx", "frontend", ("PRelu", 1))
def prelu_legacy(ctx: NodeContext, node):
    """Opsets 1-6: a 1-D slope of one entry per channel (axis 1) is per channel, whatever the input's rank."""
    return _prelu(ctx, legacy=True)


@register("onnx", "frontend", ("PRelu", 7))
def prelu(ctx: NodeContext, node):
    """Opset 7 on: the slope broadcasts against the input (numpy rules): one slope, or one per channel."""
    return _prelu(ctx, legacy=False)


def _prelu(ctx: NodeContext, legacy: bool):
    x = ctx.value(0)
    slope = ctx.constant(1, "the slope")
    if x is None or slope is None:
        return None
    shape = ctx.ir_shape(x)
    if slope.size == 1:
        return ctx.add("prelu", [x], {"num_parameters": 1}, {"slope": slope.reshape(1)},
                       sources={"slope": ctx.source(1)})
    channels = shape[1] if len(shape) > 1 else None
    if legacy and slope.ndim == 1 and slope.size == channels:
        full = slope.reshape(1, -1, *([1] * (len(shape) - 2)))
    else:
        full = slope.reshape((1,) * (len(shape) - slope.ndim) + slope.shape) if slope.ndim <= len(shape) else slope
    wide = [axis for axis, size in enumerate(full.shape) if size != 1]
    if full.ndim != len(shape) or wide != [1] or full.shape[1] != channels:
        return ctx.unsupported(f"the slope must be one value or one per channel (axis 1). Expected shape [1] or "
                               f"one broadcasting as [{channels}, 1, ...]. Received: slope shape={list(slope.shape)}, "
                               f"input shape={list(shape)}")
    return ctx.add("prelu", [x], {"num_parameters": int(channels)}, {"slope": full.reshape(-1)},
                   sources={"slope": ctx.source(1)})

