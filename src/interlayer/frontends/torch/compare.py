"""Comparisons (bool results), logic on bool tensors (torch's bitwise operators on bools are logic), ``where``
with two tensors (``select``) or a constant (a masked fill), and ``masked_fill``."""
from __future__ import annotations

import numpy as np
import torch

from ...registry import register
from .context import Call
from .operands import as_dtype, binary, computing_dtype, constant_array

aten = torch.ops.aten

_COMPARE = {aten.eq: "equal", aten.ne: "not_equal", aten.lt: "less", aten.le: "less_equal", aten.gt: "greater",
            aten.ge: "greater_equal"}
_LOGIC = {aten.logical_and: "logical_and", aten.logical_or: "logical_or", aten.logical_xor: "logical_xor",
          aten.bitwise_and: "logical_and", aten.bitwise_or: "logical_or", aten.bitwise_xor: "logical_xor",
          aten.__and__: "logical_and", aten.__or__: "logical_or", aten.__xor__: "logical_xor"}


def _comparison(op: str):
    def convert(ctx: Call):
        left, right = ctx.arg(0, "self"), ctx.arg(1, "other")
        return binary(ctx, op, left, right, computing_dtype(ctx, left, right))

    convert.__name__ = op
    return convert


def _logic(op: str):
    def convert(ctx: Call):
        left, right = ctx.arg(0, "self"), ctx.arg(1, "other")
        if ctx.dtype() != "bool":
            return ctx.unsupported(f"bitwise arithmetic on {ctx.dtype()} tensors. Expected bool tensors (logic)")
        return binary(ctx, op, left, right, "bool")

    convert.__name__ = op
    return convert


for _packet, _op in _COMPARE.items():
    register("torch", "frontend", _packet)(_comparison(_op))
for _packet, _op in _LOGIC.items():
    register("torch", "frontend", _packet)(_logic(_op))


@register("torch", "frontend", aten.logical_not, aten.bitwise_not)
def logical_not(ctx: Call):
    if ctx.op == "bitwise_not" and ctx.dtype() != "bool":
        return ctx.unsupported(f"bitwise not of {ctx.dtype()} tensors. Expected bool tensors (logic)")
    return ctx.add("logical_not", [as_dtype(ctx, ctx.arg(0), "bool")])


@register("torch", "frontend", aten.where)
def where(ctx: Call):
    """``torch.where(condition, a, b)``: a ``select``; a constant scalar branch is a masked fill."""
    condition, a, b = ctx.arg(0, "condition"), ctx.arg(1, "self"), ctx.arg(2, "other")
    dtype = ctx.dtype()
    mask = as_dtype(ctx, condition, "bool", "condition")
    for fill, kept, flip in ((b, a, True), (a, b, False)):
        scalar = constant_array(ctx, fill, dtype)
        if scalar is not None and scalar.ndim == 0 and not _is_constant(ctx, kept) and np.dtype(dtype).kind == "f":
            selected = ctx.add("logical_not", [mask], role="kept") if flip else mask
            value = as_dtype(ctx, kept, dtype, "value")
            return _fill(ctx, value, selected, float(scalar))
    return ctx.add("select", [mask, _operand(ctx, a, dtype, "a"), _operand(ctx, b, dtype, "b")])


def _is_constant(ctx: Call, arg) -> bool:
    return isinstance(arg, (bool, int, float)) or ctx.is_const(arg)


def _operand(ctx: Call, arg, dtype: str, role: str) -> str:
    if isinstance(arg, (bool, int, float)):
        return ctx.add("full", [], {"shape": [], "value": float(arg), "dtype": dtype}, role=role)
    return as_dtype(ctx, arg, dtype, role)


def _fill(ctx: Call, value: str, mask: str, fill: float) -> str:
    """``value`` with ``fill`` where ``mask``: the IR's ``where`` (the mask broadcast to the value's shape)."""
    return ctx.add("where", [value, mask], {"value": fill})


@register("torch", "frontend", aten.masked_fill)
def masked_fill(ctx: Call):
    x, mask, fill = ctx.arg(0, "self"), ctx.arg(1, "mask"), ctx.arg(2, "value")
    dtype = ctx.dtype()
    scalar = constant_array(ctx, fill, dtype)
    if scalar is None or scalar.ndim != 0:
        return ctx.add("select", [as_dtype(ctx, mask, "bool", "mask"), _operand(ctx, fill, dtype, "fill"),
                                  as_dtype(ctx, x, dtype)])
    if np.dtype(dtype).kind != "f":
        fill_value = ctx.add("full", [], {"shape": [], "value": float(scalar), "dtype": dtype}, role="fill")
        return ctx.add("select", [as_dtype(ctx, mask, "bool", "mask"), fill_value, ctx.tensor(x)])
    return _fill(ctx, as_dtype(ctx, x, dtype), as_dtype(ctx, mask, "bool", "mask"), float(scalar))
