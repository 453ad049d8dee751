"""concat -> Concatenate, maximum -> Maximum, minimum -> Minimum; every input is brought to the first input's
held layout. Where a merge layer would misread its inputs (integers or bools, which it declares as floats; a
broadcast on Keras's axis 0, which it takes for the batch; different ranks), ``keras.ops.concatenate``,
``maximum`` and ``minimum`` calls instead. (add is built with the other arithmetic, in algebra.py.)"""
from __future__ import annotations

import functools

import keras

from ...registry import register
from .algebra import mergeable, same_layout
from .build import BuildContext, prefers


@register("keras", "backend", "concat")
@prefers("any")
def concat(ctx: BuildContext, node, inputs):
    perm = inputs[0].perm
    held = [ctx.hold(x, perm) for x in inputs]
    axis = perm.index(ctx.attrs["axis"])
    if all("float" in ctx.input_dtype(i) for i in range(len(held))):
        return ctx.output(ctx.layer(keras.layers.Concatenate, axis=axis)([x.tensor for x in held]), perm)
    return ctx.output(keras.ops.concatenate([x.tensor for x in held], axis=axis), perm)


_EXTREMUM = {"maximum": keras.layers.Maximum, "minimum": keras.layers.Minimum}


@register("keras", "backend", "maximum", "minimum")
@prefers("any")
def extremum(ctx: BuildContext, node, inputs):
    """Keras's Maximum/Minimum broadcast equal-rank inputs as numpy does; every input is held as the first one
    shaped like the output (a broadcast operand moves, not the feature map)."""
    held, perm = same_layout(ctx, inputs)
    if mergeable(ctx, held):
        return ctx.output(ctx.layer(_EXTREMUM[node.op])([x.tensor for x in held]), perm)
    function = getattr(keras.ops, node.op)
    return ctx.output(functools.reduce(function, [x.tensor for x in held]), perm)
