"""concat -> Concatenate, maximum -> Maximum, minimum -> Minimum; every input is brought to the first input's
held layout. (add is built with the other arithmetic, in algebra.py.)"""
from __future__ import annotations

import keras

from ...registry import register
from .algebra import common_perm
from .build import BuildContext, prefers


@register("keras", "backend", "concat")
@prefers("any")
def concat(ctx: BuildContext, node, inputs):
    perm = inputs[0].perm
    tensors = [ctx.hold(x, perm).tensor for x in inputs]
    layer = ctx.layer(keras.layers.Concatenate, axis=perm.index(ctx.attrs["axis"]))
    return ctx.output(layer(tensors), perm)


_EXTREMUM = {"maximum": keras.layers.Maximum, "minimum": keras.layers.Minimum}


@register("keras", "backend", "maximum", "minimum")
@prefers("any")
def extremum(ctx: BuildContext, node, inputs):
    """Keras's Maximum/Minimum broadcast equal-rank inputs as numpy does; every input is held as the first one
    shaped like the output (a broadcast operand moves, not the feature map)."""
    if any(x.rank != inputs[0].rank for x in inputs):
        ctx.unsupported(f"Keras merges inputs of one rank. Expected equal ranks. "
                        f"Received: ranks={[x.rank for x in inputs]}")
        return None
    perm = common_perm(ctx, inputs)
    tensors = [ctx.hold(x, perm).tensor for x in inputs]
    return ctx.output(ctx.layer(_EXTREMUM[node.op])(tensors), perm)
