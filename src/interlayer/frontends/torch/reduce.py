"""Reductions and scans: mean, sum, amax/amin, max/min along a dim (values and positions), argmax/argmin,
cumsum, vector norms (any order), variance and standard deviation (written out), any/all of bools."""
from __future__ import annotations

import math

import numpy as np
import torch

from ...registry import register
from .context import Call
from .operands import as_dtype

aten = torch.ops.aten


def _axes(ctx: Call, dims, rank: int) -> list[int]:
    if dims is None or dims == []:
        return list(range(rank))
    dims = [dims] if isinstance(dims, int) else list(dims)
    return sorted({int(d) % rank for d in dims})


def _reduce(ctx: Call, op: str, x, dims, keepdim: bool, dtype: str | None = None, role: str | None = None) -> str:
    rank = ctx.rank(x)
    value = as_dtype(ctx, x, dtype or ctx.dtype(), "cast") if dtype or ctx.dtype() != ctx.dtype(x) else ctx.tensor(x)
    if rank == 0:
        return ctx.add("identity", [value], role=role)
    return ctx.add(op, [value], {"axes": _axes(ctx, dims, rank), "keepdims": bool(keepdim)}, role=role)


@register("torch", "frontend", aten.mean, aten.sum, aten.amax, aten.amin)
def reduce(ctx: Call):
    x = ctx.arg(0)
    dims = ctx.literal(ctx.arg(1, "dim", None)) if len(ctx.node.args) > 1 or "dim" in ctx.node.kwargs else None
    keepdim = ctx.literal(ctx.arg(2, "keepdim", False)) if dims is not None else False
    op = {"mean": "reduce_mean", "sum": "reduce_sum", "amax": "reduce_max", "amin": "reduce_min"}[ctx.op]
    if ctx.op == "sum" and ctx.dtype(x) == "bool":
        return _reduce(ctx, op, x, dims, keepdim, ctx.dtype())
    return _reduce(ctx, op, x, dims, keepdim)


@register("torch", "frontend", aten.max, aten.min)
def extreme_along(ctx: Call):
    """``x.max(dim)``: values and positions; ``x.max()`` of every element; ``max(x, y)``: the element-wise one."""
    x = ctx.arg(0)
    op = "reduce_max" if ctx.op == "max" else "reduce_min"
    if ctx.overload == "other":
        return ctx.add("maximum" if ctx.op == "max" else "minimum", [ctx.tensor(x), ctx.tensor(ctx.arg(1))])
    if ctx.overload == "default":
        return _reduce(ctx, op, x, None, False)
    dim, keepdim = ctx.literal(ctx.arg(1, "dim")), ctx.literal(ctx.arg(2, "keepdim", False))
    axis = ctx.axis(dim)
    values = _reduce(ctx, op, x, [axis], keepdim, role="values")
    positions = ctx.add("argmax" if ctx.op == "max" else "argmin", [ctx.tensor(x)],
                        {"axis": axis, "keepdims": bool(keepdim)})
    return [values, positions]


@register("torch", "frontend", aten.argmax, aten.argmin)
def search(ctx: Call):
    x, dim = ctx.arg(0), ctx.literal(ctx.arg(1, "dim", None))
    keepdim = ctx.literal(ctx.arg(2, "keepdim", False))
    value = ctx.tensor(x)
    if dim is None:
        value = ctx.add("reshape", [value], {"shape": [-1]}, role="flat")
        dim = 0
    axis = int(dim) % max(ctx.rank(x), 1)
    return ctx.add(ctx.op, [value], {"axis": axis, "keepdims": bool(keepdim)})


@register("torch", "frontend", aten.cumsum)
def cumsum(ctx: Call):
    x, dim = ctx.arg(0), ctx.literal(ctx.arg(1, "dim"))
    dtype = ctx.dtype()
    value = ctx.tensor(x) if ctx.dtype(x) in (dtype, "bool") and not (ctx.dtype(x) == "bool" and dtype != "int64") \
        else as_dtype(ctx, x, dtype)
    return ctx.add("cumsum", [value], {"axis": ctx.axis(dim)})


@register("torch", "frontend", aten.linalg_vector_norm, aten.norm)
def vector_norm(ctx: Call):
    """``(sum |x|^p)^(1/p)`` over the dims: order 2 as a square root of squares, 1 a sum of magnitudes, inf and
    -inf the largest and smallest magnitude, 0 the count of nonzero entries, any other order written out."""
    x = ctx.arg(0)
    order = ctx.literal(ctx.arg(1, "ord" if ctx.op == "linalg_vector_norm" else "p", 2))
    order = 2.0 if order is None else float(order)
    dims_ = ctx.literal(ctx.arg(2, "dim", None))
    keepdim = bool(ctx.literal(ctx.arg(3, "keepdim", False)))
    if ctx.op == "linalg_vector_norm" and ctx.literal(ctx.arg(None, "dtype", None)) is not None \
            or ctx.dtype(x) != ctx.dtype():
        value = as_dtype(ctx, x, ctx.dtype())
    else:
        value = ctx.tensor(x)
    reduced = {"axes": _axes(ctx, dims_, ctx.rank(x)), "keepdims": keepdim}
    if order == 2:
        squares = ctx.add("mul", [value, value], role="squares")
        total = ctx.add("reduce_sum", [squares], reduced, role="sum")
        return ctx.add("sqrt", [total])
    if order == 0:
        nonzero = ctx.add("not_equal", [value], {"constant": True}, {"other": np.asarray(0, dtype=ctx.dtype())},
                          role="nonzero")
        counted = ctx.add("cast", [nonzero], {"dtype": ctx.dtype()}, role="counted")
        return ctx.add("reduce_sum", [counted], reduced)
    magnitude = ctx.add("abs", [value], role="abs")
    if math.isinf(order):
        return ctx.add("reduce_max" if order > 0 else "reduce_min", [magnitude], reduced)
    if order == 1:
        return ctx.add("reduce_sum", [magnitude], reduced)
    exponent = np.asarray(order, dtype=ctx.dtype())
    powers = ctx.add("pow", [magnitude], {"constant": True}, {"other": exponent}, role="powers")
    total = ctx.add("reduce_sum", [powers], reduced, role="sum")
    return ctx.add("pow", [total], {"constant": True}, {"other": np.asarray(1.0 / order, dtype=ctx.dtype())})


@register("torch", "frontend", aten.var, aten.std)
def variance(ctx: Call):
    """``mean((x - mean(x))^2) * n / (n - correction)`` over the dims; its square root for ``std``."""
    x = ctx.arg(0)
    if ctx.overload == "default":  # (self, unbiased=True)
        dims, keepdim = None, False
        correction = 1 if ctx.literal(ctx.arg(1, "unbiased", True)) else 0
    elif ctx.overload == "dim":  # (self, dim, unbiased=True, keepdim=False)
        dims, keepdim = ctx.literal(ctx.arg(1, "dim", None)), bool(ctx.literal(ctx.arg(3, "keepdim", False)))
        correction = 1 if ctx.literal(ctx.arg(2, "unbiased", True)) else 0
    else:  # (self, dim=None, *, correction=None, keepdim=False): no correction given is 1
        dims, keepdim = ctx.literal(ctx.arg(1, "dim", None)), bool(ctx.literal(ctx.arg(None, "keepdim", False)))
        correction = ctx.literal(ctx.arg(None, "correction", None))
        correction = 1 if correction is None else correction
    rank, value, dtype = ctx.rank(x), ctx.tensor(x), ctx.dtype()
    axes = _axes(ctx, dims, rank)
    sizes = [ctx.shape(x)[axis] for axis in axes]
    mean = ctx.add("reduce_mean", [value], {"axes": axes, "keepdims": True}, role="mean")
    centred = ctx.add("sub", [value, mean], role="centred")
    squares = ctx.add("mul", [centred, centred], role="squares")
    last = ctx.op == "var"
    if not correction:
        result = ctx.add("reduce_mean", [squares], {"axes": axes, "keepdims": keepdim}, role=None if last else "var")
    elif all(isinstance(size, int) for size in sizes):
        count = math.prod(sizes)
        result = ctx.add("reduce_mean", [squares], {"axes": axes, "keepdims": keepdim}, role="biased")
        factor = np.asarray(count / max(count - correction, 1), dtype)
        result = ctx.add("mul", [result], {"constant": True}, {"other": factor}, role=None if last else "var")
    else:  # the count is a generic size: sum / (count - correction), the count summed from ones of those sizes
        total = ctx.add("reduce_sum", [squares], {"axes": axes, "keepdims": keepdim}, role="sum")
        ones = ctx.add("full", [], {"shape": sizes, "value": 1.0, "dtype": dtype}, role="ones")
        count = ctx.add("reduce_sum", [ones], {"axes": list(range(len(sizes))), "keepdims": False}, role="count")
        divisor = ctx.add("sub", [count], {"constant": True}, {"other": np.asarray(correction, dtype)},
                          role="divisor")
        result = ctx.add("div", [total, divisor], role=None if last else "var")
    return result if last else ctx.add("sqrt", [result])


@register("torch", "frontend", aten.any, aten.all)
def any_or_all(ctx: Call):
    """Of bools: ``any`` is a max, ``all`` a min, of the values as integers."""
    x = ctx.arg(0)
    dims = ctx.literal(ctx.arg(1, "dim", None)) if len(ctx.node.args) > 1 else None
    keepdim = ctx.literal(ctx.arg(2, "keepdim", False)) if dims is not None else False
    as_int = as_dtype(ctx, x, "int32", "int") if ctx.dtype(x) != "int32" else ctx.tensor(x)
    op = "reduce_max" if ctx.op == "any" else "reduce_min"
    if ctx.rank(x) == 0:
        return ctx.add("cast", [as_int], {"dtype": "bool"})
    reduced = ctx.add(op, [as_int], {"axes": _axes(ctx, dims, ctx.rank(x)), "keepdims": bool(keepdim)},
                      role="reduced")
    return ctx.add("cast", [reduced], {"dtype": "bool"})


@register("torch", "frontend", aten.logsumexp)
def logsumexp(ctx: Call):
    """``log(sum(exp(x)))`` over the dims, computed stably: the largest value taken out first."""
    x = ctx.arg(0)
    axes = _axes(ctx, ctx.literal(ctx.arg(1, "dim", None)), ctx.rank(x))
    keepdim = bool(ctx.literal(ctx.arg(2, "keepdim", False)))
    value = as_dtype(ctx, x, ctx.dtype())
    peak = ctx.add("reduce_max", [value], {"axes": axes, "keepdims": True}, role="peak")
    shifted = ctx.add("sub", [value, peak], role="shifted")
    powers = ctx.add("exp", [shifted], role="exp")
    total = ctx.add("reduce_sum", [powers], {"axes": axes, "keepdims": keepdim}, role="sum")
    logged = ctx.add("log", [total], role="log")
    if not keepdim:
        peak = ctx.add("reshape", [peak], {"shape": list(ctx.shape())}, role="peak_kept")
    return ctx.add("add", [logged, peak])
