"""Comparisons and logic as Equal, Less, LessOrEqual, Greater, GreaterOrEqual, And, Or, Xor and Not.

Operands are compared in the dtype numpy would compare them in (``Step.common``: integers as integers); ONNX
orders numbers only, so bools are compared as int64 by the ordering comparisons. The logical ops read any operand
as numpy does, nonzero as True (a Cast to bool).
"""
from __future__ import annotations

from ...registry import register
from .context import BOOL, INT64, Step

_ORDERED = {"less": "Less", "less_equal": "LessOrEqual", "greater": "Greater", "greater_equal": "GreaterOrEqual"}
_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


def _operands(ctx: Step) -> list[str]:
    values = ctx.raws
    if ctx.attrs["constant"]:
        other = ctx.weight("other", cast=False)
        values = [other, values[0]] if ctx.attrs.get("constant_first") else [values[0], other]
    return values


@register("onnx", "backend", "equal", "not_equal")
def equal(ctx: Step, node):
    same = ctx.op("Equal", ctx.common(_operands(ctx)), dtype=BOOL)
    return same if node.op == "equal" else ctx.op("Not", [same])


@register("onnx", "backend", *_ORDERED)
def ordered(ctx: Step, node):
    values = [ctx.cast(value, INT64) if ctx.dtype_of(value) == BOOL else value for value in _operands(ctx)]
    return ctx.op(_ORDERED[node.op], ctx.common(values), dtype=BOOL)


@register("onnx", "backend", *_LOGICAL)
def logical(ctx: Step, node):
    return ctx.op(_LOGICAL[node.op], [ctx.cast(value, BOOL) for value in _operands(ctx)])


@register("onnx", "backend", "logical_not")
def logical_not(ctx: Step, node):
    return ctx.op("Not", [ctx.cast(ctx.raw(), BOOL)])
