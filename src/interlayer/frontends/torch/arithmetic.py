"""Element-wise arithmetic and math: add/sub (with ``alpha``), mul, div (true and floor), pow, neg, reciprocal,
rsqrt, floor division and remainder, maximum/minimum, and the unary functions (exp, log, sqrt, abs, sign, erf,
floor, ceil, sin, cos, and their aliases: ``absolute``, ``special_erf``...), ``lerp``. Operands are promoted as
torch promotes them and constants stay constants (``operands.py``)."""
from __future__ import annotations

import numpy as np
import torch

from ...registry import register
from . import patterns
from .context import Call
from .operands import as_dtype, binary, computing_dtype, constant_array, with_constant

aten = torch.ops.aten


@register("torch", "frontend", aten.add, aten.sub, aten.rsub)
def add_or_sub(ctx: Call):
    left, right = ctx.arg(0, "self"), ctx.arg(1, "other")
    alpha = ctx.literal(ctx.arg(2, "alpha", 1))
    if ctx.op == "rsub":
        left, right = right, left
    op = "add" if ctx.op == "add" else "sub"
    dtype = computing_dtype(ctx, *(a for a in (left, right) if hasattr(a, "meta") or isinstance(a, (int, float))))
    if alpha != 1:
        array = constant_array(ctx, right, dtype)
        if array is None:
            scaled = ctx.add("mul", [as_dtype(ctx, right, dtype)], {"constant": True},
                             {"other": np.asarray(alpha, dtype=dtype)}, role="alpha")
            return ctx.add(op, [as_dtype(ctx, left, dtype), scaled])
        if array.ndim == 0:
            return binary(ctx, op, left, float(array * alpha), dtype)
        if constant_array(ctx, left, dtype) is not None:  # both constant: a tensor of constants
            return binary(ctx, op, left, right, dtype)
        scaled = np.asarray(array * np.asarray(alpha, dtype=array.dtype), dtype=array.dtype)
        return with_constant(ctx, op, as_dtype(ctx, left, dtype), scaled, first=False)
    return binary(ctx, op, left, right, dtype)


@register("torch", "frontend", aten.mul, aten.multiply)
def mul(ctx: Call):
    found = patterns.recognised(ctx)
    if found is not None:
        return found
    return binary(ctx, "mul", ctx.arg(0, "self"), ctx.arg(1, "other"))


@register("torch", "frontend", aten.div, aten.divide, aten.true_divide)
def div(ctx: Call):
    found = patterns.recognised(ctx)
    if found is not None:
        return found
    left, right = ctx.arg(0, "self"), ctx.arg(1, "other")
    mode = ctx.literal(ctx.arg(None, "rounding_mode", None)) if ctx.overload.endswith("mode") else None
    if mode == "floor":
        return binary(ctx, "floor_div", left, right, ctx.dtype())
    if mode == "trunc":
        return _truncated_division(ctx, left, right)
    return binary(ctx, "div", left, right, ctx.dtype())


def _truncated_division(ctx: Call, left, right) -> str:
    """C's division toward zero: the floor division of the magnitudes, with the quotient's sign."""
    dtype = ctx.dtype()
    if np.dtype(dtype).kind not in "iu":
        quotient = binary(ctx, "div", left, right, dtype, role="quotient")
        magnitude = ctx.add("abs", [quotient], role="magnitude")
        floored = ctx.add("floor", [magnitude], role="floored")
        sign = ctx.add("sign", [quotient], role="sign")
        return ctx.add("mul", [floored, sign])
    return ctx.unsupported("integer division toward zero (rounding_mode='trunc') of integers. Expected "
                           "rounding_mode='floor' or None")


@register("torch", "frontend", aten.pow)
def power(ctx: Call):
    base, exponent = ctx.arg(0, "self"), ctx.arg(1, "exponent")
    if ctx.overload == "Tensor_Scalar" and exponent == 2:
        value = as_dtype(ctx, base, ctx.dtype())
        return ctx.add("mul", [value, value])
    return binary(ctx, "pow", base, exponent, ctx.dtype())


@register("torch", "frontend", aten.floor_divide)
def floor_divide(ctx: Call):
    return binary(ctx, "floor_div", ctx.arg(0, "self"), ctx.arg(1, "other"), ctx.dtype())


@register("torch", "frontend", aten.remainder)
def remainder(ctx: Call):
    return binary(ctx, "mod", ctx.arg(0, "self"), ctx.arg(1, "other"), ctx.dtype())


@register("torch", "frontend", aten.reciprocal)
def reciprocal(ctx: Call):
    dtype = ctx.dtype()
    return ctx.add("div", [as_dtype(ctx, ctx.arg(0), dtype)], {"constant": True, "constant_first": True},
                   {"other": np.asarray(1, dtype=dtype)})


@register("torch", "frontend", aten.rsqrt)
def rsqrt(ctx: Call):
    root = ctx.add("sqrt", [ctx.tensor(ctx.arg(0))], role="sqrt")
    return ctx.add("div", [root], {"constant": True, "constant_first": True},
                   {"other": np.asarray(1, dtype=ctx.dtype())})


@register("torch", "frontend", aten.maximum, aten.minimum, aten.fmax, aten.fmin)
def extremum(ctx: Call):
    op = "maximum" if ctx.op in ("maximum", "fmax") else "minimum"
    left, right = ctx.arg(0, "self"), ctx.arg(1, "other")
    dtype = ctx.dtype()
    values = [as_dtype(ctx, arg, dtype, role) for arg, role in ((left, "left"), (right, "right"))]
    ranks = [ctx.rank(left), ctx.rank(right)]
    if ranks[0] != ranks[1]:
        rank = max(ranks)
        values = [value if r == rank else ctx.add("reshape", [value], {"shape": [1] * (rank - r) + list(
            ctx.shape(arg))}, role=f"rank_{index}") for index, (value, r, arg) in enumerate(zip(values, ranks,
                                                                                               (left, right)))]
    return ctx.add(op, values)


_UNARY = {aten.exp: "exp", aten.log: "log", aten.sqrt: "sqrt", aten.abs: "abs", aten.neg: "neg", aten.sign: "sign",
          aten.erf: "erf", aten.floor: "floor", aten.ceil: "ceil", aten.sin: "sin", aten.cos: "cos",
          aten.absolute: "abs", aten.negative: "neg", aten.special_erf: "erf", aten.sgn: "sign"}


def _unary(op: str):
    def convert(ctx: Call):
        dtype = ctx.dtype()
        return ctx.add(op, [as_dtype(ctx, ctx.arg(0), dtype)])

    convert.__name__ = op
    return convert


for _packet, _op in _UNARY.items():
    register("torch", "frontend", _packet)(_unary(_op))


@register("torch", "frontend", aten.lerp)
def lerp(ctx: Call):
    """``start + weight * (end - start)``, as torch computes it for weights below 0.5 (``torch.lerp`` switches to
    ``end - (1 - weight) * (end - start)`` above, which rounds differently by an ulp)."""
    start, end, weight = ctx.arg(0, "self"), ctx.arg(1, "end"), ctx.arg(2, "weight")
    dtype = ctx.dtype()
    span = binary(ctx, "sub", end, start, dtype, role="span")
    scalar = constant_array(ctx, weight, dtype)
    if scalar is not None and scalar.ndim == 0:
        step = ctx.add("mul", [span], {"constant": True}, {"other": scalar}, role="step")
    else:
        step = ctx.add("mul", [span, as_dtype(ctx, weight, dtype, "weight")], role="step")
    return ctx.add("add", [as_dtype(ctx, start, dtype, "start"), step])


@register("torch", "frontend", aten.square)
def square(ctx: Call):
    value = as_dtype(ctx, ctx.arg(0), ctx.dtype())
    return ctx.add("mul", [value, value])
