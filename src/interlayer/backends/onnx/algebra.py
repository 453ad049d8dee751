"""Arithmetic, matmul, reductions, stack and split as ONNX operators (numpy broadcasting is ONNX's too).

A constant operand is the initializer ``<node>.other`` (0-d for a scalar), on the left with ``constant_first``,
in its own dtype: integer operands are computed in integers, as numpy computes them (true division in floats).
An n-ary add is a chain of Adds folded from the left, as the reference sums.

floor_div and mod follow numpy. On integers, ONNX's Mod with ``fmod=0`` is Python's ``%`` (the sign of the
divisor) and ``a // b`` is ``(a - a % b) / b``, an exact division. On floats, Mod needs ``fmod=1`` (C's fmod, the
sign of the dividend, exact); numpy's ``%`` adds the divisor to a remainder of the other sign, and numpy's ``//``
is ``(a - fmod(a, b)) / b``, one less where the remainder was moved, rounded to the integer it is within rounding
of (``a / b`` floored could round up across an integer: 1 // 0.1 is 9, floor(1 / 0.1) is 10); a division by zero
gives ``a / b``.
"""
from __future__ import annotations

import numpy as np

from ...registry import register
from .context import BOOL, INT64, Step, is_float

_BINARY = {"sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "matmul": "MatMul"}
_REDUCTIONS = {"reduce_mean": "ReduceMean", "reduce_sum": "ReduceSum", "reduce_max": "ReduceMax",
               "reduce_min": "ReduceMin"}
_INTEGER_REDUCTIONS = (np.dtype(np.int32), np.dtype(np.int64))
"""the integer dtypes onnxruntime reduces as they are (a mean is a float)"""


def operands(ctx: Step, floats: bool = False) -> list[str]:
    """The inputs, or the input and the constant in their order, in one dtype (``Step.common``); bools, which
    ONNX's arithmetic does not take, as int64."""
    values = [ctx.raw(index) for index in range(len(ctx.node.inputs))]
    if ctx.attrs["constant"]:
        other = ctx.weight("other", cast=False)
        values = [other, values[0]] if ctx.attrs.get("constant_first") else [values[0], other]
    return [ctx.cast(value, INT64) if ctx.dtype_of(value) == BOOL else value
            for value in ctx.common(values, floats)]


@register("onnx", "backend", "add")
def add(ctx: Step, node):
    total, *rest = operands(ctx)
    for value in rest:
        total = ctx.op("Add", [total, value])
    return total


@register("onnx", "backend", *_BINARY)
def binary(ctx: Step, node):
    return ctx.op(_BINARY[node.op], operands(ctx, floats=node.op == "div"))


@register("onnx", "backend", "mod")
def mod(ctx: Step, node):
    a, b = operands(ctx)
    if not is_float(ctx.dtype_of(a)):
        return ctx.op("Mod", [a, b], fmod=0)
    remainder, moved = _fmod(ctx, a, b)
    return ctx.op("Where", [moved, ctx.op("Add", [remainder, b]), remainder], dtype=ctx.dtype_of(a))


@register("onnx", "backend", "floor_div")
def floor_div(ctx: Step, node):
    a, b = operands(ctx)
    if not is_float(ctx.dtype_of(a)):
        return ctx.op("Div", [ctx.op("Sub", [a, ctx.op("Mod", [a, b], fmod=0)]), b])
    remainder, moved = _fmod(ctx, a, b)
    quotient = ctx.op("Div", [ctx.op("Sub", [a, remainder]), b])
    quotient = ctx.op("Round", [ctx.op("Sub", [quotient, ctx.cast(moved, ctx.dtype_of(a))])])
    by_zero = ctx.op("Equal", [b, ctx.const(0.0, ctx.dtype_of(b), "zero")], dtype=BOOL)
    return ctx.op("Where", [by_zero, ctx.op("Div", [a, b]), quotient], dtype=ctx.dtype_of(a))


def _fmod(ctx: Step, a: str, b: str) -> tuple[str, str]:
    """C's fmod(a, b) and where numpy's remainder differs from it: nonzero, of the other sign than b."""
    remainder = ctx.op("Mod", [a, b], fmod=1)
    zero = ctx.const(0.0, ctx.dtype_of(a), "zero")
    signs = ctx.op("Xor", [ctx.op("Less", [remainder, zero], dtype=BOOL), ctx.op("Less", [b, zero], dtype=BOOL)])
    nonzero = ctx.op("Not", [ctx.op("Equal", [remainder, zero], dtype=BOOL)])
    return remainder, ctx.op("And", [nonzero, signs], suffix="moved")


@register("onnx", "backend", *_REDUCTIONS)
def reduce(ctx: Step, node):
    x = ctx.raw()
    if node.op == "reduce_mean" or ctx.dtype_of(x) not in _INTEGER_REDUCTIONS:
        x = ctx.input()
    return ctx.reduce(_REDUCTIONS[node.op], x, ctx.attrs["axes"], ctx.attrs["keepdims"])


@register("onnx", "backend", "stack")
def stack(ctx: Step, node):
    axis = ctx.attrs["axis"]
    return ctx.concat([ctx.unsqueeze(value, [axis]) for value in ctx.common(ctx.raws)], axis)


@register("onnx", "backend", "split")
def split(ctx: Step, node):
    return ctx.split(ctx.raw(), ctx.attrs["sizes"], ctx.attrs["axis"])
