"""Comparisons and logic -> ``keras.ops`` calls (equal, less, logical_and, ...) in the functional graph; with a
constant operand, interlayer's ConstantOperand holding it as its weight, in its own dtype. Element-wise: inputs
are held alike (``algebra.same_layout``) and the bool result as they are."""
from __future__ import annotations

import keras

from ...registry import register
from .algebra import _KERAS_OPS, constant_operand, same_layout
from .build import BuildContext, prefers

_COMPARE = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
            "logical_xor")


@register("keras", "backend", *_COMPARE)
@prefers("any")
def compare(ctx: BuildContext, node, inputs):
    if ctx.attrs["constant"]:
        return constant_operand(ctx, node, inputs[0])
    (a, b), perm = same_layout(ctx, inputs)
    return ctx.output(getattr(keras.ops, _KERAS_OPS[node.op])(a.tensor, b.tensor), perm)


@register("keras", "backend", "logical_not")
@prefers("any")
def logical_not(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return ctx.output(keras.ops.logical_not(x.tensor), x.perm)
