"""linear -> Dense; dropout -> Dropout; identity -> Identity."""
from __future__ import annotations

import keras

from ...registry import register
from .build import BuildContext, assign, prefers


@register("keras", "backend", "linear")
@prefers("identity")
def linear(ctx: BuildContext, node, inputs):
    x = inputs[0]
    if x.perm[-1] != x.rank - 1:  # Dense reads the Keras last axis; it must hold the IR's last axis
        x = ctx.identity(x)
    attrs = ctx.attrs
    layer = ctx.layer(keras.layers.Dense, units=attrs["out_features"], use_bias=attrs["bias"])
    y = layer(x.tensor)
    assign(layer.kernel, node.weights["weight"].T)  # (out, in) -> (in, out)
    if attrs["bias"]:
        assign(layer.bias, node.weights["bias"])
    return ctx.output(y, x.perm)


@register("keras", "backend", "dropout")
@prefers("any")
def dropout(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return ctx.output(ctx.layer(keras.layers.Dropout, rate=ctx.attrs["rate"])(x.tensor), x.perm)


@register("keras", "backend", "identity")
@prefers("any")
def identity(ctx: BuildContext, node, inputs):
    x = inputs[0]
    return ctx.output(ctx.layer(keras.layers.Identity)(x.tensor), x.perm)
