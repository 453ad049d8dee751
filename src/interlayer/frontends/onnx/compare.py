"""Comparisons and logic: Equal, Less, LessOrEqual, Greater, GreaterOrEqual, And, Or, Xor (a constant operand
becomes the op's weight ``other``, as in arithmetic) and Not.

Before opset 7 the binary ones broadcast the ONNX-1 way (``broadcast=1`` aligns the second operand at ``axis``);
from opset 7 they follow numpy. LessOrEqual and GreaterOrEqual exist from opset 12.
"""
from __future__ import annotations

from dataclasses import replace

from ...registry import register
from .algebra import binary_op
from .context import NodeContext

_COMPARE = {"Equal": "equal", "Less": "less", "LessOrEqual": "less_equal", "Greater": "greater",
            "GreaterOrEqual": "greater_equal", "And": "logical_and", "Or": "logical_or", "Xor": "logical_xor"}


@register("onnx", "frontend", ("Equal", 1), ("Less", 1), ("Greater", 1), ("And", 1), ("Or", 1), ("Xor", 1))
def compare_legacy(ctx: NodeContext, node):
    """Opsets 1-6: ``broadcast=1`` aligns the second operand at ``axis`` (its trailing axes by default)."""
    return binary_op(ctx, _COMPARE[node.op_type], legacy=bool(ctx.attr("broadcast", 0)))


@register("onnx", "frontend", ("Equal", 7), ("Less", 7), ("Greater", 7), ("And", 7), ("Or", 7), ("Xor", 7),
          ("LessOrEqual", 12), ("GreaterOrEqual", 12))
def compare(ctx: NodeContext, node):
    """Opset 7 on: numpy broadcasting."""
    return binary_op(ctx, _COMPARE[node.op_type], legacy=False)


@register("onnx", "frontend", ("Not", 1))
def logical_not(ctx: NodeContext, node):
    held = ctx.held(0)
    if held is None:
        return None
    out = ctx.add("logical_not", [held.value])
    return None if out is None else replace(held, value=out, dtype="bool")
