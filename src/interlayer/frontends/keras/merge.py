"""Merging layers: Add, Concatenate. Every input is brought to the first input's held layout."""
from __future__ import annotations

import keras
from keras.src.ops.numpy import Add as AddOperation  # what `x + y` on two Keras tensors records

from ...registry import register
from .capture import LayerContext, prefers


@register("keras", "frontend", keras.layers.Add)
@prefers("any")
def add(ctx: LayerContext, layer, inputs):
    perm = inputs[0].perm
    return ctx.add("add", [ctx.hold(x, perm) for x in inputs], perm=perm)


@register("keras", "frontend", AddOperation)
@prefers("any")
def add_operation(ctx: LayerContext, operation, inputs):
    """``x + y`` between two Keras tensors of one shape (no constant, no broadcasting)."""
    shapes = [ctx.keras_shape(x) for x in inputs]
    if len(inputs) != 2 or shapes[0] != shapes[1]:
        ctx.unsupported(f"only the sum of two tensors of equal shape has an IR op. Expected 2 tensor inputs of one "
                        f"shape. Received: {len(inputs)} tensor input(s) of shapes {shapes}")
        return None
    return add(ctx, operation, inputs)


@register("keras", "frontend", keras.layers.Concatenate)
@prefers("any")
def concatenate(ctx: LayerContext, layer, inputs):
    perm = inputs[0].perm
    axis = ctx.keras_axis(inputs[0], int(layer.axis))
    if axis is None:
        return None
    return ctx.add("concat", [ctx.hold(x, perm) for x in inputs], {"axis": perm[axis]}, perm=perm)
