"""Activations, each with its parameters explicit: ReLU (and ReLU6, Hardtanh, clamp as ``clip``), leaky ReLU,
ELU, SELU, GELU (exact or tanh), SiLU, sigmoid, tanh, hard sigmoid and hard swish (1/6, 1/2), Mish, softplus
(with PyTorch's threshold), softmax and log-softmax along an axis, hard and soft shrink."""
from __future__ import annotations

import numpy as np
import torch

from ...registry import register
from .context import Call

aten = torch.ops.aten

_PLAIN = {aten.relu: "relu", aten.silu: "silu", aten.sigmoid: "sigmoid", aten.tanh: "tanh", aten.mish: "mish",
          aten.hardswish: "hard_swish", aten.selu: "selu"}


def _plain(op: str):
    def convert(ctx: Call):
        return ctx.add(op, [ctx.tensor(ctx.arg(0))])

    convert.__name__ = op
    return convert


for _packet, _op in _PLAIN.items():
    register("torch", "frontend", _packet)(_plain(_op))


@register("torch", "frontend", aten.gelu)
def gelu(ctx: Call):
    approximate = ctx.literal(ctx.arg(1, "approximate", "none"))
    return ctx.add("gelu", [ctx.tensor(ctx.arg(0))], {"approximate": approximate})


@register("torch", "frontend", aten.leaky_relu)
def leaky_relu(ctx: Call):
    return ctx.add("leaky_relu", [ctx.tensor(ctx.arg(0))], {"alpha": float(ctx.literal(ctx.arg(1, "negative_slope",
                                                                                                  0.01)))})


@register("torch", "frontend", aten.elu)
def elu(ctx: Call):
    alpha, scale, input_scale = (float(ctx.literal(ctx.arg(i, name, 1.0))) for i, name in
                                 ((1, "alpha"), (2, "scale"), (3, "input_scale")))
    if scale != 1.0 or input_scale != 1.0:
        return ctx.unsupported(f"ELU with scales has no IR equivalent. Expected scale=1 and input_scale=1. "
                               f"Received: scale={scale}, input_scale={input_scale}")
    return ctx.add("elu", [ctx.tensor(ctx.arg(0))], {"alpha": alpha})


@register("torch", "frontend", aten.hardtanh, aten.clamp, aten.clip, aten.relu6, aten.clamp_min, aten.clamp_max)
def clip(ctx: Call):
    x = ctx.arg(0)
    if ctx.op == "relu6":
        low, high = 0.0, 6.0
    elif ctx.op == "hardtanh":
        low, high = ctx.literal(ctx.arg(1, "min_val", -1.0)), ctx.literal(ctx.arg(2, "max_val", 1.0))
    elif ctx.op == "clamp_min":
        low, high = ctx.arg(1), None
    elif ctx.op == "clamp_max":
        low, high = None, ctx.arg(1)
    else:
        low, high = ctx.arg(1, "min", None), ctx.arg(2, "max", None)
    if any(hasattr(bound, "meta") for bound in (low, high)):
        return _clamp_by_tensors(ctx, x, low, high)
    if low == 0 and high is None:
        return ctx.add("relu", [ctx.tensor(x)])
    return ctx.add("clip", [ctx.tensor(x)], {"min": None if low is None else float(low),
                                             "max": None if high is None else float(high)})


def _clamp_by_tensors(ctx: Call, x, low, high) -> str:
    value = ctx.tensor(x)
    for bound, op in ((low, "maximum"), (high, "minimum")):
        if bound is None:
            continue
        other = ctx.tensor(bound) if hasattr(bound, "meta") else ctx.add(
            "full", [], {"shape": [], "value": float(bound), "dtype": ctx.dtype(x)}, role=f"{op}_bound")
        value = ctx.add(op, [value, other], role=op if op == "maximum" and high is not None else None)
    return value


@register("torch", "frontend", aten.hardsigmoid)
def hard_sigmoid(ctx: Call):
    return ctx.add("hard_sigmoid", [ctx.tensor(ctx.arg(0))], {"alpha": 1.0 / 6.0, "beta": 0.5})


@register("torch", "frontend", aten.softplus)
def softplus(ctx: Call):
    beta, threshold = float(ctx.literal(ctx.arg(1, "beta", 1.0))), float(ctx.literal(ctx.arg(2, "threshold", 20.0)))
    if beta != 1.0:
        return ctx.unsupported(f"softplus with beta has no IR equivalent. Expected beta=1. Received: beta={beta}")
    return ctx.add("softplus", [ctx.tensor(ctx.arg(0))], {"threshold": threshold})


@register("torch", "frontend", aten.softmax, aten._softmax, aten.log_softmax, aten._log_softmax)
def softmax(ctx: Call):
    x = ctx.arg(0)
    op = "log_softmax" if "log" in ctx.op else "softmax"
    return ctx.add(op, [ctx.tensor(x)], {"axis": ctx.axis(ctx.literal(ctx.arg(1, "dim")))})


@register("torch", "frontend", aten.hardshrink, aten.softshrink)
def shrink(ctx: Call):
    lambd = float(ctx.literal(ctx.arg(1, "lambd", 0.5)))
    bias = 0.0 if ctx.op == "hardshrink" else lambd
    return ctx.add("shrink", [ctx.tensor(ctx.arg(0))], {"lambd": lambd, "bias": bias})


@register("torch", "frontend", aten.glu)
def glu(ctx: Call):
    """``a * sigmoid(b)`` of the two halves along ``dim``."""
    x = ctx.arg(0)
    axis = ctx.axis(ctx.literal(ctx.arg(1, "dim", -1)))
    size = ctx.shape(x)[axis]
    if not isinstance(size, int):
        return ctx.unsupported("it halves an axis whose size is not fixed. Expected a static size")
    first, second = ctx.add_node("split", [ctx.tensor(x)], {"axis": axis, "sizes": [size // 2, size // 2]},
                                 role="halves")
    gate = ctx.add("sigmoid", [second], role="gate")
    return ctx.add("mul", [first, gate])


@register("torch", "frontend", aten.threshold)
def threshold(ctx: Call):
    """``x if x > threshold else value``: ReLU when both are 0."""
    limit, value = float(ctx.literal(ctx.arg(1))), float(ctx.literal(ctx.arg(2)))
    if limit == 0.0 and value == 0.0:
        return ctx.add("relu", [ctx.tensor(ctx.arg(0))])
    x = ctx.tensor(ctx.arg(0))
    kept = ctx.add("less_equal", [x], {"constant": True}, {"other": np.asarray(limit, np.float32)}, role="kept")
    return ctx.add("where", [x, kept], {"value": value})
