"""Arithmetic, matmul, reductions, stack and split as ONNX operators (numpy broadcasting is ONNX's too).

A constant operand is the initializer ``<node>.other`` (0-d for a scalar), on the left with ``constant_first``.
An n-ary add is a chain of Adds folded from the left, as the reference sums.
"""
from __future__ import annotations

from ...registry import register
from .context import Step

_BINARY = {"sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "matmul": "MatMul"}
_REDUCTIONS = {"reduce_mean": "ReduceMean", "reduce_sum": "ReduceSum", "reduce_max": "ReduceMax"}


def operands(ctx: Step) -> list[str]:
    """The inputs, or the input and the constant in their order."""
    if not ctx.attrs["constant"]:
        return ctx.inputs
    other = ctx.weight("other")
    return [other, ctx.input()] if ctx.attrs.get("constant_first") else [ctx.input(), other]


@register("onnx", "backend", "add")
def add(ctx: Step, node):
    total, *rest = operands(ctx)
    for value in rest:
        total = ctx.op("Add", [total, value])
    return total


@register("onnx", "backend", *_BINARY)
def binary(ctx: Step, node):
    return ctx.op(_BINARY[node.op], operands(ctx))


@register("onnx", "backend", *_REDUCTIONS)
def reduce(ctx: Step, node):
    return ctx.reduce(_REDUCTIONS[node.op], ctx.input(), ctx.attrs["axes"], ctx.attrs["keepdims"])


@register("onnx", "backend", "stack")
def stack(ctx: Step, node):
    axis = ctx.attrs["axis"]
    return ctx.concat([ctx.unsqueeze(value, [axis]) for value in ctx.inputs], axis)


@register("onnx", "backend", "split")
def split(ctx: Step, node):
    return ctx.split(ctx.raw(), ctx.attrs["sizes"], ctx.attrs["axis"])
