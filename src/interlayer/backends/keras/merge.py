"""add -> Add, concat -> Concatenate; every input is brought to the first input's held layout."""
from __future__ import annotations

import keras

from ...registry import register
from .build import BuildContext, prefers


@register("keras", "backend", "add")
@prefers("any")
def add(ctx: BuildContext, node, inputs):
    perm = inputs[0].perm
    tensors = [ctx.hold(x, perm).tensor for x in inputs]
    return ctx.output(ctx.layer(keras.layers.Add)(tensors), perm)


@register("keras", "backend", "concat")
@prefers("any")
def concat(ctx: BuildContext, node, inputs):
    perm = inputs[0].perm
    tensors = [ctx.hold(x, perm).tensor for x in inputs]
    layer = ctx.layer(keras.layers.Concatenate, axis=perm.index(ctx.attrs["axis"]))
    return ctx.output(layer(tensors), perm)
