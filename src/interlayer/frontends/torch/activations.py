"""Activations, each with its parameters explicit: ReLU (and ReLU6, Hardtanh, clamp as ``clip``), leaky ReLU
(and RReLU at inference), ELU, SELU, GELU (exact or tanh), SiLU, sigmoid, tanh, hard sigmoid and hard swish
(1/6, 1/2), Mish, softplus (with PyTorch's threshold and beta), log-sigmoid, softmax and log-softmax along an
axis (in the dtype the call asks for), hard and soft shrink.

Written out by Python code, softsign (``x / (1 + |x|)``, ``F.softsign``) and GELU (Hugging Face's
``GELUActivation``, ``NewGELUActivation``, ``FastGELUActivation``... any element-wise formula of one tensor that
computes GELU or its tanh approximation) are recognised back as their IR ops (``patterns.py``)."""
from __future__ import annotations

import math

import numpy as np
import torch

from ...registry import register
from . import patterns
from .context import Call
from .operands import as_dtype

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


@register("torch", "frontend", aten.rrelu)
def rrelu(ctx: Call):
    """RReLU at inference: a leaky ReLU with the mean of its slopes' range (random slopes in training)."""
    lower, upper = (float(ctx.literal(ctx.arg(i, name, default))) for i, name, default in (
        (1, "lower", 1.0 / 8.0), (2, "upper", 1.0 / 3.0)))
    if ctx.literal(ctx.arg(3, "training", False)):
        return ctx.unsupported("RReLU in training mode draws random slopes. Expected training=False (the module "
                               "in eval mode)")
    return ctx.add("leaky_relu", [ctx.tensor(ctx.arg(0))], {"alpha": (lower + upper) / 2.0})


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
    """``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``: the IR's softplus (with the
    threshold) of ``beta * x``, divided by ``beta``."""
    beta, threshold = float(ctx.literal(ctx.arg(1, "beta", 1.0))), float(ctx.literal(ctx.arg(2, "threshold", 20.0)))
    x = ctx.tensor(ctx.arg(0))
    if beta == 1.0:
        return ctx.add("softplus", [x], {"threshold": threshold})
    other = {"other": np.asarray(beta, dtype=ctx.dtype())}
    scaled = ctx.add("mul", [x], {"constant": True}, other, role="scaled")
    curve = ctx.add("softplus", [scaled], {"threshold": threshold}, role="softplus")
    return ctx.add("div", [curve], {"constant": True}, other)


@register("torch", "frontend", aten.log_sigmoid)
def log_sigmoid(ctx: Call):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    flipped = ctx.add("neg", [ctx.tensor(ctx.arg(0))], role="flipped")
    curve = ctx.add("softplus", [flipped], {"threshold": None}, role="softplus")
    return ctx.add("neg", [curve])


@register("torch", "frontend", aten.softmax, aten._softmax, aten.log_softmax, aten._log_softmax)
def softmax(ctx: Call):
    """Along ``dim``, in the dtype the call computes in (``F.softmax(x, dim, dtype=torch.float64)`` casts first)."""
    x = ctx.arg(0)
    op = "log_softmax" if "log" in ctx.op else "softmax"
    return ctx.add(op, [as_dtype(ctx, x, ctx.dtype())], {"axis": ctx.axis(ctx.literal(ctx.arg(1, "dim")))})


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


@patterns.recogniser(aten.div)
def written_softsign(ctx: Call):
    """``x / (1 + |x|)`` (``F.softsign``, ``nn.Softsign``): the IR's softsign."""
    if ctx.overload != "Tensor" or len(ctx.node.args) < 2:
        return None
    x, denominator = ctx.node.args[:2]
    if not patterns.calls(denominator, "add") or patterns.argument(denominator, 2, "alpha", 1) != 1:
        return None
    magnitude, one = denominator.args[:2]
    if patterns.calls(one, "abs"):
        magnitude, one = one, magnitude
    if not (patterns.calls(magnitude, "abs") and magnitude.args[0] is x and patterns.number(ctx, one) == 1.0):
        return None
    return ctx.add("softsign", [ctx.tensor(x)])


_PROBE = np.concatenate([np.linspace(-9.0, 9.0, 721), [-30.0, -15.0, 15.0, 30.0]])
_GELU = {"none": lambda t: 0.5 * t * (1.0 + patterns.erf(t / math.sqrt(2.0))),
         "tanh": lambda t: 0.5 * t * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (t + 0.044715 * t ** 3)))}


@patterns.recogniser(aten.mul)
def written_gelu(ctx: Call):
    """An element-wise formula of one tensor, with a tanh or an erf in it, that computes GELU (exact, or its tanh
    approximation) to within float64 rounding of its constants on [-30, 30]: the IR's gelu of that tensor."""
    if ctx.dtype() not in ("float32", "float64", "float16", "bfloat16"):
        return None
    for root in patterns.single_root(ctx.node):
        value = root.meta.get("val")
        if not hasattr(value, "shape") or value.dtype != ctx.node.meta["val"].dtype \
                or tuple(value.shape) != tuple(ctx.node.meta["val"].shape):
            continue
        function = patterns.formula(ctx, ctx.node, root)
        if function is None:
            continue
        with np.errstate(all="ignore"):
            computed = np.broadcast_to(np.asarray(function(_PROBE), dtype=np.float64), _PROBE.shape)
        for approximate, exact in _GELU.items():
            expected = exact(_PROBE)
            if np.all(np.abs(computed - expected) <= 1e-9 * (1.0 + np.abs(expected))):
                return ctx.add("gelu", [ctx.tensor(root)], {"approximate": approximate})
        return None
    return None
