"""``keras.ops`` comparisons and logic recorded in a functional graph (``ids != 0``, ``keras.ops.less(a, b)``,
``keras.ops.logical_and(m, n)``): the IR's bool ops, with a tensor or a constant operand."""
from __future__ import annotations

from keras.src.ops import numpy as numpy_ops

from ...registry import register
from .context import LayerContext, prefers
from .operations import binary_op

_COMPARE = {numpy_ops.Equal: "equal", numpy_ops.NotEqual: "not_equal", numpy_ops.Less: "less",
            numpy_ops.LessEqual: "less_equal", numpy_ops.Greater: "greater", numpy_ops.GreaterEqual: "greater_equal",
            numpy_ops.LogicalAnd: "logical_and", numpy_ops.LogicalOr: "logical_or",
            numpy_ops.LogicalXor: "logical_xor"}


@register("keras", "frontend", *_COMPARE)
@prefers("any")
def compare(ctx: LayerContext, operation, inputs):
    return binary_op(ctx, _COMPARE[type(operation)], inputs)


@register("keras", "frontend", numpy_ops.LogicalNot)
@prefers("any")
def logical_not(ctx: LayerContext, operation, inputs):
    return ctx.add("logical_not", [inputs[0]], perm=inputs[0].perm)
