"""Reductions and scans: mean, sum, amax/amin, max/min along a dim (values and positions), argmax/argmin,
cumsum, vector norms (orders 2, 1 and inf), variance and standard deviation (written out), any/all of bools."""
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
    x = ctx.arg(0)
    order = ctx.literal(ctx.arg(1, "ord" if ctx.op == "linalg_vector_norm" else "p", 2))
    dims = ctx.literal(ctx.arg(2, "dim", None))
    keepdim = ctx.literal(ctx.arg(3, "keepdim", False))
    value = ctx.tensor(x)
    if order in (float("inf"),):
        magnitude = ctx.add("abs", [value], role="abs")
        return ctx.add("reduce_max", [magnitude], {"axes": _axes(ctx, dims, ctx.rank(x)), "keepdims": bool(keepdim)})
    if order == 1:
        magnitude = ctx.add("abs", [value], role="abs")
        return ctx.add("reduce_sum", [magnitude], {"axes": _axes(ctx, dims, ctx.rank(x)), "keepdims": bool(keepdim)})
    if order != 2:
        return ctx.unsupported(f"a vector norm of order {order}. Expected order 2, 1 or inf")
    squares = ctx.add("mul", [value, value], role="squares")
    total = ctx.add("reduce_sum", [squares], {"axes": _axes(ctx, dims, ctx.rank(x)), "keepdims": bool(keepdim)},
                    role="sum")
    return ctx.add("sqrt", [total])


@register("torch", "frontend", aten.var, aten.std)
def variance(ctx: Call):
    """``mean((x - mean(x))^2) * n / (n - correction)`` over the dims; its square root for ``std``."""
    x = ctx.arg(0)
    dims = ctx.literal(ctx.arg(1, "dim", None))
    correction = ctx.literal(ctx.arg(None, "correction", None))
    if ctx.overload in ("default", "dim") and correction is None:
        unbiased = ctx.literal(ctx.arg(None, "unbiased", True)) if ctx.overload == "dim" else ctx.literal(
            ctx.arg(1, "unbiased", True))
        correction = 1 if unbiased else 0
        if ctx.overload == "default":
            dims = None
    keepdim = bool(ctx.literal(ctx.arg(None, "keepdim", False)))
    rank, value = ctx.rank(x), ctx.tensor(x)
    axes = _axes(ctx, dims, rank)
    sizes = [ctx.shape(x)[axis] for axis in axes]
    if any(not isinstance(size, int) for size in sizes):
        return ctx.unsupported("a variance over an axis whose size is not fixed. Expected static sizes")
    count = math.prod(sizes)
    mean = ctx.add("reduce_mean", [value], {"axes": axes, "keepdims": True}, role="mean")
    centred = ctx.add("sub", [value, mean], role="centred")
    squares = ctx.add("mul", [centred, centred], role="squares")
    result = ctx.add("reduce_mean", [squares], {"axes": axes, "keepdims": keepdim}, role="biased")
    if correction:
        factor = np.asarray(count / max(count - correction, 1), np.float32)
        result = ctx.add("mul", [result], {"constant": True}, {"other": factor},
                         role=None if ctx.op == "var" else "unbiased")
    return ctx.add("sqrt", [result]) if ctx.op == "std" else result


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
